"""The body of ``buzzline consume``: open the source, pick the renderer, run, summarize."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from buzzline_cli.consume import ConsumeCore, Renderer, run_consume
from buzzline_cli.errors import UsageError
from buzzline_cli.lifecycle import StopSignals, say
from buzzline_cli.rules import Matcher
from buzzline_cli.settings import Settings
from buzzline_cli.transports import is_kafka, open_source


def _same_file_as_stdout(source: str) -> bool:
    """True when stdout is the very file being read (consume must never feed on itself)."""
    if source == "-" or is_kafka(source):
        return False
    try:
        out = os.fstat(sys.stdout.fileno())
        inp = Path(source).expanduser().stat()
    except (OSError, ValueError, AttributeError):
        return False
    return (out.st_dev, out.st_ino) == (inp.st_dev, inp.st_ino)


def make_renderer(format: str, matcher: Matcher) -> Renderer:
    if format == "auto":
        format = "panel" if sys.stdout.isatty() else "plain"
    if format == "json":
        from buzzline_cli.render.alerts import JsonRenderer

        return JsonRenderer()
    if format == "plain":
        from buzzline_cli.render.alerts import PlainRenderer

        return PlainRenderer()
    from rich.console import Console

    from buzzline_cli.render.alerts import PanelRenderer

    console = Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
    return PanelRenderer(console, matcher)


def consume_command(settings: Settings, source: str, *, follow: bool, from_end: bool) -> int:
    options = settings.consume
    if _same_file_as_stdout(source):
        raise UsageError(f"stdout is {source} itself: consume never writes into what it reads")
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    matcher = options.matcher()
    renderer = make_renderer(options.format, matcher)
    stop = StopSignals().install()
    opened = open_source(
        source,
        follow=follow,
        from_end=from_end,
        max_line_bytes=options.max_line_bytes,
        kafka=settings.kafka,
    )
    core = ConsumeCore(matcher, renderer, show_all=options.show_all)
    summary = run_consume(opened, core, stop)
    if options.summary:
        from buzzline_cli.render.alerts import summary_lines

        for line in summary_lines(summary, source=opened.name):
            say(line)
    stop.raise_if_stopped()
    return 0
