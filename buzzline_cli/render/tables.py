"""How ``buzzline stats`` shows its report: Rich tables with inline bars, JSON, CSV, and the
rendered tables saved as SVG or HTML. Also the progress bar shown while reading.

Values come from the input (JSON fields can hold anything), so they are escaped with
``safe.printable`` and handed to Rich as ``Text``, never as markup. The tables fit in 80
columns; colour is only decoration (bars are characters), so ``NO_COLOR`` loses nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from buzzline_cli.errors import BuzzlineError, UsageError
from buzzline_cli.render.console import data_console
from buzzline_cli.render.safe import json_safe, printable
from buzzline_cli.stats import SENTIMENTS, Report, format_window, iso

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

EXPORT_SUFFIXES = (".svg", ".html", ".htm")
PROGRESS_MIN_BYTES = 16 << 20  # smaller inputs are read before a bar would be seen
_EIGHTHS = " ▏▎▍▌▋▊▉"
_SPARKS = "▁▂▃▄▅▆▇█"
_SENTIMENT_STYLES = {"positive": "green", "negative": "red", "neutral": "yellow"}


# -- JSON and CSV --------------------------------------------------------------------------


def render_json(report: Report) -> str:
    """The report as one JSON document (schema ``buzzline.stats/1``), newline-terminated."""
    text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    return json_safe(text) + "\n"


def csv_rows(report: Report) -> Iterator[tuple[str, str, int | float]]:
    """``(dimension, value, count)`` rows: the long format of the whole report."""
    for name in ("lines", "messages", "parsed", "unparsed", "malformed", "oversize", "empty"):
        yield "summary", name, getattr(report, name)
    yield "summary", "distinct", report.distinct
    for kind, n in report.formats.items():
        yield "format", kind, n
    if report.first is not None and report.last is not None:
        yield "time", "stamped", report.stamped
        yield "time", "first_epoch", round(report.first, 6)
        yield "time", "last_epoch", round(report.last, 6)
        yield "time", "span_seconds", round(report.last - report.first, 6)
        if report.rate is not None:
            yield "time", "rate_per_second", round(report.rate, 3)
    for name in report.by:
        shown, other = report.top_values(name)
        for value, n in shown:
            yield name, value, n
        if other:
            yield name, "(other)", other
    for name in SENTIMENTS:
        yield "sentiment", name, report.sentiment.get(name, 0)
    if report.keywords is not None:
        yield "alerts", report.mode, report.alerts
        for keyword, n in report.keywords.items():
            yield "keyword", keyword, n
        for rule, n in report.rules.items():
            yield "rule", rule, n
    if report.window is not None and report.window_start is not None:
        for i, n in enumerate(report.windows):
            yield "window", iso(report.window_start + i * report.window), n
    if report.sequence is not None:
        for name, n in report.sequence.items():
            yield "sequence", name, n


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("dimension", "value", "count"))
    for dimension, value, count in csv_rows(report):
        writer.writerow((dimension, printable(value), count))
    return out.getvalue()


# -- tables --------------------------------------------------------------------------------


def bar(fraction: float, width: int) -> str:
    """A horizontal bar ``width`` cells long at most, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def sparkline(counts: list[int], width: int) -> tuple[str, int]:
    """One character per window (windows grouped when there are more than ``width``);
    returns the line and how many windows each character stands for."""
    group = max(1, -(-len(counts) // max(1, width)))
    sums = [sum(counts[i : i + group]) for i in range(0, len(counts), group)]
    top = max(sums, default=0)
    if not top:
        return " " * len(sums), group
    steps = len(_SPARKS) - 1
    line = "".join(" " if n == 0 else _SPARKS[round(n / top * steps)] for n in sums)
    return line, group


def _num(n: int) -> str:
    return f"{n:,}"


def _pct(n: int, whole: int) -> str:
    return f"{n / whole:.1%}" if whole else "-"


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _until(start: float, end: float) -> str:
    """``start → end UTC``, the end's date left out when it is the same day."""
    first, last = _stamp(start), _stamp(end)
    return f"{first} → {last[11:] if last[:10] == first[:10] else last} UTC"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def report_renderables(report: Report, width: int = 80) -> list[RenderableType]:
    """The report as Rich renderables, laid out for ``width`` columns (80 at least)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    width = max(width, 60)
    bar_width = max(10, min(24, width - 56))
    out: list[RenderableType] = []
    sources = ", ".join(printable(s) for s in report.sources)
    out.append(Text.assemble(("buzzline stats ", "bold"), (sources, "bold cyan")))

    summary = Table(box=None, show_header=False, padding=(0, 2, 0, 0), pad_edge=False)
    for _ in range(2):
        summary.add_column(style="dim")
        summary.add_column(justify="right")
    distinct = _num(report.distinct) if report.distinct_exact else f">= {_num(report.distinct)}"
    parsed = f"{_num(report.parsed)} ({_pct(report.parsed, report.messages)})"
    pairs = [
        ("lines", _num(report.lines), "distinct", distinct),
        ("messages", _num(report.messages), "malformed", _num(report.malformed)),
        ("parsed", parsed, "oversize", _num(report.oversize)),
        ("unparsed", _num(report.unparsed), "empty", _num(report.empty)),
    ]
    for left, left_value, right, right_value in pairs:
        summary.add_row(left, left_value, right, right_value)
    out.append(summary)
    kinds = [f"{kind} {_num(n)}" for kind, n in report.formats.items() if n]
    if kinds:
        out.append(Text.assemble(("formats   ", "dim"), " · ".join(kinds)))
    if report.first is not None and report.last is not None:
        span = report.last - report.first
        rate = report.rate
        out.append(
            Text.assemble(
                ("time      ", "dim"),
                _until(report.first, report.last),
            )
        )
        details = f"span {_duration(span)}"
        if rate is not None:
            details += f" · {rate:,.0f} msg/s on average"
        details += f" · {_num(report.stamped)} stamped"
        out.append(Text.assemble(("          ", "dim"), details))

    def counts_table(title: str, header: str, style: str) -> Table:
        out.append(Text())
        table = Table(
            title=title,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1),
        )
        table.add_column(header, overflow="fold", max_width=max(20, width - bar_width - 26))
        table.add_column("count", justify="right")
        table.add_column("share", justify="right")
        table.add_column("", style=style, width=bar_width, no_wrap=True)
        return table

    for name in report.by:
        shown, other = report.top_values(name)
        if not shown:
            continue
        table = counts_table(f"by {name}", name, "cyan")
        peak = shown[0][1]
        for value, n in shown:
            table.add_row(
                Text(printable(value)),
                _num(n),
                _pct(n, report.parsed),
                bar(n / peak, bar_width),
            )
        if other:
            rest = len(report.dimensions[name]) - len(shown)
            label = f"({rest} other value{'s' if rest > 1 else ''})" if rest else "(others)"
            table.add_row(Text(label, style="dim"), _num(other), _pct(other, report.parsed), "")
        out.append(table)

    rated = sum(report.sentiment.values())
    if rated:
        table = counts_table("sentiment of the adjectives", "sentiment", "green")
        peak = max(report.sentiment.values())
        for name in SENTIMENTS:
            n = report.sentiment.get(name, 0)
            table.add_row(
                name,
                _num(n),
                _pct(n, rated),
                Text(bar(n / peak, bar_width), style=_SENTIMENT_STYLES[name]),
            )
        score = report.to_dict()["sentiment"]["score"]
        table.caption = Text(f"score {score:+.3f} (positive share minus negative share)")
        table.caption_justify = "left"
        out.append(table)

    if report.keywords is not None:
        mode = "all of the keywords" if report.mode == "all" else "any keyword"
        table = counts_table(
            f"alerts: {_num(report.alerts)} ({_pct(report.alerts, report.messages)}), on {mode}",
            "keyword / rule",
            "red",
        )
        rows = [(Text(printable(k)), n) for k, n in report.keywords.items()]
        rows += [(Text("rule " + printable(r), style="bold"), n) for r, n in report.rules.items()]
        peak = max([n for _, n in rows] + [1])
        for cell, n in rows:
            table.add_row(cell, _num(n), _pct(n, report.messages), bar(n / peak, bar_width))
        out.append(table)

    if report.window is not None and report.window_start is not None and report.windows:
        line, group = sparkline(report.windows, width - 2)
        size = format_window(report.window * group)
        how = "automatic" if report.window_auto else "--window"
        title = Text.assemble(
            ("messages per ", "bold"), (size, "bold"), (f" window ({how})", "dim")
        )
        end = report.window_start + len(report.windows) * report.window
        busiest = max(report.windows)
        out.append(Text())
        out.append(title)
        out.append(Text(line, style="magenta"))
        count = len(report.windows)
        out.append(
            Text(
                f"{_until(report.window_start, end)} · {count:,} x {format_window(report.window)}"
                f" · busiest {_num(busiest)}",
                style="dim",
            )
        )

    if report.sequence is not None:
        seq = report.sequence
        style = "bold red" if seq["lost"] or seq["duplicates"] else "green"
        out.append(Text())
        out.append(
            Text.assemble(
                ("sequence  ", "bold"),
                (f"{_num(seq['lost'])} lost · {_num(seq['duplicates'])} duplicated", style),
                (f" · {_num(seq['seen'])} seq numbers in {_num(seq['runs'])} run(s)", "dim"),
            )
        )
    return out


def render_table(report: Report, console: Console) -> None:
    for renderable in report_renderables(report, console.width):
        console.print(renderable)


# -- export --------------------------------------------------------------------------------


def check_export(path: Path | None) -> None:
    """Fail early (before reading anything) on an export name we cannot write."""
    if path is not None and path.suffix.lower() not in EXPORT_SUFFIXES:
        raise UsageError(
            f"--export {path}: the name must end in .svg or .html (a picture or a page)"
        )


def export(console: Console, path: Path) -> None:
    """Save what ``console`` recorded as an SVG picture or an HTML page."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".svg":
            console.save_svg(str(path), title="buzzline stats")
        else:
            console.save_html(str(path))
    except OSError as error:
        raise BuzzlineError(f"cannot write {path}: {error.strerror or error}") from None


def _console(**options: Any) -> Console:
    return data_console(**options)


def emit_report(report: Report, format: str, *, export_to: Path | None = None) -> None:
    """Print the report on stdout in ``format``; save the tables too when asked."""
    if format == "table":
        console = _console(record=export_to is not None)
        render_table(report, console)
    else:
        text = render_json(report) if format == "json" else render_csv(report)
        sys.stdout.write(text)
        sys.stdout.flush()
        if export_to is None:
            return
        console = _console(record=True, file=io.StringIO(), width=80, force_terminal=True)
        render_table(report, console)
    if export_to is not None:
        export(console, export_to)


# -- progress ------------------------------------------------------------------------------


@contextlib.contextmanager
def progress_bar(total: int | None) -> Iterator[Callable[[int], None] | None]:
    """A transient progress bar on stderr for large inputs, only when stderr is a terminal.

    Yields the function to call with each chunk's size (or None: no bar). The bar starts at
    the first call, so a reader that forks does so before Rich starts its refresh thread.
    """
    if total is not None and total < PROGRESS_MIN_BYTES:
        yield None
        return
    console = _console(stderr=True)
    if not console.is_terminal or console.is_dumb_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("reading"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task("reading", total=total)
    started = False

    def advance(n: int) -> None:
        nonlocal started
        if not started:
            progress.start()
            started = True
        progress.advance(task, n)

    try:
        yield advance
    finally:
        if started:
            progress.stop()
