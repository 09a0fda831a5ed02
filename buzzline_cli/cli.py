"""The ``buzzline`` command: a Typer app of thin commands over the library.

Each command parses its flags, loads the settings (passing only the flags the user gave),
opens its source and sink, calls the core and renders. Heavy imports happen inside the
commands, so ``buzzline --version`` and ``--help`` start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from buzzline_cli import __version__

if TYPE_CHECKING:
    from buzzline_cli.settings import LoadedSettings

app = typer.Typer(
    name="buzzline",
    help="A realistic stream of activity messages, real-time alerts on it, and a summary.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    config_path: Path | None = None


STATE = _State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"buzzline {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],  # noqa: UP045 - Typer reads the annotation at run time
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
    config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--config",
            help="TOML config file (else BUZZLINE_CONFIG, ./buzzline.toml, "
            "~/.config/buzzline/config.toml).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """buzzline: produce a stream, raise alerts on it, summarize what was saved."""
    STATE.config_path = config


def _given(**flags: Any) -> dict[str, Any]:
    """Only the flags the user actually gave, so an unset flag never hides an env var."""
    return {key: value for key, value in flags.items() if value is not None}


def _run(body: Any) -> None:
    from buzzline_cli.lifecycle import run_guarded

    code = run_guarded(body)
    if code:
        raise typer.Exit(code)


def _load(**sections: dict[str, Any]) -> LoadedSettings:
    from buzzline_cli.settings import load_settings

    return load_settings(sections, config_path=STATE.config_path)


@app.command(epilog="Example: buzzline produce --interval 0.5 --count 10 --format json")
def produce(
    to: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--to",
            "-o",
            help="Sink: - (stdout, default), a file (appended), kafka://HOST:PORT/TOPIC.",
        ),
    ] = None,
    interval: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(help="Seconds between messages (default 1.0; 0 = as fast as possible)."),
    ] = None,
    count: Annotated[Optional[int], typer.Option(help="Stop after N messages.")] = None,  # noqa: UP045
    duration: Annotated[
        Optional[float], typer.Option(help="Stop after SECONDS.")  # noqa: UP045
    ] = None,
    seed: Annotated[
        Optional[int], typer.Option(help="Random seed: same seed, same messages.")  # noqa: UP045
    ] = None,
    format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="Line format: text (default), json or log."),
    ] = None,
) -> None:
    """Emit a stream of synthetic activity messages."""

    def body() -> int:
        from buzzline_cli.lifecycle import StopSignals, say
        from buzzline_cli.message import MessageFactory
        from buzzline_cli.producer import produce
        from buzzline_cli.transports import open_sink

        settings = _load(
            produce=_given(
                to=to, interval=interval, count=count, duration=duration, seed=seed, format=format
            )
        ).settings
        options = settings.produce
        factory = MessageFactory(
            settings.vocabulary.as_vocabulary(options.template),
            format=options.format,
            seed=options.seed,
        )
        stop = StopSignals().install()
        sink = open_sink(options.to, kafka=settings.kafka)
        try:
            result = produce(
                factory,
                sink,
                interval=options.interval,
                count=options.count,
                duration=options.duration,
                stop=stop,
            )
        finally:
            sink.close()
        if options.to != "-":
            say(
                f"buzzline: wrote {result.messages} messages to {sink.name} "
                f"in {result.elapsed:.2f} s"
            )
        stop.raise_if_stopped()
        return 0

    _run(body)


@app.command(
    epilog="Example: buzzline produce --interval 0.5 | buzzline consume -k Colorado,hiking"
)
def consume(
    source: Annotated[
        str,
        typer.Argument(
            help="- (stdin, default), a file path, or kafka://HOST:PORT/TOPIC.", show_default=False
        ),
    ] = "-",
    keywords: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--keywords", "-k", help="Alert on any of these comma-separated keywords."),
    ] = None,
    require_all: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option("--all", help="Alert only when every keyword occurs.", show_default=False),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep reading what is appended (like tail -F).")
    ] = False,
    from_end: Annotated[
        bool, typer.Option("--from-end", help="Skip what the file holds already (implies -f).")
    ] = False,
    group: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--group", help="Kafka: the consumer group (default buzzline)."),
    ] = None,
    from_beginning: Annotated[
        bool,
        typer.Option("--from-beginning", help="Kafka: read the topic from its start."),
    ] = False,
    exit_at_end: Annotated[
        bool,
        typer.Option("--exit-at-end", help="Kafka: stop once every partition is read to its end."),
    ] = False,
    format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="auto (default: panel on a terminal), panel, plain, json."),
    ] = None,
    show_all: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--show-all", help="Also show messages that raised no alert.", show_default=False
        ),
    ] = None,
    summary: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--summary/--no-summary",
            help="Print a summary on stderr at the end.",
            show_default=False,
        ),
    ] = None,
    max_line_bytes: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--max-line-bytes", help="Cut longer lines for matching (default 1 MiB)."),
    ] = None,
    dashboard: Annotated[
        bool,
        typer.Option(
            "--dashboard", help="Live charts of the stream, full screen, instead of alerts."
        ),
    ] = False,
    window: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--window", help="Dashboard: the rolling counts' window (default 60s; s, m or h)."
        ),
    ] = None,
    refresh: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--refresh", help="Dashboard: redraws per second (default and at most 4)."),
    ] = None,
    export: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--export",
            help="Dashboard: save the last frame at the end (.svg, .html or .txt).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Raise real-time keyword alerts on stdin, a file or Kafka."""

    def body() -> int:
        from buzzline_cli.app_consume import consume_command

        board = None
        if dashboard or window is not None or refresh is not None or export is not None:
            from buzzline_cli.render.dashboard import options_from_flags

            board = options_from_flags(
                dashboard=dashboard, format=format, window=window, refresh=refresh, export=export
            )

        words = None if keywords is None else [w for w in keywords.split(",") if w.strip()]
        settings = _load(
            consume=_given(
                keywords=words,
                mode=None if require_all is None else ("all" if require_all else "any"),
                format=format,
                show_all=show_all,
                summary=summary,
                max_line_bytes=max_line_bytes,
            )
        ).settings
        from buzzline_cli.transports import KafkaRead

        kafka_read = KafkaRead(group, from_beginning, exit_at_end)
        return consume_command(
            settings,
            source,
            follow=follow,
            from_end=from_end,
            dashboard=board,
            kafka_read=kafka_read,
        )

    _run(body)


@app.command(epilog="Example: buzzline config --json")
def config(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")] = False,
) -> None:
    """Show the effective configuration and where each value came from."""

    def body() -> int:
        from buzzline_cli.render.config import config_json, config_toml

        loaded = _load()
        typer.echo(config_json(loaded) if as_json else config_toml(loaded), nl=False)
        return 0

    _run(body)


@app.command(epilog="Example: buzzline stats buzz.log --window 1m")
def stats(
    sources: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(
            help="Files to read (.gz too), or - for stdin (the default).", show_default=False
        ),
    ] = None,
    by: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Dimensions to count, comma-separated (default: all four)."),
    ] = None,
    top: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Show the N most frequent values of each dimension (default 10)."),
    ] = None,
    window: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Messages per time window: 30s, 1m, 1h, 2h30m (default: automatic)."),
    ] = None,
    format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="table (default), json or csv."),
    ] = None,
    keywords: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--keywords", "-k", help="Count hits of these comma-separated keywords."),
    ] = None,
    require_all: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option("--all", help="A hit needs every keyword.", show_default=False),
    ] = None,
    export: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--export",
            help="Also save the tables as a picture (.svg) or page (.html).",
            dir_okay=False,
        ),
    ] = None,
    max_line_bytes: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--max-line-bytes", help="Cut longer lines (default 1 MiB); they are counted."
        ),
    ] = None,
) -> None:
    """Summarize saved messages: counts, keywords, time windows."""

    def body() -> int:
        import gc

        from buzzline_cli.render.tables import check_export, emit_report, progress_bar
        from buzzline_cli.stats import stats_report

        # What is loaded by now lives as long as the process: the collector need never scan
        # it again (nor touch its pages in a forked reader), and exit is quicker.
        gc.freeze()
        check_export(export)
        words = None if keywords is None else [w for w in keywords.split(",") if w.strip()]
        dimensions = None if by is None else [d.strip() for d in by.split(",") if d.strip()]
        loaded = _load(
            stats=_given(by=dimensions, top=top, window=window, format=format),
            consume=_given(
                keywords=words,
                mode=None if require_all is None else ("all" if require_all else "any"),
                max_line_bytes=max_line_bytes,
            ),
        )
        report = stats_report(loaded, sources or ["-"], progress_bar)
        emit_report(report, loaded.settings.stats.format, export_to=export)
        return 0

    _run(body)
