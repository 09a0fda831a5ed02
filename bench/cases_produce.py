"""Start-up and produce: the figures of the produce issue."""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lib import BUZZLINE, PY, ROOT, Figure, case, produce_cmd, timed


@case("startup")
def startup(args: argparse.Namespace) -> Iterator[Figure]:
    runs = max(args.runs, 9)
    ours = timed([*BUZZLINE, "--version"], runs=runs)
    bare = timed([PY, "-c", "pass"], runs=runs)
    yield Figure(
        "buzzline --version",
        ours * 1000,
        "ms",
        "python -c pass",
        bare * 1000,
        "<= 200 ms",
        higher_is_better=False,
    )


@case("produce")
def produce(args: argparse.Namespace) -> Iterator[Figure]:
    n = 2_000_000
    original = 50_000
    anchor_s = timed(
        [PY, str(ROOT / "bench" / "anchors" / "original_producer.py"), str(original)],
        runs=args.runs,
    )
    anchor_rate = original / anchor_s
    for fmt, goal in (("text", ">= 1,000,000/s"), ("json", ">= 400,000/s")):
        seconds = timed(
            produce_cmd(n, fmt),
            runs=args.runs,
        )
        yield Figure(
            f"produce {fmt}, 2M msgs to /dev/null",
            n / seconds,
            "msg/s",
            "original's loop (re-created)",
            anchor_rate,
            goal,
        )


@case("pacing")
def pacing(args: argparse.Namespace) -> Iterator[Figure]:
    """500 messages at 0.01 s: from the first to the last, as produce itself reports it."""
    spans = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            done = subprocess.run(
                [
                    *BUZZLINE,
                    "produce",
                    "--interval",
                    "0.01",
                    "--count",
                    "500",
                    "-o",
                    str(Path(tmp) / "paced.log"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            spans.append(float(re.search(r" in ([0-9.]+) s", done.stderr).group(1)))  # type: ignore[union-attr]
    yield Figure(
        "produce --interval 0.01 --count 500",
        statistics.median(spans),
        "s",
        "ideal: 500 deadlines, 4.99 s",
        4.99,
        "within 2 % of 5 s",
        higher_is_better=False,
    )
