"""Exit codes and the errors that end a command with one clear line."""

from __future__ import annotations

import signal
from enum import IntEnum


class ExitStatus(IntEnum):
    """What ``buzzline`` returns to the shell."""

    OK = 0
    ERROR = 1  # a runtime error: a missing file, a broker that can't be reached, lost messages
    USAGE = 2  # bad flags or bad configuration
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    TERMINATED = 143  # SIGTERM (128 + SIGTERM)


class BuzzlineError(Exception):
    """An error a user can act on: shown as one line on stderr, no traceback."""

    exit_status = ExitStatus.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(BuzzlineError):
    """Bad command-line usage (exit 2)."""

    exit_status = ExitStatus.USAGE


class ConfigError(UsageError):
    """A bad configuration value, file or key (exit 2)."""


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM arrived. Carries the signal so the exit code can say which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_status(self) -> ExitStatus:
        if self.signum == signal.SIGTERM:
            return ExitStatus.TERMINATED
        return ExitStatus.INTERRUPTED
