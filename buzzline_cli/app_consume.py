"""The body of ``buzzline consume``: open the source, pick the renderer, run, summarize."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from buzzline_cli.consume import ConsumeCore, Renderer, run_consume
from buzzline_cli.errors import UsageError
from buzzline_cli.lifecycle import StopSignals, say
from buzzline_cli.rules import Matcher
from buzzline_cli.settings import Settings
from buzzline_cli.transports import KafkaRead, is_kafka, open_source

if TYPE_CHECKING:
    from buzzline_cli.render.dashboard import Dashboard, DashboardOptions


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
    from buzzline_cli.render.alerts import PanelRenderer
    from buzzline_cli.render.console import data_console

    console = data_console(soft_wrap=False)
    return PanelRenderer(console, matcher)


def make_dashboard(settings: Settings, board: DashboardOptions, matcher: Matcher) -> Dashboard:
    """The --dashboard renderer; refused (exit 2) unless stdout is a terminal."""
    from buzzline_cli.render.dashboard import Dashboard, make_parser, require_terminal

    require_terminal()
    vocabulary = settings.vocabulary.as_vocabulary(settings.produce.template)
    return Dashboard(
        matcher,
        make_parser(vocabulary),
        window=board.window,
        refresh=board.refresh,
        export=board.export,
    )


def consume_command(
    settings: Settings,
    source: str,
    *,
    follow: bool,
    from_end: bool,
    dashboard: DashboardOptions | None = None,
    kafka_read: KafkaRead | None = None,
) -> int:
    options = settings.consume
    if not is_kafka(source) and kafka_read is not None and kafka_read != KafkaRead():
        raise UsageError("--group, --from-beginning and --exit-at-end are for kafka:// sources")
    if _same_file_as_stdout(source):
        raise UsageError(f"stdout is {source} itself: consume never writes into what it reads")
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    matcher = options.matcher()
    board = None if dashboard is None else make_dashboard(settings, dashboard, matcher)
    renderer = board if board is not None else make_renderer(options.format, matcher)
    stop = StopSignals().install()
    opened = open_source(
        source,
        follow=follow,
        from_end=from_end,
        max_line_bytes=options.max_line_bytes,
        kafka=settings.kafka,
        kafka_read=kafka_read,
    )
    # The dashboard counts every message, so every message must reach it.
    core = ConsumeCore(matcher, renderer, show_all=options.show_all or board is not None)
    if board is None:
        summary = run_consume(opened, core, stop)
    else:
        board.attach(core.summary, opened.name)
        with board.showing():  # the terminal is restored before the summary is printed
            summary = run_consume(opened, core, stop)
    if options.summary:
        from buzzline_cli.render.alerts import summary_lines

        for line in summary_lines(summary, source=opened.name):
            say(line)
    if board is not None:
        board.finish()
    stop.raise_if_stopped()
    return 0
