"""Start-up and produce: the figures of the produce issue."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from lib import BUZZLINE, PY, ROOT, Figure, case, timed


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
