"""`buzzline produce`, in-process (CliRunner) and over real pipes, files and signals."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from buzzline_cli.cli import app
from buzzline_cli.lifecycle import StopSignals
from buzzline_cli.message import MessageFactory, Vocabulary
from buzzline_cli.producer import produce
from tests.conftest import assert_no_traceback, buzzline_cmd, run_buzzline

runner = CliRunner()


def test_count_and_formats() -> None:
    for fmt in ("text", "json", "log"):
        result = runner.invoke(app, ["produce", "--interval", "0", "--count", "5", "--format", fmt])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert len(lines) == 5
    seqs = [
        json.loads(x)["seq"]
        for x in runner.invoke(
            app, ["produce", "--interval", "0", "--count", "3", "--format", "json"]
        ).stdout.splitlines()
    ]
    assert seqs == [1, 2, 3]


def test_seed_gives_byte_identical_output() -> None:
    args = ["produce", "--interval", "0", "--count", "100", "--seed", "42"]
    assert runner.invoke(app, args).stdout_bytes == runner.invoke(app, args).stdout_bytes


def test_custom_vocabulary_and_template(isolated_env: Path) -> None:
    (isolated_env / "buzzline.toml").write_text(
        '[vocabulary]\nstates = ["Bavaria"]\nactions = ["hiked"]\ntopics = ["the Alps"]\n'
        'adjectives = ["grand"]\n[produce]\ntemplate = "{state}: {action} {topic}, {adjective}"\n'
    )
    result = runner.invoke(app, ["produce", "--interval", "0", "--count", "2"])
    assert result.stdout.splitlines() == ["Bavaria: hiked the Alps, grand"] * 2


def test_file_sink_appends_and_creates_folders(isolated_env: Path) -> None:
    target = isolated_env / "logs" / "deep" / "buzz.log"
    for _ in range(2):
        result = runner.invoke(
            app, ["produce", "--interval", "0", "--count", "3", "--to", str(target)]
        )
        assert result.exit_code == 0, result.output
        assert "wrote 3 messages" in result.stderr
    assert len(target.read_text().splitlines()) == 6


def test_unwritable_sink_is_one_line_exit_1(isolated_env: Path) -> None:
    result = runner.invoke(app, ["produce", "--count", "1", "--to", str(isolated_env)])
    assert result.exit_code == 1
    assert result.stderr.startswith("buzzline: error: cannot write to")
    assert len(result.stderr.strip().splitlines()) == 1


def test_duration_stops() -> None:
    result = runner.invoke(app, ["produce", "--interval", "0.05", "--duration", "0.3"])
    assert result.exit_code == 0
    assert 1 <= len(result.stdout.splitlines()) <= 7


class FakeTime:
    """A clock that moves only when slept on, or when a write 'takes' time."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now


class SlowSink:
    """Each write takes 3 ms of fake time; records when each message arrived."""

    name = "slow"
    keyed = False

    def __init__(self, clock: FakeTime) -> None:
        self.clock = clock
        self.arrivals: list[float] = []
        self.flushes = 0

    def write(self, lines: object, keys: object = None) -> None:
        self.arrivals.append(self.clock.now)
        self.clock.now += 0.003

    def flush(self) -> None:
        self.flushes += 1

    def close(self) -> None:
        pass


def test_pacing_uses_absolute_deadlines(monkeypatch: object) -> None:
    clock = FakeTime()
    stop = StopSignals()

    def sleep(seconds: float) -> bool:
        clock.now += max(0.0, seconds)
        return True

    stop.sleep = sleep  # type: ignore[method-assign]
    sink = SlowSink(clock)
    produce(
        MessageFactory(Vocabulary(), seed=1),
        sink,
        interval=0.01,
        count=500,
        stop=stop,
        monotonic=clock.monotonic,
    )
    # message i goes out at start + i * interval: the 3 ms writes do not accumulate drift
    assert sink.arrivals[0] == 100.0
    assert abs(sink.arrivals[-1] - (100.0 + 499 * 0.01)) < 1e-9
    assert sink.flushes >= 500  # every paced message is flushed


def test_paced_output_arrives_one_line_at_a_time() -> None:
    proc = subprocess.Popen(
        buzzline_cmd("produce", "--interval", "0.3", "--count", "4"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    arrivals = []
    for _ in range(4):
        line = proc.stdout.readline()
        assert line.startswith(b"While in ")
        arrivals.append(time.monotonic())
    assert proc.wait(timeout=10) == 0
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # a burst at the end (a buffer filling) would give gaps near 0; pacing gives ~0.3 s
    assert all(gap > 0.1 for gap in gaps), gaps


def test_head_ends_quietly() -> None:
    shell = f"{' '.join(buzzline_cmd('produce', '--interval', '0'))} | head -n 3"
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {shell}"], capture_output=True, timeout=30, check=False
    )
    assert result.stdout.count(b"\n") == 3
    assert result.stderr == b""
    assert result.returncode == 0


def _signal_test(signum: int, expected: int) -> None:
    proc = subprocess.Popen(
        buzzline_cmd("produce", "--interval", "0.1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == expected
    assert_no_traceback(err)
    assert all(line.startswith(b"While in ") and line.endswith(b".") for line in out.splitlines())


def test_ctrl_c_exits_130() -> None:
    _signal_test(signal.SIGINT, 130)


def test_sigterm_exits_143() -> None:
    _signal_test(signal.SIGTERM, 143)


def test_ctrl_c_while_writing_fast_keeps_whole_lines(tmp_path: Path) -> None:
    target = tmp_path / "fast.log"
    proc = subprocess.Popen(
        buzzline_cmd("produce", "--interval", "0", "--to", str(target)), stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while (not target.exists() or target.stat().st_size < 100_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert_no_traceback(err)
    data = target.read_bytes()
    assert data.endswith(b"\n")
    assert all(line.startswith(b"While in ") for line in data.splitlines())


def test_console_without_utf8_does_not_crash(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[vocabulary]\nstates = ["Québec ☃"]\n')
    result = run_buzzline(
        ["--config", str(config), "produce", "--interval", "0", "--count", "2"],
        env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"},
    )
    assert result.returncode == 0
    assert result.stdout.decode().count("Québec ☃") == 2
    bad = run_buzzline(
        ["--config", str(config), "produce", "--format", "é"],
        env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
    )
    assert bad.returncode == 2
    assert_no_traceback(bad.stderr)


def test_debug_shows_traceback(tmp_path: Path) -> None:
    result = run_buzzline(
        ["produce", "--count", "1", "--to", str(tmp_path)], env={"BUZZLINE_DEBUG": "1"}
    )
    assert result.returncode == 1
    assert b"Traceback" in result.stderr


def test_version_and_help() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.stdout.strip().startswith("buzzline ")
    helptext = runner.invoke(app, ["--help"]).stdout
    for command in ("produce", "config"):
        assert command in helptext
        sub = runner.invoke(app, [command, "--help"]).stdout
        assert "Example: buzzline " in sub.strip().splitlines()[-1]


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "buzzline_cli", "--version"],
        capture_output=True,
        check=False,
        env={**os.environ},
    )
    assert result.returncode == 0
    assert result.stdout.startswith(b"buzzline ")


def test_version_pays_for_no_heavy_imports() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "buzzline_cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    for heavy in ("pydantic", "pydantic_settings", "rich.console", "confluent_kafka"):
        assert heavy not in imported, f"--version imported {heavy}"
