"""stats: a million-line log summarized, beside mawk counting one field and a naive loop;
and the peak memory on ten million lines (the input is streamed, never held)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lib import BUZZLINE, PY, ROOT, Figure, case, peak_rss_mb, produced, timed

# The field mawk counts: the state, in the text and the log format (one word of it).
MAWK_FIELD = {"text": 3, "log": 8}


def _mawk(path: Path, field: int) -> str:
    awk = shutil.which("mawk") or shutil.which("awk") or "awk"
    return f"{awk} -F' ' '{{c[${field}]++}} END {{for (k in c) print k, c[k]}}' {path}"


@case("stats")
def stats(args: argparse.Namespace) -> Iterator[Figure]:
    n = 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("text", "log"):
            path = produced(n, fmt)
            out = Path(tmp) / f"{fmt}.json"
            with out.open("wb") as sink:  # to a file, as a script would keep it
                ours = timed(
                    [*BUZZLINE, "stats", str(path), "--format", "json"],
                    runs=args.runs,
                    stdout=sink.fileno(),
                )
            mawk = timed(
                _mawk(path, MAWK_FIELD[fmt]) + f" > {tmp}/mawk.out", runs=args.runs, shell=True
            )
            naive = timed(
                [PY, str(ROOT / "bench" / "anchors" / "naive_stats.py"), str(path)], runs=1
            )
            yield Figure(
                f"stats {fmt}, 1M lines, all dimensions",
                ours * 1000,
                "ms",
                "mawk counting one field",
                mawk * 1000,
                "<= 500 ms",
                higher_is_better=False,
            )
            yield Figure(
                f"stats {fmt}, 1M lines (naive loop)",
                ours * 1000,
                "ms",
                "naive per-line Python loop",
                naive * 1000,
                "<= 500 ms",
                higher_is_better=False,
            )


@case("stats-memory")
def stats_memory(args: argparse.Namespace) -> Iterator[Figure]:
    path = produced(10_000_000, "log")
    ours = peak_rss_mb([*BUZZLINE, "stats", str(path), "--format", "json"])
    mawk = peak_rss_mb(_mawk(path, MAWK_FIELD["log"]), shell=True)
    yield Figure(
        "stats log, 10M lines: peak RSS",
        ours,
        "MB",
        "mawk counting one field",
        mawk,
        "<= 100 MB",
        higher_is_better=False,
    )
