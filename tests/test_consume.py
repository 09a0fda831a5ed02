"""`buzzline consume`: formats, rules, summaries, hostile input, pipes, files and signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from buzzline_cli.cli import app
from buzzline_cli.consume import ConsumeCore
from buzzline_cli.render.alerts import JsonRenderer, PanelRenderer
from buzzline_cli.rules import Matcher, RuleSpec
from tests.conftest import assert_no_traceback, buzzline_cmd

runner = CliRunner()
COLORADO = "While in Colorado I just explored a hiking trail! It was majestic."
UTAH = "While in Utah I just watched a hidden waterfall! It was peculiar."
LOGURU = f"2026-12-04 13:44:13.015 | INFO     | __main__:main:168 - {COLORADO}"


def consume(args: list[str], stdin: str | bytes, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["consume", *args], input=stdin, env=env)


def test_plain_alerts() -> None:
    result = consume(["-k", "Colorado,hiking", "--format", "plain"], f"{UTAH}\n{COLORADO}\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ALERT [Colorado, hiking] {COLORADO}\n"


def test_every_input_format_is_understood() -> None:
    json_line = json.dumps({"seq": 1, "ts": "2026-12-04T13:44:13.015123Z", "message": COLORADO})
    log_line = f"2026-12-04 13:44:13.015 | INFO | {COLORADO}"
    stdin = "\n".join([COLORADO, json_line, log_line, LOGURU, "random colorado text"]) + "\n"
    result = consume(["-k", "Colorado", "--format", "json"], stdin)
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [o["message"] for o in out] == [COLORADO] * 4 + ["random colorado text"]
    assert out[1]["seq"] == 1 and out[1]["ts"] == "2026-12-04T13:44:13.015123Z"
    assert out[0]["line"] == 1 and out[4]["line"] == 5
    assert all(o["keywords"] == ["Colorado"] for o in out)


def test_json_matches_the_message_field_only() -> None:
    line = json.dumps({"seq": 1, "state": "Colorado", "message": UTAH})
    assert consume(["-k", "Colorado", "--format", "json"], line + "\n").stdout == ""


def test_named_rules_from_config(isolated_env: Path) -> None:
    (isolated_env / "buzzline.toml").write_text(
        '[[consume.rules]]\nname = "colorado-outdoors"\nall = ["Colorado"]\n'
        'any = ["flyfishing", "hiking", "wildlife encounter", "backpacking", "snowshoeing"]\n'
    )
    result = consume(["--format", "json"], f"{UTAH}\n{COLORADO}\nColorado alone\n")
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert out == [
        {
            "message": COLORADO,
            "line": 2,
            "keywords": ["Colorado", "hiking"],
            "rule": "colorado-outdoors",
        }
    ]
    assert "rules: colorado-outdoors 1" in result.stderr
    shown = runner.invoke(app, ["config"]).stdout
    assert 'name = "colorado-outdoors"' in shown


def test_all_flag() -> None:
    result = consume(["-k", "Utah,waterfall", "--all", "--format", "plain"], f"{UTAH}\nUtah only\n")
    assert result.stdout.count("ALERT") == 1


def test_show_all_and_no_rules() -> None:
    shown = consume(["-k", "Colorado", "--show-all", "--format", "plain"], f"{UTAH}\n{COLORADO}\n")
    assert shown.stdout == f"{UTAH}\nALERT [Colorado] {COLORADO}\n"
    tail = consume(["--format", "plain"], f"{UTAH}\n{COLORADO}\n")
    assert tail.stdout == f"{UTAH}\n{COLORADO}\n"
    assert "0 alerts" in tail.stderr


def test_summary_and_no_summary() -> None:
    stdin = "".join(json.dumps({"seq": s, "message": COLORADO}) + "\n" for s in [1, 2, 4, 4, 5])
    result = consume(["-k", "hiking", "--format", "json"], stdin)
    assert "5 messages" in result.stderr and "5 alerts" in result.stderr
    assert "keywords: hiking 5" in result.stderr
    assert "seq: 1 lost, 1 duplicated" in result.stderr
    quiet = consume(["-k", "hiking", "--no-summary"], stdin)
    assert quiet.stderr == ""


def test_markup_and_escape_sequences_are_shown_escaped() -> None:
    hostile = "Colorado [bold red]boom[/] \x1b[2J\x1b]0;owned\x07 \x9b31m \u202etxt"
    for fmt in ("plain", "panel"):
        result = consume(["-k", "Colorado", "--format", fmt], hostile + "\n")
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "\x9b" not in result.stdout and "\u202e" not in result.stdout
        assert "[bold red]boom[/]" in result.stdout
        assert "\\x1b[2J" in result.stdout
    as_json = consume(["-k", "Colorado", "--format", "json"], hostile + "\n").stdout
    assert "\x1b" not in as_json and "\x9b" not in as_json
    assert json.loads(as_json)["message"] == hostile


def test_bad_input_loses_nothing() -> None:
    junk = bytes(b for b in range(256) if b != 10) * 4
    huge = b"x" * (3 << 20) + b" Colorado\n"
    stdin = (
        b"\xff\xfe Colorado bad utf8\n"
        + b"Colorado\x00nul\n"
        + junk
        + b"\n"
        + huge
        + COLORADO.encode()
        + b"\n"
        + b"Colorado at the end, no newline"
    )
    result = runner.invoke(app, ["consume", "-k", "Colorado", "--format", "json"], input=stdin)
    assert result.exit_code == 0
    out = [json.loads(x) for x in result.stdout.splitlines()]
    messages = [o["message"] for o in out]
    assert messages[0].endswith("Colorado bad utf8") and "\ufffd" in messages[0]
    assert messages[1] == "Colorado\x00nul"
    assert COLORADO in messages
    assert messages[-1] == "Colorado at the end, no newline"
    assert "malformed lines: 3" in result.stderr  # bad UTF-8, NUL, the junk line
    assert "oversize lines: 1" in result.stderr


def test_max_line_bytes_cuts_for_matching() -> None:
    result = consume(
        ["-k", "Colorado", "--max-line-bytes", "20", "--format", "plain"],
        "x" * 30 + " Colorado\nColorado\n",
    )
    assert result.stdout == "ALERT [Colorado] Colorado\n"
    assert "oversize lines: 1" in result.stderr


def test_empty_input() -> None:
    result = consume(["-k", "Colorado"], "")
    assert result.exit_code == 0
    assert "0 messages" in result.stderr


@pytest.mark.parametrize("kind", ["missing", "directory", "below a file"])
def test_bad_paths_are_one_line_exit_1(isolated_env: Path, kind: str) -> None:
    path = isolated_env / "x.log"
    if kind == "directory":
        path.mkdir()
    elif kind == "below a file":
        path.write_text("x\n")
        path = path / "y.log"
    result = consume([str(path), "-k", "x"], "")
    assert result.exit_code == 1
    assert result.stderr.startswith("buzzline: error: cannot read")
    assert len(result.stderr.strip().splitlines()) == 1


def test_never_writes_into_what_it_reads(tmp_path: Path) -> None:
    log = tmp_path / "buzz.log"
    log.write_text(COLORADO + "\n")
    with log.open("a") as out:
        result = subprocess.run(
            buzzline_cmd("consume", str(log), "-k", "Colorado"),
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    assert b"never writes into what it reads" in result.stderr
    assert log.read_text() == COLORADO + "\n"


def golden_console() -> Console:
    return Console(
        file=StringIO(),
        width=60,
        color_system=None,
        legacy_windows=False,
        highlight=False,
        markup=False,
        emoji=False,
    )


def test_panel_golden() -> None:
    console = golden_console()
    matcher = Matcher(rules=[RuleSpec("colorado", all=("Colorado",), any=("hiking",))])
    core = ConsumeCore(matcher, PanelRenderer(console, matcher))
    core.feed(
        json.dumps({"ts": "2026-12-04T13:44:13.015123Z", "message": COLORADO}).encode() + b"\n"
    )
    assert console.file.getvalue() == (  # type: ignore[attr-defined]
        "╭─ colorado · 13:44:13 ────────────────────────────────────╮\n"
        "│ While in Colorado I just explored a hiking trail! It was │\n"
        "│ majestic.                                                │\n"
        "╰──────────────────────────────────────────────────────────╯\n"
    )


def test_panel_highlights_the_matched_words() -> None:
    console = Console(file=StringIO(), width=80, color_system="truecolor", force_terminal=True)
    matcher = Matcher(("hiking",))
    core = ConsumeCore(matcher, PanelRenderer(console, matcher))
    core.feed(COLORADO.encode() + b"\n")
    rendered = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[1;31mhiking\x1b[0m" in rendered


def test_json_renderer_keeps_input_fields() -> None:
    out = StringIO()
    core = ConsumeCore(Matcher(("hiking",)), JsonRenderer(out))
    core.feed(
        json.dumps({"seq": 7, "ts": "t", "state": "Colorado", "message": COLORADO}).encode() + b"\n"
    )
    assert json.loads(out.getvalue()) == {
        "seq": 7,
        "ts": "t",
        "state": "Colorado",
        "message": COLORADO,
        "keywords": ["hiking"],
    }


# -- real pipes, files and signals ------------------------------------------------------------


def start_consume(*args: str, stdin: int | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        buzzline_cmd("consume", *args), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def read_line(proc: subprocess.Popen[bytes], timeout: float = 10) -> bytes:
    """One line of the process's stdout, or fail (never hang) after ``timeout``."""
    assert proc.stdout is not None
    box: list[bytes] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not box:
        proc.kill()
        pytest.fail(f"no output within {timeout} s")
    return box[0]


def test_alert_arrives_while_the_pipe_stays_open() -> None:
    proc = start_consume("-k", "Colorado", "--format", "plain")
    assert proc.stdin is not None
    proc.stdin.write(COLORADO.encode() + b"\n")
    proc.stdin.flush()
    assert read_line(proc) == f"ALERT [Colorado, ] {COLORADO}\n".replace(", ]", "]").encode()
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0


def test_a_line_written_in_two_pieces_is_one_message() -> None:
    proc = start_consume("-k", "Colorado", "--format", "plain")
    assert proc.stdin is not None
    proc.stdin.write(b"While in Col")
    proc.stdin.flush()
    time.sleep(0.3)
    proc.stdin.write(b"orado I just explored a hiking trail! It was majestic.\n")
    out, err = proc.communicate(timeout=10)
    assert out == f"ALERT [Colorado] {COLORADO}\n".encode()
    assert b"1 messages" in err


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_print_the_summary(signum: int, code: int) -> None:
    proc = start_consume("-k", "Colorado", "--format", "plain")
    assert proc.stdin is not None
    proc.stdin.write(COLORADO.encode() + b"\n")
    proc.stdin.flush()
    read_line(proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == code
    assert_no_traceback(err)
    assert b"1 messages" in err and b"1 alerts" in err


def test_produce_into_consume_into_head_ends_quietly() -> None:
    shell = (
        f"{' '.join(buzzline_cmd('produce', '--interval', '0'))} | "
        f"{' '.join(buzzline_cmd('consume', '-k', 'Colorado', '--format', 'plain'))} | head -n 2"
    )
    result = subprocess.run(["bash", "-c", shell], capture_output=True, timeout=60, check=False)
    assert result.stdout.count(b"ALERT [Colorado]") == 2
    assert_no_traceback(result.stderr)


def seq_lines(first: int, last: int) -> bytes:
    return b"".join(
        json.dumps({"seq": s, "message": f"Colorado {s}"}).encode() + b"\n"
        for s in range(first, last + 1)
    )


def wait_for_output(proc: subprocess.Popen[bytes], n: int, got: list[int]) -> None:
    while len(got) < n:
        got.append(json.loads(read_line(proc))["seq"])


def test_follow_survives_rotation_truncation_and_recreation(tmp_path: Path) -> None:
    log = tmp_path / "buzz.log"
    log.write_bytes(seq_lines(1, 10))
    proc = start_consume(str(log), "-f", "-k", "Colorado", "--format", "json", stdin=None)
    got: list[int] = []
    try:
        wait_for_output(proc, 10, got)
        with log.open("ab") as f:  # appended, in two pieces
            f.write(seq_lines(11, 20)[:-15])
            f.flush()
            time.sleep(0.1)
            f.write(seq_lines(11, 20)[-15:])
        wait_for_output(proc, 20, got)
        log.rename(tmp_path / "buzz.log.1")  # rename rotation
        log.write_bytes(seq_lines(21, 30))
        wait_for_output(proc, 30, got)
        with log.open("r+b") as f:  # copytruncate
            f.truncate(0)
        log.write_bytes(seq_lines(31, 33))
        wait_for_output(proc, 33, got)
        log.unlink()  # delete and recreate
        time.sleep(0.2)
        log.write_bytes(seq_lines(34, 40))
        wait_for_output(proc, 40, got)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert got == list(range(1, 41))
    assert proc.returncode == 130
    assert b"seq: 0 lost, 0 duplicated" in err


def test_from_end_skips_what_is_there(tmp_path: Path) -> None:
    log = tmp_path / "buzz.log"
    log.write_bytes(seq_lines(1, 5))
    proc = start_consume(str(log), "--from-end", "-k", "Colorado", "--format", "json", stdin=None)
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    first = b""
    try:
        # Append until consume (which may still be starting) shows one: never one of 1..5.
        for seq in range(6, 60):
            with log.open("ab") as f:
                f.write(seq_lines(seq, seq))
            time.sleep(0.5)
            first = proc.stdout.readline()
            if first:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert first, "nothing appended was shown"
    assert json.loads(first)["seq"] >= 6
    assert proc.returncode == 143


def test_panels_into_head_end_quietly(tmp_path: Path) -> None:
    log = tmp_path / "many.log"
    log.write_text((COLORADO + "\n") * 5000)
    consume_cmd = " ".join(buzzline_cmd("consume", str(log), "-k", "Colorado", "--format", "panel"))
    result = subprocess.run(
        ["bash", "-c", f'{consume_cmd} | head -n 3; exit "${{PIPESTATUS[0]}}"'],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.count(b"\n") == 3
    assert_no_traceback(result.stderr)


def test_bulk_json_path_equals_line_by_line() -> None:
    from buzzline_cli.message import MessageFactory, Vocabulary

    factory = MessageFactory(Vocabulary(), format="json", seed=5)
    lines = factory.render(factory.draw(400))
    lines[100:100] = lines[90:95]  # some duplicates
    del lines[300:310]  # a gap
    chunk = b"".join(line + b"\n" for line in lines)
    outputs = []
    for bulk in (True, False):
        out = StringIO()
        core = ConsumeCore(Matcher(("Colorado", "hiking")), JsonRenderer(out))
        if not bulk:
            core._feed_produced_json = lambda chunk, lines: False  # type: ignore[method-assign]
        core.feed(chunk[: len(chunk) // 2 + 7].rsplit(b"\n", 1)[0] + b"\n")
        core.feed(chunk[len(chunk[: len(chunk) // 2 + 7].rsplit(b"\n", 1)[0]) + 1 :])
        s = core.summary
        outputs.append(
            (
                out.getvalue(),
                s.messages,
                s.alerts,
                s.seq.lost,
                s.seq.duplicates,
                dict(s.per_keyword()),
            )
        )
    assert outputs[0] == outputs[1]
    assert outputs[0][3:5] == (10, 5)
