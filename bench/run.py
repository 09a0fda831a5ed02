#!/usr/bin/env python3
"""buzzline's benchmarks: each figure beside its anchor, measured in the same run, as a ratio.

    python bench/run.py            # every case
    python bench/run.py produce    # cases whose name starts with "produce"
    python bench/run.py --list

Anchors are other tools (grep, mawk, kcat) or a re-creation of the original project's loop,
run on the same machine in the same minute. The machine is shared and noisy: each figure is
the median of --runs runs (default 3). Goals are printed beside the figures; they are goals,
not assertions: nothing here fails a build.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
PY = sys.executable
BUZZLINE = [PY, "-m", "buzzline_cli"]


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    anchor: str
    anchor_value: float | None
    goal: str
    higher_is_better: bool = True

    def ratio(self) -> str:
        if not self.anchor_value:
            return "-"
        return f"{self.value / self.anchor_value:.2f}x"


CASES: dict[str, Callable[[argparse.Namespace], Iterator[Figure]]] = {}


def case(
    name: str,
) -> Callable[
    [Callable[[argparse.Namespace], Iterator[Figure]]],
    Callable[[argparse.Namespace], Iterator[Figure]],
]:
    def register(
        fn: Callable[[argparse.Namespace], Iterator[Figure]],
    ) -> Callable[[argparse.Namespace], Iterator[Figure]]:
        CASES[name] = fn
        return fn

    return register


def timed(
    cmd: list[str] | str,
    *,
    runs: int,
    stdout: int | None = subprocess.DEVNULL,
    shell: bool = False,
    env: dict[str, str] | None = None,
) -> float:
    """Median wall time of ``runs`` runs of a whole command."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            cmd,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            check=True,
            shell=shell,
            env={**os.environ, **(env or {})},
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb(cmd: list[str] | str, *, shell: bool = False) -> float:
    """Peak resident memory of a command, via GNU time's %M (kilobytes)."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *(["bash", "-c", cmd] if shell else cmd)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=True,
        text=True,
    )
    return int(out.stderr.strip().splitlines()[-1]) / 1024


# -- start-up and produce ---------------------------------------------------------------------


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
            [*BUZZLINE, "produce", "--interval", "0", "--count", str(n), "--format", fmt],
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
    seconds = timed([*BUZZLINE, "produce", "--interval", "0.01", "--count", "500"], runs=args.runs)
    yield Figure(
        "produce --interval 0.01 --count 500",
        seconds,
        "s",
        "ideal 5.00 s",
        5.0,
        "within 2 % of 5 s (plus start-up)",
        higher_is_better=False,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only cases starting with these names")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--list", action="store_true", help="list the cases")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    DATA.mkdir(parents=True, exist_ok=True)
    chosen = [n for n in CASES if not args.names or any(n.startswith(x) for x in args.names)]
    print(f"{'figure':44} {'value':>14}  {'anchor':34} {'anchor value':>14} {'ratio':>7}  goal")
    for name in chosen:
        for fig in CASES[name](args):
            anchor = "-" if fig.anchor_value is None else f"{fig.anchor_value:,.1f}"
            print(
                f"{fig.name:44} {fig.value:>12,.1f} {fig.unit:<3} {fig.anchor:34} "
                f"{anchor:>14} {fig.ratio():>7}  {fig.goal}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
