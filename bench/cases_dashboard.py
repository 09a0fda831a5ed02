"""consume --dashboard: catch-up throughput on a backlog, drawn in a pseudo-terminal.

The anchor is consume itself with plain output to a file, on the same 1M-line text log with
the same keywords, measured in the same run: drawing must not slow the reading down much.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import struct
import subprocess
import tempfile
import termios
import time
from collections.abc import Iterator
from pathlib import Path

from cases_consume import SEED_KEYWORDS, text_log
from lib import BUZZLINE, Figure, case, timed

LINES = 1_000_000


def run_in_pty(cmd: list[str], *, columns: int = 120, rows: int = 40) -> float:
    """Wall time of ``cmd`` with a pseudo-terminal of that size as stdout and stderr; what it
    draws is read (and dropped) as fast as it comes, like a terminal would."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        while True:
            try:
                if not os.read(master, 1 << 16):
                    break
            except OSError:  # EIO: every copy of the slave side is closed
                break
        code = proc.wait(timeout=600)
    finally:
        os.close(master)
    elapsed = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {code}")
    return elapsed


@case("dashboard")
def dashboard(args: argparse.Namespace) -> Iterator[Figure]:
    log = text_log(LINES)
    keywords = ",".join(SEED_KEYWORDS)
    plain, board = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plain.out"
        for _ in range(args.runs):  # interleaved, so the machine's noise hits both alike
            plain.append(
                timed(
                    f"{' '.join(BUZZLINE)} consume {log} -k '{keywords}' --format plain "
                    f"--no-summary > {out}",
                    runs=1,
                    shell=True,
                )
            )
            board.append(
                run_in_pty(
                    [*BUZZLINE, "consume", str(log), "-k", keywords, "--dashboard", "--no-summary"]
                )
            )
    yield Figure(
        "consume --dashboard, 1M-line log, in a pty",
        LINES / statistics.median(board),
        "msg/s",
        "consume --format plain > file",
        LINES / statistics.median(plain),
        ">= 0.8x",
    )
