"""How consume shows alerts: Rich panels, plain lines, or JSON objects.

Message text is untrusted: it is always escaped with ``safe.printable`` and handed to Rich as
``Text`` (titles too), never as markup. Plain and JSON output are buffered per chunk and
written with one write; panels are printed as they come. Every renderer flushes per chunk, so
an alert reaches the reader as soon as its line was read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from json.encoder import encode_basestring
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TextIO, cast

from buzzline_cli.consume import Event
from buzzline_cli.render.safe import json_safe, printable

if TYPE_CHECKING:
    from rich.console import Console

    from buzzline_cli.rules import Match, Matcher


_RENDERED = attrgetter("rendered")


def json_line(obj: dict[str, Any]) -> str:
    """One JSON object on one line, with nothing a terminal would act on left raw."""
    return json_safe(json.dumps(obj, ensure_ascii=False))


class _Buffered:
    """Collects a chunk's output lines and writes them with one write."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out if out is not None else sys.stdout
        self._pending: list[str] = []

    def flush(self) -> None:
        if self._pending:
            self._out.write("".join(self._pending))
            self._pending.clear()
        self._out.flush()


class PlainRenderer(_Buffered):
    """``ALERT [Colorado, hiking] While in Colorado I just ...``: one line per alert; other
    messages (--show-all, or no rules) as their bare text."""

    @staticmethod
    def _text(event: Event) -> str:
        text: str | None = event.rendered
        if text is None:
            text = printable(event.message) + "\n"
            if event.match is not None:
                keywords = ", ".join(printable(k) for k in event.match.keywords)
                text = f"ALERT [{keywords}] {text}"
            event.rendered = text
        return text

    def emit(self, events: Sequence[Event], lines: Sequence[int]) -> None:
        self._pending.extend(map(self._text, events))


class JsonRenderer(_Buffered):
    """One JSON object per alert: the input's fields (or ``message`` and ``line``) plus
    ``keywords`` and, when a named rule fired, ``rule`` (and ``rules`` if several)."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__(out)
        self._tails: dict[Match | None, str] = {}  # the JSON after "line", per match

    @staticmethod
    def _extra(event: Event) -> dict[str, Any]:
        match = event.match
        if match is None:
            return {"keywords": []}
        extra: dict[str, Any] = {"keywords": list(match.keywords)}
        if match.rules:
            extra["rule"] = match.rules[0]
            if len(match.rules) > 1:
                extra["rules"] = list(match.rules)
        return extra

    def _parts(self, event: Event) -> tuple[str, str] | None:
        """The JSON before and after the line number, cached on the (shared) event; None for
        a JSON input line, which is rendered whole each time."""
        if event.fields is not None:
            return None
        tail = self._tails.get(event.match)
        if tail is None:
            tail = self._tails[event.match] = ", " + json_line(self._extra(event))[1:] + "\n"
        head = '{"message": ' + json_safe(encode_basestring(event.message)) + ', "line": '
        parts = event.rendered = (head, tail)
        return parts

    def emit(self, events: Sequence[Event], lines: Sequence[int]) -> None:
        cached: list[tuple[str, str] | None] = list(map(_RENDERED, events))
        if None in cached:
            for i in [i for i, parts in enumerate(cached) if parts is None]:
                cached[i] = self._parts(events[i])
        if None not in cached:  # the common case: a text log, every line's parts cached
            ready = cast("list[tuple[str, str]]", cached)
            self._pending.extend([f"{h}{n}{t}" for (h, t), n in zip(ready, lines, strict=True)])
            return
        for event, parts, line in zip(events, cached, lines, strict=True):
            if parts is None:
                self._pending.append(
                    json_line({**(event.fields or {}), **self._extra(event)}) + "\n"
                )
            else:
                self._pending.append(f"{parts[0]}{line}{parts[1]}")


class PanelRenderer:
    """One Rich panel per alert: the rule or keywords and the time in the title, the message
    with its matched words highlighted, the border in the rule's colour."""

    def __init__(self, console: Console, matcher: Matcher) -> None:
        self.console = console
        self.matcher = matcher

    def _when(self, event: Event) -> str:
        """The message's own time of day when it carries one, else the time it was read."""
        if event.stamp and len(event.stamp) >= 19:
            return printable(event.stamp[11:19])
        return datetime.now().strftime("%H:%M:%S")

    def emit(self, events: Sequence[Event], lines: Sequence[int]) -> None:
        for event in events:
            if event.match is None:
                self.other(event)
            else:
                self.alert(event, event.match)

    def alert(self, event: Event, match: Match) -> None:
        from rich.panel import Panel
        from rich.text import Text

        shown = printable(event.message)
        body = Text(shown)
        for start, end in self.matcher.spans(shown, match.keywords):
            body.stylize(f"bold {match.style}", start, end)
        title = Text(f"{printable(match.title)} · {self._when(event)}", style=f"bold {match.style}")
        self.console.print(Panel(body, title=title, title_align="left", border_style=match.style))

    def other(self, event: Event) -> None:
        from rich.text import Text

        style = "dim" if self.matcher.active else ""
        text = Text()
        if event.stamp:
            text.append(self._when(event) + " ", style="dim")
        text.append(printable(event.message), style=style)
        self.console.print(text)

    def flush(self) -> None:
        self.console.file.flush()


def summary_lines(summary: Any, *, source: str) -> list[str]:
    """The end-of-run summary (stderr): counts, alerts per rule/keyword, bad lines, rate."""
    elapsed = summary.elapsed
    rate = summary.messages / elapsed if elapsed > 0 else 0.0
    lines = [
        f"buzzline: {summary.messages:,} messages from {printable(source)} in {elapsed:.2f} s "
        f"({rate:,.0f}/s), {summary.alerts:,} alerts"
    ]
    rules = summary.per_rule()
    if rules:
        lines.append("  rules: " + ", ".join(f"{printable(k)} {n:,}" for k, n in rules.items()))
    keywords = summary.per_keyword()
    if keywords:
        shown = ", ".join(f"{printable(k)} {n:,}" for k, n in keywords.most_common())
        lines.append("  keywords: " + shown)
    if summary.malformed or summary.oversize:
        lines.append(
            f"  malformed lines: {summary.malformed:,} (invalid UTF-8 or NUL), "
            f"oversize lines: {summary.oversize:,} (cut for matching)"
        )
    seq = summary.seq
    if seq.seen:
        lines.append(
            f"  seq: {seq.lost:,} lost, {seq.duplicates:,} duplicated"
            + (f" over {seq.runs} runs" if seq.runs > 1 else "")
        )
    return lines
