"""The benchmark harness: figures, anchors, timing helpers, and the registry of cases.

Cases live in ``cases_*.py`` beside this file and register themselves with ``@case``.
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
        ratio = self.value / self.anchor_value
        return f"{ratio:.2f}x" if ratio >= 0.01 else f"1/{1 / ratio:,.0f}"


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


def produce_cmd(count: int, fmt: str = "text", target: str = "-", *extra: str) -> list[str]:
    """``buzzline produce`` of ``count`` messages as fast as possible into ``target``."""
    return [
        *BUZZLINE,
        "produce",
        "--interval",
        "0",
        "--count",
        str(count),
        "--format",
        fmt,
        "-o",
        target,
        *extra,
    ]


def produced(lines: int, fmt: str = "text") -> Path:
    """A log of the default vocabulary (seed 1), made once and kept in bench/data."""
    path = DATA / f"{fmt}-{lines}.log"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        subprocess.run(
            produce_cmd(lines, fmt, str(partial), "--seed", "1"),
            check=True,
            stderr=subprocess.DEVNULL,
        )
        partial.rename(path)
    return path
