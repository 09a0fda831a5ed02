"""Shared fixtures: every test runs with an isolated HOME, config dir and environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

ISOLATED_PREFIXES = ("BUZZLINE_", "KAFKA_BROKER_ADDRESS", "KAFKA_TOPIC", "XDG_CONFIG_HOME")
KEEP = ("BUZZLINE_TEST_KAFKA",)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh HOME and working directory; no BUZZLINE_* (or Kafka alias) variables."""
    for name in list(os.environ):
        if name.startswith(ISOLATED_PREFIXES) and name not in KEEP:
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    yield work


@pytest.fixture(scope="session")
def broker() -> Iterator[Any]:
    """A real Kafka-protocol broker (tansu on a free port, or $BUZZLINE_TEST_KAFKA).

    The Kafka tests are part of the suite: a broker that cannot be had fails them, it does
    not skip them.
    """
    from kafka_broker import start_broker

    try:
        started = start_broker()
    except Exception as exc:
        pytest.fail(f"no Kafka test broker: {exc}")
    try:
        yield started
    finally:
        started.close()


def buzzline_cmd(*args: str) -> list[str]:
    """The command line that runs buzzline in a subprocess (this interpreter, this tree)."""
    return [sys.executable, "-m", "buzzline_cli", *args]


def run_buzzline(
    args: Sequence[str],
    *,
    input: bytes | None = None,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        buzzline_cmd(*args),
        input=input,
        capture_output=True,
        timeout=timeout,
        env=full_env,
        check=False,
    )


def assert_no_traceback(stderr: bytes) -> None:
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")
