"""How a command lives and ends: stop signals, broken pipes, one-line errors, exit codes.

Ctrl-C and SIGTERM become a flag (checked between messages) or, inside ``interruptible()``
blocks such as a sleep or a blocking read, an ``Interrupted`` exception. ``run_guarded`` turns
every way a command can end into an exit status and at most one line on stderr; with
``BUZZLINE_DEBUG=1`` the traceback is shown too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from types import FrameType

from buzzline_cli.errors import BuzzlineError, ExitStatus, Interrupted


def debug_enabled() -> bool:
    return os.environ.get("BUZZLINE_DEBUG", "") not in ("", "0", "false", "no")


class StopSignals:
    """Ctrl-C and SIGTERM as a flag, raised as ``Interrupted`` only where it is safe to wake.

    ``install`` takes over the two signals until ``restore`` (``run_guarded`` restores every
    installed instance when the command ends, so a library caller or a test runner gets its
    own handlers back).
    """

    _installed: list[StopSignals] = []  # noqa: RUF012 - a registry shared by design

    def __init__(self) -> None:
        self.signum: int | None = None
        self._interruptible = 0
        self._previous: dict[int, object] = {}

    @property
    def stopped(self) -> bool:
        return self.signum is not None

    def install(self) -> StopSignals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: leave handlers alone
                self._previous[signum] = signal.signal(signum, self._on_signal)
        StopSignals._installed.append(self)
        return self

    @classmethod
    def restore_all(cls) -> None:
        while cls._installed:
            cls._installed.pop().restore()

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        if self._interruptible and first:
            raise Interrupted(signum)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """Inside this block a stop signal raises ``Interrupted`` at once."""
        if self.signum is not None:
            raise Interrupted(self.signum)
        self._interruptible += 1
        try:
            yield
        finally:
            self._interruptible -= 1

    def sleep(self, seconds: float) -> bool:
        """Sleep, waking early on a stop signal. Returns False when stopped."""
        if seconds > 0:
            try:
                with self.interruptible():
                    time.sleep(seconds)
            except Interrupted:
                return False
        return self.signum is None

    def raise_if_stopped(self) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit-time flush stays quiet."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def say(message: str) -> None:
    """One line of talk on stderr, never failing (a closed or non-UTF-8 stderr included)."""
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    text = (message + "\n").encode(encoding, "backslashreplace").decode(encoding)
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text)
        sys.stderr.flush()


def run_guarded(body: Callable[[], int | None]) -> int:
    """Run a command's body; return its exit status, having printed at most one error line."""
    try:
        return _run(body)
    finally:
        StopSignals.restore_all()


def _run(body: Callable[[], int | None]) -> int:
    try:
        result = body()
        return int(result) if result is not None else ExitStatus.OK
    except Interrupted as stop:
        return stop.exit_status
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return ExitStatus.OK
    except BuzzlineError as error:
        if debug_enabled():
            traceback.print_exc()
        say(f"buzzline: error: {error.message}")
        return error.exit_status
    except Exception as error:  # the last line of defence: no traceback for users
        if debug_enabled():
            traceback.print_exc()
        detail = str(error) or type(error).__name__
        say(f"buzzline: error: {detail} (BUZZLINE_DEBUG=1 shows the traceback)")
        return ExitStatus.ERROR
