"""The Rich console buzzline prints data on: no markup, no emoji codes, quiet on ``| head``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def data_console(**options: Any) -> Console:
    """A Console for stdout. Text is never read as markup or emoji codes (it is untrusted),
    nothing is auto-highlighted, and a closed pipe ends the command like every other write
    does (``run_guarded``: quietly, exit 0) instead of Rich's own exit 1."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console(highlight=False, markup=False, emoji=False, **options)
