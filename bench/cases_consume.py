"""consume: alert latency (pipe and followed file) and catch-up throughput against grep."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from lib import BUZZLINE, PY, ROOT, Figure, case, produced, timed

from buzzline_cli import vocabulary

SEED_KEYWORDS = list(vocabulary.SEED_KEYWORDS)  # the seed README's six keywords


def text_log(lines: int = 1_000_000) -> Path:
    """The seed-vocabulary text log the throughput figures read (made once, cached)."""
    return produced(lines, "text")


def _lags(proc: subprocess.Popen[bytes], n: int) -> list[float]:
    """Milliseconds from each alert's ``ts`` to the moment its line could be read."""
    assert proc.stdout is not None
    lags = []
    for _ in range(n):
        line = proc.stdout.readline()
        if not line:
            break
        now = time.time()
        ts = json.loads(line)["ts"]
        lags.append((now - datetime.fromisoformat(ts).timestamp()) * 1000)
    return lags


def _pctl(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def paced_producer(
    n: int, target: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``buzzline produce`` of ``n`` JSON messages at 100 msg/s into ``target``."""
    return subprocess.Popen(
        [
            *BUZZLINE,
            "produce",
            "--interval",
            "0.01",
            "--count",
            str(n),
            "--format",
            "json",
            "-o",
            target,
        ],
        stderr=subprocess.DEVNULL,
        env=env,
    )


def _anchor_lags(path: Path, n: int) -> list[float]:
    """The original's 1 s polling consumer on a file written at 100 msg/s."""
    path.touch()
    producer = paced_producer(n, str(path))
    time.sleep(0.2)
    anchor = subprocess.Popen(
        [PY, str(ROOT / "bench" / "anchors" / "original_consumer.py"), str(path), "While"],
        stdout=subprocess.PIPE,
    )
    lags = []
    assert anchor.stdout is not None
    try:
        for _ in range(n - 50):
            line = anchor.stdout.readline()
            now = time.time()
            ts = json.loads(line.split(b"message! ", 1)[1])["ts"]
            lags.append((now - datetime.fromisoformat(ts).timestamp()) * 1000)
    finally:
        anchor.kill()
        producer.wait()
    return lags


@case("consume-latency")
def latency(args: argparse.Namespace) -> Iterator[Figure]:
    n = 500
    with tempfile.TemporaryDirectory() as tmp:
        anchor = _anchor_lags(Path(tmp) / "anchor.log", n)
        shell = (
            f"{' '.join(BUZZLINE)} produce --interval 0.01 --count {n} --format json | "
            f"{' '.join(BUZZLINE)} consume -k While --format json --no-summary"
        )
        proc = subprocess.Popen(["bash", "-c", shell], stdout=subprocess.PIPE)
        pipe = _lags(proc, n)
        proc.wait()
        log = Path(tmp) / "follow.log"
        log.touch()
        consumer = subprocess.Popen(
            [
                *BUZZLINE,
                "consume",
                "-f",
                str(log),
                "-k",
                "While",
                "--format",
                "json",
                "--no-summary",
            ],
            stdout=subprocess.PIPE,
        )
        time.sleep(1.0)  # let it start and watch the file
        producer = paced_producer(n, str(log))
        followed = _lags(consumer, n)
        producer.wait()
        consumer.terminate()
        consumer.wait()
    goals = {"pipe": "<= 5 ms", "followed file": "<= 50 ms"}
    for where, lags in (("pipe", pipe), ("followed file", followed)):
        for q, goal in ((0.5, "-"), (0.99, goals[where])):
            p = f"p{round(q * 100)}"
            yield Figure(
                f"alert latency, {where}, {p}",
                _pctl(lags, q),
                "ms",
                f"original (1 s poll) {p}",
                _pctl(anchor, q),
                goal,
                higher_is_better=False,
            )


@case("consume-throughput")
def throughput(args: argparse.Namespace) -> Iterator[Figure]:
    log = text_log()
    with tempfile.TemporaryDirectory() as tmp:
        keywords = Path(tmp) / "keywords"
        keywords.write_text("\n".join(SEED_KEYWORDS) + "\n")
        grep_out, ours_out = Path(tmp) / "grep.out", Path(tmp) / "ours.json"
        grep = shutil.which("grep") or "grep"
        # grep writing to a file (to /dev/null it would stop at the first match)
        grep_s = timed(
            f"{grep} -i -w -F -f {keywords} {log} > {grep_out}", runs=args.runs, shell=True
        )
        ours_s = timed(
            f"{' '.join(BUZZLINE)} consume {log} -k '{','.join(SEED_KEYWORDS)}' "
            f"--format json --no-summary > {ours_out}",
            runs=args.runs,
            shell=True,
        )
        grep_lines = sum(1 for _ in grep_out.open("rb"))
        our_lines = sum(1 for _ in ours_out.open("rb"))
        same = "same" if grep_lines == our_lines else f"DIFFERENT: {our_lines} vs {grep_lines}"
        yield Figure(
            f"consume 1M-line log -> json ({same} {our_lines:,} matches)",
            ours_s,
            "s",
            "grep -i -w -F -f keywords",
            grep_s,
            "<= 1.5x grep",
            higher_is_better=False,
        )
        small = text_log(100_000)
        panel_s = timed(
            f"{' '.join(BUZZLINE)} consume {small} -k '{','.join(SEED_KEYWORDS)}' "
            f"--format panel --no-summary > {Path(tmp) / 'panels.txt'}",
            runs=args.runs,
            shell=True,
            env={"COLUMNS": "100"},
        )
        alerts = sum(
            1 for line in (Path(tmp) / "panels.txt").open("rb") if line.startswith("╭".encode())
        )
        yield Figure(
            "consume --format panel (100k lines)",
            alerts / panel_s,
            "alerts/s",
            "goal",
            2000.0,
            ">= 2,000 alerts/s",
        )
    os.environ.pop("COLUMNS", None)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _idle_cpu(cmd: list[str], seconds: float = 5.0) -> float:
    """Per cent of one core a command uses while the file it follows stays idle."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)  # start-up is not idling
        before = _cpu_seconds(proc.pid)
        time.sleep(seconds)
        return (_cpu_seconds(proc.pid) - before) / seconds * 100
    finally:
        proc.terminate()
        proc.wait()


@case("consume-idle")
def idle(args: argparse.Namespace) -> Iterator[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "idle.log"
        log.write_text("While in Utah I just watched a sunrise view! It was majestic.\n")
        ours = statistics.median(
            [
                _idle_cpu([*BUZZLINE, "consume", "-f", str(log), "-k", "Colorado"])
                for _ in range(args.runs)
            ]
        )
        tail = statistics.median([_idle_cpu(["tail", "-F", str(log)]) for _ in range(args.runs)])
    yield Figure(
        "consume -f on an idle file, CPU",
        ours,
        "%",
        "tail -F, CPU",
        tail or None,
        "<= 1 % of a core",
        higher_is_better=False,
    )
