"""`buzzline consume --dashboard`: sliding windows, the layout, refusals, a real terminal."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from buzzline_cli.cli import app
from buzzline_cli.consume import ConsumeCore
from buzzline_cli.parsing import SentenceParser
from buzzline_cli.render.dashboard import Dashboard, lag_text
from buzzline_cli.rules import Matcher, RuleSpec
from buzzline_cli.settings import Settings
from buzzline_cli.windows import RateRing, SlidingCounter, parse_duration
from tests.conftest import buzzline_cmd

runner = CliRunner()
COLORADO = "While in Colorado I just explored a hiking trail! It was majestic."
UTAH = "While in Utah I just watched a hidden waterfall! It was peculiar."
IDAHO = "While in Idaho I just tried a sunrise view! It was dreadful."
HOSTILE = "Colorado [bold red]boom[/] \x1b[2J\x1b]0;owned\x07 \x9b31m \u202etxt"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- sliding windows ---------------------------------------------------------------------------


def test_sliding_counter_expires_old_buckets_exactly() -> None:
    clock = FakeClock(0.0)
    counter: SlidingCounter[str] = SlidingCounter(60, clock=clock)
    counter.add(["a", "a"], 0.0)
    counter.add(["b"], 0.9)
    counter.add({"c": 3}, 30.5)
    assert counter.totals(59.999) == {"a": 2, "b": 1, "c": 3}
    assert counter.totals(60.0) == {"c": 3}  # the bucket of second 0 is 60 s old: gone
    counter.add(["a"], 61.0)
    assert counter.totals(89.999) == {"c": 3, "a": 1}
    assert counter.totals(90.0) == {"a": 1}  # by whole buckets: second 30 leaves at 90
    assert counter.totals(1000) == {}
    assert counter.all_time() == {"a": 3, "b": 1, "c": 3}  # the clock, not a given time


def test_sliding_counter_with_wide_buckets() -> None:
    counter: SlidingCounter[str] = SlidingCounter(600, bucket=10, clock=FakeClock(0.0))
    counter.add(["x"], 5)
    counter.add(["y"], 15)
    assert counter.totals(599.9) == {"x": 1, "y": 1}
    assert counter.totals(600) == {"y": 1}
    assert counter.totals(610) == {}
    with pytest.raises(ValueError):
        SlidingCounter(0)


def test_rate_ring() -> None:
    rates = RateRing(5, clock=FakeClock(0.0))
    rates.add(10, 0.5)
    assert rates.rate(0.5) == 20.0  # no complete second yet: the rate so far
    rates.add(7, 1.2)
    assert rates.series(1.5) == [10]
    assert rates.rate(2.1) == 7.0
    assert rates.series(2.1) == [10, 7]
    assert rates.series(100) == [0, 0, 0, 0]  # older than the ring: forgotten
    assert rates.rate(100) == 0.0


def test_parse_duration() -> None:
    assert parse_duration("60s") == 60
    assert parse_duration("5m") == 300
    assert parse_duration("1.5h") == 5400
    assert parse_duration("90") == 90
    for bad in ("soon", "-5s", "0", "5 parsecs"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_lag_text() -> None:
    assert lag_text(0.0004) == "0.4 ms"
    assert lag_text(0.25) == "250 ms"
    assert lag_text(3.44) == "3.4 s"
    assert lag_text(302) == "5 min 2 s"
    assert lag_text(-2) == "-2.0 s"
    assert lag_text(90000) == "1 d 1 h"


# -- the layout, on a fixed-size recording console with a fixed clock ---------------------------


def make_board(
    matcher: Matcher, *, window: float = 60
) -> tuple[Dashboard, ConsumeCore, FakeClock, FakeClock]:
    settings = Settings()
    parser = SentenceParser(settings.vocabulary.as_vocabulary(settings.produce.template))
    clock, wall = FakeClock(1000.0), FakeClock(1_800_000_000.0)  # 2027-01-15 08:00:00 UTC
    board = Dashboard(
        matcher, parser, source="buzz.log", window=window, clock=clock, wallclock=wall
    )
    core = ConsumeCore(matcher, board, show_all=True)
    board.attach(core.summary)
    return board, core, clock, wall


def draw(board: Dashboard, width: int = 100, height: int = 30) -> str:
    console = Console(
        file=StringIO(),
        width=width,
        height=height,
        record=True,
        color_system=None,
        legacy_windows=False,
    )
    console.print(board.frame(width, height), height=height)
    return console.export_text()


def lines(*messages: str) -> bytes:
    return "".join(m + "\n" for m in messages).encode()


def fed_board() -> tuple[Dashboard, FakeClock, FakeClock]:
    matcher = Matcher(
        ("Colorado", "hiking"),
        rules=[RuleSpec("colorado-outdoors", all=("Colorado",), any=("hiking",))],
    )
    board, core, clock, wall = make_board(matcher)
    core.feed(lines(COLORADO, UTAH, UTAH, IDAHO) * 3)  # identical lines share their events
    clock.now += 1.0
    wall.now += 1.0
    stamped = [
        json.dumps({"seq": seq, "ts": ts, "state": "Atlantis", "topic": "a sea", "message": m})
        for seq, ts, m in [
            (1, "2027-01-15T07:59:59Z", UTAH),  # 2 s behind the wall clock
            (2, "2027-01-15T07:59:59.500Z", COLORADO),  # 1.5 s
            (4, "2027-01-15T07:59:50Z", UTAH),  # 11 s; seq 3 lost
            (4, "2027-01-15T08:00:01Z", UTAH),  # 0 s; a duplicate
        ]
    ]
    core.feed(lines(*stamped))
    core.feed(lines(HOSTILE))
    core.feed(b"\xff\xfe broken\n")
    clock.now += 1.5
    return board, clock, wall


def test_full_layout() -> None:
    board, _, _ = fed_board()
    screen = draw(board)
    assert "buzzline consume · buzz.log · 0:00:02" in screen
    assert "messages 18 · alerts 5 · malformed 1" in screen
    assert "msg/s · last 2 s · peak 12/s" in screen
    assert "states · last 1 min" in screen and "topics · last 1 min" in screen
    bars = {
        m.group(1): int(m.group(2)) for m in re.finditer(r"│ (\w+) +[█▏▎▍▌▋▊▉]+ +(\d+) │", screen)
    }
    assert bars == {"Utah": 6, "Atlantis": 4, "Colorado": 3, "Idaho": 3}
    assert re.search(r"a hidden waterfall +█+ +6 │", screen)
    assert re.search(r"rule colorado-outdoors +4 +4 │", screen)
    assert re.search(r"keyword Colorado +5 +5 │", screen)
    assert re.search(r"keyword hiking +4 +4 │", screen)
    assert "lag p50 2.0 s" in screen and "lag p99 11.0 s (4 samples)" in screen
    assert "seq lost 1 · duplicated 1" in screen
    # the most recent alert first, its text escaped, never markup and never raw control bytes
    recent = screen[screen.index("recent alerts") :]
    assert "[Colorado] Colorado [bold red]boom[/] \\x1b[2J\\x1b]0;owned\\x07 \\x9b31m" in recent
    assert "\\u202etxt" in recent
    assert recent.index("boom") < recent.index("[colorado-outdoors] While in Colorado")
    assert "\x1b" not in screen and "\x9b" not in screen and "\u202e" not in screen


def test_rolling_counts_leave_the_window() -> None:
    board, clock, _ = fed_board()
    clock.now += 57.0  # the first batch is now 59.5 s old: still in
    assert "Idaho" in draw(board)
    clock.now += 0.5  # 60 s old: out; the JSON batch (59 s old) is still in
    screen = draw(board)
    assert "Idaho" not in screen and "Atlantis" in screen
    assert re.search(r"keyword Colorado +2 +5 │", screen)  # in the window, in all
    clock.now += 1.0
    screen = draw(board)
    assert "no messages in the last 1 min" in screen
    assert "messages 18 · alerts 5" in screen  # totals are for the whole run


def test_smaller_terminals_drop_panels() -> None:
    board, _, _ = fed_board()
    medium = draw(board, 79, 23)
    assert "states · last 1 min" in medium and "alerts" in medium
    assert "recent alerts" not in medium
    small = draw(board, 59, 15)
    assert "states" not in small and "recent" not in small
    assert "messages 18 · alerts 5 · malformed 1" in small
    assert "in the last 1 min: 18 messages" in small
    assert "seq lost 1 · duplicated 1" in small
    tiny = draw(board, 20, 3)  # never a crash, however small
    assert "buzzline" in tiny


def test_without_rules_it_shows_recent_messages() -> None:
    board, core, *_ = make_board(Matcher(), window=300)
    core.feed(lines(UTAH, IDAHO, "not from the template"))
    screen = draw(board)
    assert "states · last 5 min" in screen
    assert "no rules" in screen and "alerts 0" in screen
    recent = screen[screen.index("recent messages") :]
    assert recent.index("not from the template") < recent.index(IDAHO) < recent.index(UTAH)
    assert "lag: no timestamps in this input" in screen and "seq: none in this input" in screen
    empty, *_ = make_board(Matcher(("x",)))
    assert "no messages in the last 1 min" in draw(empty)


def test_untemplated_text_is_counted_apart() -> None:
    board, core, *_ = make_board(Matcher(("Colorado",)))
    core.feed(lines("Colorado!", "just some text"))
    screen = draw(board)
    assert "2 messages not from the template" in screen
    assert "messages 2 · alerts 1" in screen


def test_export_writes_the_last_frame(tmp_path: Path) -> None:
    from buzzline_cli.render.dashboard import save_snapshot

    board, _, _ = fed_board()
    out = tmp_path / "snap.svg"
    save_snapshot(board.frame(100, 30), out, (100, 30))
    svg = out.read_text()
    assert svg.startswith("<svg") and "Utah" in svg and "\x1b" not in svg


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dashboard"], "--dashboard needs a terminal, and stdout is not one"),
        (["--dashboard", "--format", "json"], "--dashboard draws on the terminal: it cannot"),
        (["--format", "plain", "--dashboard"], "--dashboard draws on the terminal: it cannot"),
        (["--window", "5m"], "--window only applies to --dashboard"),
        (["--dashboard", "--window", "soon"], "--window: not a duration: 'soon'"),
        (["--dashboard", "--refresh", "10"], "--refresh must be more than 0 and at most 4"),
        (["--dashboard", "--export", "x.png"], "--export writes .svg, .html, .txt files"),
    ],
)
def test_refusals_are_one_line_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["consume", "-k", "Colorado", *args], input=COLORADO + "\n")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("buzzline: error: " + message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_plain_consume_does_not_import_rich() -> None:
    code = (
        "import sys\n"
        "from buzzline_cli.cli import app\n"
        "sys.argv = ['buzzline', 'consume', '-k', 'Colorado', '--format', 'plain']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(str(sorted(m for m in sys.modules if m.startswith('rich.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=(COLORADO + "\n").encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.stdout == f"ALERT [Colorado] {COLORADO}\n".encode()
    assert result.stderr.endswith(b"[]"), result.stderr


# -- end to end, in a real pseudo-terminal ----------------------------------------------------

CSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\r")


class Terminal:
    """A child process on a pseudo-terminal of a given size, and what it has drawn."""

    def __init__(self, argv: list[str], columns: int, rows: int) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm-256color"
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal, stdin, stdout, stderr
            try:
                self._resize(0, columns, rows)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.output = bytearray()
        self.status: int | None = None

    @staticmethod
    def _resize(fd: int, columns: int, rows: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def resize(self, columns: int, rows: int) -> int:
        """Resize the terminal (the child gets SIGWINCH); returns the output offset now."""
        self._resize(self.fd, columns, rows)
        return len(self.output)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:  # EIO: the child side is closed
            data = b""
        self.output += data
        return bool(data)

    def text(self, start: int = 0) -> str:
        return CSI.sub(b"", bytes(self.output[start:])).decode(errors="replace")

    def wait_for(self, check: Callable[[str], bool], start: int = 0, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(self.text(start)):
                return
            if not self._read(0.1):
                break
        if not check(self.text(start)):
            self.kill()
            pytest.fail(
                f"not on the screen in {timeout} s; the last output:\n{self.text()[-3000:]}"
            )

    def exit_code(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                while self._read(0.05):  # what is still in the pty
                    pass
                return self.status
            self._read(0.05)
        self.kill()
        pytest.fail(f"still running after {timeout} s")

    def kill(self) -> None:
        if self.status is None:  # never signal a pid that was reaped (and may be reused)
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, signal.SIGKILL)
                self.status = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])

    def close(self) -> None:
        os.close(self.fd)


def test_dashboard_in_a_real_terminal(tmp_path: Path) -> None:
    log = tmp_path / "buzz.log"
    log.write_text((COLORADO + "\n") * 2 + (UTAH + "\n") * 3)
    snapshot = tmp_path / "snap.svg"
    term = Terminal(
        buzzline_cmd(
            "consume", str(log), "-f", "--dashboard", "-k", "Colorado", "--export", str(snapshot)
        ),
        100,
        30,
    )
    try:
        term.wait_for(lambda s: "messages 5 · alerts 2" in s)
        with log.open("a") as f:  # live: appended lines show up
            f.write((IDAHO + "\n") * 6 + COLORADO + "\n")
        mark = len(term.output)
        term.wait_for(
            lambda s: (
                "messages 12 · alerts 3" in s
                and re.search(r"Idaho +█+ +6 ", s) is not None
                and re.search(r"keyword Colorado +3 +3 ", s) is not None
            ),
            start=mark,
        )
        mark = term.resize(50, 12)  # re-laid for a small terminal: header and totals only
        term.wait_for(lambda s: "in the last 1 min: 12 messages" in s, start=mark)
        mark = term.resize(100, 30)
        term.wait_for(lambda s: "recent alerts" in s, start=mark)
        assert "\x1b[?1049h" in term.output.decode(errors="replace")  # the alternate screen
        mark = len(term.output)
        os.write(term.fd, b"\x03")  # Ctrl-C, through the terminal's line discipline
        assert term.exit_code() == 130
    finally:
        term.kill()
        term.close()
    tail = bytes(term.output[mark:])
    restored = tail.rindex(b"\x1b[?1049l")  # the alternate screen left, the cursor shown
    assert b"\x1b[?25h" in tail
    summary = term.text(mark + restored)
    assert "buzzline: 12 messages from" in summary and "3 alerts" in summary
    assert "Traceback" not in term.text()
    svg = snapshot.read_text()
    assert svg.startswith("<svg") and "Idaho" in svg


def test_dashboard_over_a_pipe_ends_with_its_input(tmp_path: Path) -> None:
    data = tmp_path / "in.log"
    data.write_text((COLORADO + "\n") * 50 + (UTAH + "\n") * 50)
    shell = f"cat {data} | {' '.join(buzzline_cmd('consume', '--dashboard', '-k', 'hiking'))}"
    term = Terminal(["bash", "-c", shell], 90, 25)
    try:
        code = term.exit_code()
    finally:
        term.kill()
        term.close()
    assert code == 0, term.text()
    out = term.output.decode(errors="replace")
    assert out.index("\x1b[?1049h") < out.rindex("\x1b[?1049l") < out.index("buzzline: 100")
    assert "buzzline: 100 messages from stdin" in term.text() and "50 alerts" in term.text()
