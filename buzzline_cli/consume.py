"""The consume core: lines in, events out to a renderer, and a running summary.

``ConsumeCore.feed`` takes a chunk of complete lines (from any Source), finds each line's
message (any format ``parsing`` knows), asks the rules whether it raises an alert, and hands
alerts (and, when asked, the other messages) to a renderer. Lines that repeat exactly — the
common case for text logs — are analysed once and remembered, which is what lets consume keep
up with grep on a backlog.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter, itemgetter
from typing import Any, Protocol, cast

from buzzline_cli.lifecycle import StopSignals
from buzzline_cli.parsing import (
    PRODUCED_JSON_LINES_RE,
    Kind,
    parse_line,
    parse_produced_json,
)
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
_FIRST = itemgetter(0)
_THIRD = itemgetter(2)
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
        if text.startswith('{"seq": '):
            event = self._analyse_produced(text, malformed)
            if event is not None:
                return event
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

    def _analyse_produced(self, text: str, malformed: bool) -> Event | None:
        """A line of produce's JSON: its fields are parsed only if it is shown."""
        found = parse_produced_json(text)
        if found is None:
            return None
        seq, stamp, message = found
        match = self.matcher.match(message)
        shown = match is not None or self.show_others
        fields = None
        if shown:
            try:
                fields = json.loads(text)
            except ValueError:
                return None  # not JSON after all: read as any other line
        self.summary.seq.add(seq)
        self._malformed_seen = self._malformed_seen or malformed
        return Event(message, "json", match, fields, stamp, malformed, shown)

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
        if chunk.startswith(b'{"seq": ') and self._feed_produced_json(chunk, lines):
            return
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

    def _feed_produced_json(self, chunk: bytes, lines: list[bytes]) -> bool:
        """A chunk made only of produce's JSON lines, handled in bulk: one regex pass finds
        every line's seq, ts and message; only the lines shown are parsed whole. False (and
        nothing done) when any line is not of that exact form."""
        try:
            text = chunk.decode()
        except UnicodeDecodeError:
            return False
        rows = PRODUCED_JSON_LINES_RE.findall(text)
        if len(rows) != len(lines) or "\x00" in text:
            return False
        messages = list(map(_THIRD, rows))
        matches = list(map(self.matcher.match, messages))
        first = self.line + 1
        self.summary.seq.add_all(list(map(int, map(_FIRST, rows))))
        wanted: Sequence[int] = range(len(rows))
        if not self.show_others:
            quiet = matches.count(None) == len(matches)
            wanted = [] if quiet else [i for i, m in enumerate(matches) if m is not None]
        shown = []
        for i in wanted:
            fields = json.loads(lines[i])
            shown.append(Event(messages[i], "json", matches[i], fields, rows[i][1], False, True))
        self.line += len(lines)
        if shown:
            self.renderer.emit(shown, [first + i for i in wanted])
            self.summary.by_match.update(map(_MATCH, shown))
        self.summary.messages += len(lines)
        self.renderer.flush()
        return True


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
