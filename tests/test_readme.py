"""The README's two setup commands work, so they can't rot.

The run command is executed for real in a copy of the project (a fresh virtual environment,
`pip install .`, the main job), stopped with Ctrl-C once it has shown output. The test command
is the one `.ci/run` runs (it is this very test suite, so it is not run again from inside it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def readme_command(marker: str) -> str:
    """The command as .ci/run sees it (the same extraction script)."""
    out = subprocess.run(
        ["python3", str(ROOT / ".ci" / "readme_command.py"), marker],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.rstrip("\n")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = readme_command("test-command")
    assert 'pip install -e ".[dev]"' in command and "pytest" in command
    assert re.search(r"<!-- test-command -->\s*```bash\n" + re.escape(command) + "\n```", README)
    ci = (ROOT / ".ci" / "run").read_text()
    # .ci/run takes the command from the README with the same script, then runs it
    assert "cmd=$(python3 .ci/readme_command.py test-command)" in ci
    assert 'bash -c "$cmd"' in ci


def test_readme_run_command_works_on_a_fresh_copy(tmp_path: Path) -> None:
    copy = tmp_path / "buzzline"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "__pycache__", "*.egg-info", "build", "data", ".*_cache"
        ),
    )
    proc = subprocess.Popen(
        ["bash", "-c", readme_command("run-command")],
        cwd=copy,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        deadline = time.monotonic() + 240
        shown = b""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith(b"ALERT ["):
                shown = line
                break
        assert shown, "the main job raised no alert"
        assert b"While in " in shown and (b"Colorado" in shown or b"hiking" in shown)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err
    assert b"alerts" in err  # consume's summary, printed on Ctrl-C
