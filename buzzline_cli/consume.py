"""The consume core: lines in, events out to a renderer, and a running summary.

``ConsumeCore.feed`` takes a chunk of complete lines (from any Source), finds each line's
message (any format ``parsing`` knows), asks the rules whether it raises an alert, and hands
alerts (and, when asked, the other messages) to a renderer. Lines that repeat exactly — the
common case for text logs — are analysed once and remembered, which is what lets consume keep
up with grep on a backlog.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter
from typing import Any, Protocol, cast

from buzzline_cli.lifecycle import StopSignals
from buzzline_cli.parsing import Kind, parse_line
from buzzline_cli.rules import Match, Matcher
from buzzline_cli.seq import SeqTracker
from buzzline_cli.transports.base import Source, chunks_until_stopped

_MEMO_LIMIT = 1 << 16


@dataclass(slots=True, eq=False)
class Event:
    """One analysed line. Shared between identical lines, so renderers may memoize on it."""

    message: str
    kind: Kind
    match: Match | None
    fields: dict[str, Any] | None = None
    stamp: str | None = None
    malformed: bool = False
    shown: bool = False  # rendered at all: an alert, or any message with --show-all
    rendered: Any = None  # a renderer's cache for this line's output

    @property
    def alert(self) -> bool:
        return self.match is not None


EMPTY = Event("", "text", None)  # blank lines: not messages, never shown

_SHOWN = attrgetter("shown")
_MALFORMED = attrgetter("malformed")
_MATCH = attrgetter("match")


class Renderer(Protocol):
    def emit(self, events: Sequence[Event], lines: Sequence[int]) -> None:
        """Show ``events`` (alerts, and with --show-all other messages) at these line numbers."""

    def flush(self) -> None: ...


@dataclass
class Summary:
    """What consume saw: the figures of the end-of-run summary."""

    messages: int = 0
    malformed: int = 0
    oversize: int = 0
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    by_match: Counter[Match | None] = field(default_factory=Counter)  # None: shown, no alert
    seq: SeqTracker = field(default_factory=SeqTracker)

    @property
    def alerts(self) -> int:
        return sum(n for match, n in self.by_match.items() if match is not None)

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def per_keyword(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for match, n in self.by_match.items():
            for keyword in match.keywords if match else ():
                out[keyword] += n
        return out

    def per_rule(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for match, n in self.by_match.items():
            for rule in match.rules if match else ():
                out[rule] += n
        return out


def _may_have_blank_lines(chunk: bytes) -> bool:
    return chunk[:1] == b"\n" or chunk[:2] == b"\r\n" or b"\n\n" in chunk or b"\n\r\n" in chunk


def decode_line(raw: bytes) -> tuple[str, bool]:
    """The text of a line and whether it was malformed (invalid UTF-8, or a NUL byte)."""
    try:
        text = raw.decode()
        bad = False
    except UnicodeDecodeError:
        text = raw.decode(errors="replace")
        bad = True
    if text.endswith("\r"):
        text = text[:-1]
    return text, bad or "\x00" in text


class ConsumeCore:
    """Analyses lines and routes them to a renderer, keeping the summary.

    The per-line work is done with C-level passes (``map``, ``compress``, ``Counter``) over a
    chunk; Python code runs only for lines never seen before and for the lines shown.
    """

    def __init__(self, matcher: Matcher, renderer: Renderer, *, show_all: bool = False) -> None:
        self.matcher = matcher
        self.renderer = renderer
        self.show_others = show_all or not matcher.active
        self.summary = Summary()
        self.line = 0  # line number in the input, counting every line
        self._memo: dict[bytes, Event] = {b"": EMPTY, b"\r": EMPTY}
        self._malformed_seen = False  # no malformed line yet: no need to count them

    def analyse(self, raw: bytes) -> Event:
        text, malformed = decode_line(raw)
        parsed = parse_line(text)
        if parsed.kind == "json" and type(parsed.fields.get("seq")) is int:  # not a bool
            self.summary.seq.add(parsed.fields["seq"])
        match = self.matcher.match(parsed.message)
        self._malformed_seen = self._malformed_seen or malformed
        return Event(
            parsed.message,
            parsed.kind,
            match,
            parsed.fields or None,
            parsed.stamp,
            malformed,
            match is not None or self.show_others,
        )

    def _fill(self, lines: list[bytes], events: list[Event | None]) -> None:
        """Analyse the lines the memo did not know; remember the plain-text ones."""
        memo = self._memo
        for i in [i for i, event in enumerate(events) if event is None]:
            raw = lines[i]
            event = memo.get(raw)  # an earlier line of this very chunk
            if event is None:
                event = self.analyse(raw)
                if event.kind == "text":
                    if len(memo) >= _MEMO_LIMIT:
                        memo.clear()
                        memo[b""] = memo[b"\r"] = EMPTY
                    memo[raw] = event
            events[i] = event

    def feed(self, chunk: bytes) -> None:
        """Handle a chunk of complete lines (each ending with a newline)."""
        lines = chunk.split(b"\n")
        lines.pop()
        events: list[Event | None] = list(map(self._memo.get, lines))
        if None in events:
            self._fill(lines, events)
        known = cast("list[Event]", events)
        first = self.line + 1
        self.line += len(lines)
        shown_flags = list(map(_SHOWN, known))
        if True in shown_flags:
            shown = list(compress(known, shown_flags))
            self.renderer.emit(shown, list(compress(range(first, first + len(lines)), shown_flags)))
            self.summary.by_match.update(map(_MATCH, shown))
        blank = known.count(EMPTY) if _may_have_blank_lines(chunk) else 0
        self.summary.messages += len(lines) - blank
        if self._malformed_seen:
            self.summary.malformed += sum(map(_MALFORMED, known))
        self.renderer.flush()


def run_consume(source: Source, core: ConsumeCore, stop: StopSignals) -> Summary:
    """Feed ``source`` into ``core`` until it ends or a stop signal; always close the source.

    A stop signal interrupts only the wait for input, never the writing of an alert; offsets
    are committed (at-least-once) only after the alerts of a chunk have been written.
    """
    summary = core.summary
    try:
        for chunk in chunks_until_stopped(source, stop):
            core.feed(chunk)
            source.commit()
    finally:
        summary.ended = time.monotonic()
        summary.oversize = source.oversize
    return summary
