"""The stats core: what a saved stream holds, counted at C speed.

``StatsCollector.feed`` takes chunks of complete lines (from any Source). A buzzline log
repeats itself, so the lines of a chunk are counted with ``Counter`` (C code) and only the
distinct ones are decoded, parsed, matched against the rules and rated by the sentiment
lexicon, their results multiplied by their counts. What makes a line unique is cut off first:

* log and loguru lines lose their timestamp by slicing at the stamp's width; the stamps of a
  whole chunk are checked at once (digits where the first line has digits, the same level
  header), and counted per second from their lowest and highest values;
* JSON lines lose ``seq`` and ``ts`` with one regex pass over the chunk; the sequence numbers
  go to a ``SeqTracker`` in order;
* anything else (text, and chunks the fast paths refuse) is counted whole and parsed with
  ``parsing.parse_line``, exactly as consume reads it.

Distinct lines are recognized by looking them up in a table of every sentence the template
makes (when there are many to look up), else by ``SentenceParser``. One large file is read by
two processes, each taking half (``collect_split``). Memory stays bounded: pending counters
are folded into the totals when they grow large (then ``distinct`` becomes a lower bound), and
time is kept in buckets that coarsen on long spans. Nothing here imports Rich or Typer.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import pickle
import re
import signal
import string
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from buzzline_cli.consume import decode_line
from buzzline_cli.errors import BuzzlineError, ConfigError
from buzzline_cli.lifecycle import StopSignals
from buzzline_cli.message import Vocabulary
from buzzline_cli.parsing import Parsed, SentenceParser, parse_line, parse_stamp
from buzzline_cli.rules import Matcher
from buzzline_cli.seq import SeqTracker
from buzzline_cli.transports import KafkaRead, is_kafka, open_source
from buzzline_cli.transports.base import Source, chunks_until_stopped
from buzzline_cli.transports.stdio import StreamSource, write_all
from buzzline_cli.vocabulary import FIELDS

if TYPE_CHECKING:
    from buzzline_cli.settings import LoadedSettings

SCHEMA = "buzzline.stats/1"
KINDS = ("text", "json", "log", "loguru")
SENTIMENTS = ("positive", "negative", "neutral")
PENDING_LIMIT = 1 << 17  # distinct keys a pending counter holds before it is folded
MESSAGE_LIMIT = 1 << 17  # distinct messages kept for an exact `distinct`
VALUE_LIMIT = 1 << 16  # distinct values kept per dimension (JSON fields can be anything)
TABLE_LIMIT = 1 << 17  # a vocabulary with more combinations is parsed by regex only
TABLE_MIN = 4096  # distinct lines pending before a table of every sentence pays for itself
AUTO_WINDOWS = 60  # without --window, the smallest round window giving at most this many
_BUCKET_LIMIT = 1 << 16  # time buckets kept before an automatic window coarsens them
_COARSER = (1, 10, 60, 600, 3600, 21600, 86400, 604800)  # each a multiple of the one before
_ROUND = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
_DAY = 86400
_ADJECTIVE = FIELDS.index("adjective")

_EMPTY_LINES = (b"", b"\r")
_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")
_TO_SECOND = itemgetter(slice(0, 19))  # a stamp without its fraction
_GROUP_1, _GROUP_2 = itemgetter(0), itemgetter(1)
# A log line's stamp and level header, as parsing.LOG_RE reads them (bytes, ASCII digits).
_STAMP = rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?"
_LOG_HEAD = re.compile(rb"(" + _STAMP + rb")( \| [A-Z]+ *\| )")
_LOG_LINES = re.compile(rb"\n(" + _STAMP + rb") \| [A-Z]+ *\| ([^\n]*)")
# What makes a log line's message a loguru one (parsing.LOGURU_RE after the level).
_LOGURU_TAIL = re.compile(r"[^ |]+:[^ |]*:\d+ - (.*)", re.S)
# produce's JSON lines: seq and ts first. Group 5 is the rest of the object, from its next key.
# Groups: seq, the stamp without its zone, the zone, the rest of the object from its next key.
_JSON_LINES = re.compile(
    rb'\n\{"seq": (0|[1-9][0-9]{0,17}), "ts": "([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}'
    rb':[0-9]{2}(?:\.[0-9]{1,6})?)(Z|[+-][0-9]{2}:[0-9]{2})", ("[^\n]*)'
)
_GROUP_3, _GROUP_4 = itemgetter(2), itemgetter(3)
SPLIT_MIN_BYTES = 32 << 20  # a file this large is read by two processes, when there are 2 CPUs
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")

Fields = tuple[str | None, ...]


def parse_window(text: str) -> int:
    """Seconds in a window written like ``30s``, ``1m``, ``1h``, ``2h30m``, ``1d`` or ``90``."""
    spec = text.strip().lower()
    match = _DURATION.fullmatch(spec)
    if spec.isdigit():
        seconds = int(spec)
    elif spec and match is not None:
        days, hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = ((days * 24 + hours) * 60 + minutes) * 60 + secs
    else:
        raise ValueError("use a duration like 30s, 1m, 1h or 2h30m")
    if seconds <= 0:
        raise ValueError("a window must be at least 1s")
    return seconds


def format_window(seconds: int) -> str:
    """``90`` -> ``1m30s``: the shortest way to write a window."""
    out = []
    for unit, size in (("d", _DAY), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            out.append(f"{amount}{unit}")
    return "".join(out) or "0s"


def lexicon(
    positive: Iterable[str], negative: Iterable[str], neutral: Iterable[str] = ()
) -> dict[str, str]:
    """Adjective (lower-cased) -> sentiment. Unlisted adjectives are neutral."""
    rated: dict[str, str] = {}
    for name, words in (("neutral", neutral), ("negative", negative), ("positive", positive)):
        rated.update((w.strip().lower(), name) for w in words)
    return rated


def _fraction(digits: str) -> float:
    """``.015`` -> 0.015; ``""`` -> 0."""
    return float("0" + digits) if len(digits) > 1 else 0.0


class TimeStats:
    """Messages per time bucket, and the first and last timestamps (epoch seconds)."""

    def __init__(self, window: int | None = None) -> None:
        self.window = window
        self.resolution = window or 1
        self.stamped = 0
        self.first: float | None = None
        self.last: float | None = None
        self.buckets: Counter[int] = Counter()  # epoch // resolution -> messages

    def add(self, epoch_second: int, n: int) -> None:
        self.buckets[epoch_second // self.resolution] += n
        self.stamped += n
        if self.window is None and len(self.buckets) > _BUCKET_LIMIT:
            self._coarsen()

    def extremes(self, low: float, high: float) -> None:
        if self.first is None or low < self.first:
            self.first = low
        if self.last is None or high > self.last:
            self.last = high

    def _coarsen(self, to: int | None = None) -> None:
        while (to is None and len(self.buckets) > _BUCKET_LIMIT) or (
            to is not None and self.resolution < to
        ):
            bigger = next((s for s in _COARSER if s > self.resolution), self.resolution * 7)
            regrouped: Counter[int] = Counter()
            for bucket, n in self.buckets.items():
                regrouped[bucket * self.resolution // bigger] += n
            self.buckets, self.resolution = regrouped, bigger

    def merge(self, other: TimeStats) -> None:
        """Add another reader's counts (both automatic, or both of the same window)."""
        if other.resolution > self.resolution:
            self._coarsen(other.resolution)
        elif other.resolution < self.resolution:
            other._coarsen(self.resolution)
        self.buckets.update(other.buckets)
        self.stamped += other.stamped
        if other.first is not None and other.last is not None:
            self.extremes(other.first, other.last)
        if self.window is None and len(self.buckets) > _BUCKET_LIMIT:
            self._coarsen()

    def windows(self) -> tuple[int, int, list[int]] | None:
        """(window seconds, start of the first window, messages per window), zeros included."""
        if not self.buckets:
            return None
        low, high = min(self.buckets), max(self.buckets)
        size = self.resolution
        if self.window is None:  # the smallest round window that gives few enough of them
            span = (high - low + 1) * size
            candidates = [s for s in _ROUND if s % size == 0] + [
                _DAY * k for k in range(1, 10_000) if (_DAY * k) % size == 0
            ]
            size = next(
                (s for s in candidates if s >= size and math.ceil(span / s) <= AUTO_WINDOWS),
                size,
            )
        factor = size // self.resolution
        first = low // factor
        counts = [0] * (high // factor - first + 1)
        for bucket, n in self.buckets.items():
            counts[bucket // factor - first] += n
        return size, first * size, counts


@dataclass
class Totals:
    """What the distinct messages added up to, weighted by their counts."""

    parsed: int = 0
    unparsed: int = 0
    dimensions: dict[str, Counter[str]] = field(
        default_factory=lambda: {name: Counter() for name in FIELDS}
    )
    overflow: Counter[str] = field(default_factory=Counter)  # values past VALUE_LIMIT
    sentiment: Counter[str] = field(default_factory=Counter)
    alerts: int = 0
    per_keyword: Counter[str] = field(default_factory=Counter)
    per_rule: Counter[str] = field(default_factory=Counter)

    def add(self, other: Totals) -> None:
        self.parsed += other.parsed
        self.unparsed += other.unparsed
        for name, counts in other.dimensions.items():
            self.dimensions[name].update(counts)
        self.overflow.update(other.overflow)
        self.sentiment.update(other.sentiment)
        self.alerts += other.alerts
        self.per_keyword.update(other.per_keyword)
        self.per_rule.update(other.per_rule)


@dataclass(frozen=True, eq=False)
class _JsonTail:
    message: str
    fields: Fields | None
    malformed: bool


_INVALID = _JsonTail("", None, False)  # a line the fast path leaves to parse_line


def sentence_table(vocabulary: Vocabulary, parser: SentenceParser) -> dict[bytes, Fields]:
    """Every sentence the template makes, as UTF-8, -> its (state, action, topic, adjective).

    Looking a line up here is what ``parse_line`` and ``SentenceParser`` would conclude, only
    faster; sentences they might read otherwise are left out (and go the long way): ones two
    combinations make, ones that look like JSON, a log line or a loguru message, or hold NUL.
    """
    every = (vocabulary.states, vocabulary.actions, vocabulary.topics, vocabulary.adjectives)
    used = [i for i, name in enumerate(FIELDS) if name in parser.fields]
    words = [every[i] for i in used]
    # The template as a %-format over the parts it uses, in their order of appearance.
    layout, order = [], []
    for literal, name, _spec, _conversion in string.Formatter().parse(vocabulary.template):
        layout.append(literal.replace("%", "%%"))
        if name is not None:
            layout.append("%s")
            order.append(used.index(FIELDS.index(name)))
    shape = "".join(layout).encode()
    encoded = [[w.encode() for w in ws] for ws in words]
    texts = "".join([vocabulary.template, *(w for ws in words for w in ws)])
    careful = "\x00" in texts or ":" in texts  # NUL, or maybe a loguru-like sentence
    in_order = order == list(range(len(used)))
    table: dict[bytes, Fields | None] = {}
    for chosen, raw in zip(itertools.product(*words), itertools.product(*encoded), strict=True):
        key = shape % (raw if in_order else tuple(raw[i] for i in order))
        head = key[:1]
        if not key or head == b"{" or head.isdigit():
            continue
        if careful and (b"\x00" in key or _LOGURU_TAIL.match(key.decode())):
            continue
        parts = chosen if len(used) == len(FIELDS) else _spread(chosen, used)
        if table.setdefault(key, parts) is not parts:
            table[key] = None  # ambiguous: let the regex decide, as SentenceParser does
    return {key: parts for key, parts in table.items() if parts is not None}


def _spread(chosen: tuple[str, ...], used: list[int]) -> Fields:
    parts: list[str | None] = [None] * len(FIELDS)
    for index, value in zip(used, chosen, strict=True):
        parts[index] = value
    return tuple(parts)


def _fields_of(obj: Mapping[str, Any]) -> Fields | None:
    """A JSON line's own state/action/topic/adjective (None: it carries none of them)."""
    values = tuple(v if isinstance(v := obj.get(name), str) else None for name in FIELDS)
    return None if values == (None,) * len(FIELDS) else values


class StatsCollector:
    """Counts everything ``buzzline stats`` reports, a chunk of lines at a time."""

    def __init__(
        self,
        parser: SentenceParser,
        matcher: Matcher | None = None,
        sentiment: Mapping[str, str] | None = None,
        *,
        window: int | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self.parser = parser
        self.vocabulary = vocabulary  # for the sentence table (without it: regex only)
        self.matcher = matcher if matcher is not None and matcher.active else None
        self.sentiment = dict(sentiment or {})
        self.lines = 0
        self.empty = 0
        self.malformed = 0
        self.oversize = 0
        self.kinds: Counter[str] = Counter()
        self.time = TimeStats(window)
        self.seq = SeqTracker()
        self.totals = Totals()
        self.distinct_floor = 0  # distinct messages of folded batches (then not exact)
        self.distinct_exact = True
        self._raw: Counter[bytes] = Counter()  # whole lines, for parse_line
        self._log: Counter[bytes] = Counter()  # log lines' messages (after the level)
        self._json: Counter[bytes] = Counter()  # produce's JSON lines after seq and ts
        self._messages: Counter[str] = Counter()  # message text -> count (not JSON)
        self._json_messages: Counter[tuple[str, Fields | None]] = Counter()
        self._sentences: Counter[Fields] = Counter()  # lines found in the sentence table
        self._table: dict[bytes, Fields] | None = None  # built when it pays off
        self._tails: dict[bytes, _JsonTail] = {}
        self._epochs: dict[str, int | None] = {}
        self._full = parser.fields == FIELDS  # the template names all four parts
        self._getter = itemgetter(*FIELDS)

    def sibling(self) -> StatsCollector:
        """An empty collector that counts the same way (for another part of the input)."""
        return StatsCollector(
            self.parser,
            self.matcher,
            self.sentiment,
            window=self.time.window,
            vocabulary=self.vocabulary,
        )

    # -- reading ---------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        """Count a chunk of complete lines, each ending with a newline."""
        lines = chunk.split(b"\n")
        lines.pop()
        if not lines:
            return
        self.lines += len(lines)
        head = chunk[:1]
        if chunk.find(b"{") >= 0 and (head == b"{" or b"\n{" in chunk):
            if not (chunk.startswith(b'{"seq": ') and self._json_fast(chunk, len(lines))):
                self._ordered(lines)
        elif not (head.isdigit() and (self._log_fast(lines) or self._log_lines(chunk, lines))):
            self._raw.update(lines)
        if len(self._raw) > PENDING_LIMIT:
            self._flush_raw()
        if len(self._log) > PENDING_LIMIT:
            self._flush_log()
        if len(self._json) > PENDING_LIMIT:
            self._flush_json()

    def _log_fast(self, lines: list[bytes]) -> bool:
        """A chunk of log lines of one stamp format and one level: two slices per line."""
        first = lines[0]
        match = _LOG_HEAD.match(first)
        if match is None:
            return False
        width = match.end(2)
        heads = list(map(itemgetter(slice(0, width)), lines))
        # Digits where the first line has digits, and the very same header everywhere.
        if b"".join(heads).translate(_DIGITS) != first[:width].translate(_DIGITS) * len(lines):
            return False
        self._log.update(map(itemgetter(slice(width, None)), lines))
        self._stamps(heads, match.end(1))
        return True

    def _log_lines(self, chunk: bytes, lines: list[bytes]) -> bool:
        """A chunk of log lines of any levels and stamp widths: one regex pass."""
        found = _LOG_LINES.findall(b"\n" + chunk)
        if len(found) != len(lines):
            return False
        self._log.update(map(_GROUP_2, found))
        self._stamps(list(map(_GROUP_1, found)))
        return True

    def _stamps(self, stamps: list[bytes], width: int | None = None, zone: str = "") -> None:
        """Count stamps of one format family (``2026-12-04 13:44:13.015``, or RFC 3339 less
        its ``zone``) per second, from their lowest and highest values; keep the extremes."""
        low, high = min(stamps), max(stamps)
        seconds: Mapping[bytes, int]
        if low[:19] == high[:19]:  # every stamp lies between them: all in that second
            seconds = {low[:19]: len(stamps)}
        else:
            seconds = Counter(map(_TO_SECOND, stamps))

        def epoch(stamp: bytes) -> int | None:
            return self._epoch(stamp[:19].decode() + zone)

        for second, n in seconds.items():
            start = epoch(second)
            if start is not None:
                self.time.add(start, n)
        low_start, high_start = epoch(low), epoch(high)
        if low_start is None or high_start is None:  # some stamp is no real date
            valid = [s for s in stamps if epoch(s) is not None]
            if not valid:
                return
            low, high = min(valid), max(valid)
            low_start, high_start = epoch(low), epoch(high)
        assert low_start is not None and high_start is not None
        self.time.extremes(
            low_start + _fraction(low[19:width].decode()),
            high_start + _fraction(high[19:width].decode()),
        )

    def _epoch(self, second: str) -> int | None:
        """Epoch seconds of a stamp without its fraction (log stamps are local time)."""
        known = self._epochs.get(second)
        if known is not None or second in self._epochs:
            return known
        moment = parse_stamp(second)
        value = None if moment is None else int(moment.timestamp())
        if len(self._epochs) >= PENDING_LIMIT:
            self._epochs.clear()
        self._epochs[second] = value
        return value

    def _json_fast(self, chunk: bytes, n: int) -> bool:
        """A chunk of produce's JSON lines: one regex pass, the rest of each object counted."""
        found = _JSON_LINES.findall(b"\n" + chunk)
        if len(found) != n:
            return False
        tails = list(map(_GROUP_4, found))
        memo = self._tails
        if len(memo) > PENDING_LIMIT:
            memo.clear()
        infos = list(map(memo.get, tails))
        if None in infos:
            for tail in {t for t, info in zip(tails, infos, strict=True) if info is None}:
                memo[tail] = self._json_tail(tail)
            infos = list(map(memo.get, tails))
        if _INVALID in infos:  # some line is not what it seemed: read them one by one
            return False
        self.kinds["json"] += n
        self.seq.add_all(list(map(int, map(_GROUP_1, found))))  # in order
        zones = set(map(_GROUP_3, found))
        if len(zones) == 1:
            self._stamps(list(map(_GROUP_2, found)), zone=zones.pop().decode())
        else:  # several time zones in one chunk: their stamps don't sort together
            by_zone: dict[bytes, list[bytes]] = {}
            for _, stamp, zone, _ in found:
                by_zone.setdefault(zone, []).append(stamp)
            for zone, stamps in by_zone.items():
                self._stamps(stamps, zone=zone.decode())
        self._json.update(tails)
        return True

    def _json_tail(self, tail: bytes) -> _JsonTail:
        text, malformed = decode_line(tail)
        try:
            obj = json.loads("{" + text)
        except ValueError:
            return _INVALID
        if not isinstance(obj, dict):  # pragma: no cover - "{" makes an object or nothing
            return _INVALID
        message = obj.get("message")
        if not isinstance(message, str) or "seq" in obj or "ts" in obj:
            # Without a message the whole line is the message (unique: read it as it is);
            # a second seq or ts would win over the first: read that line as it is too.
            return _INVALID
        return _JsonTail(message, _fields_of(obj), malformed)

    def _ordered(self, lines: list[bytes]) -> None:
        """Lines among which some are JSON: one by one, so ``seq`` numbers keep their order."""
        raw = self._raw
        for line in lines:
            if line[:1] != b"{":
                raw[line] += 1
                continue
            text, malformed = decode_line(line)
            parsed = parse_line(text)
            if parsed.kind != "json":
                raw[line] += 1
                continue
            self._json_line(parsed, malformed, 1)

    def _json_line(self, parsed: Parsed, malformed: bool, n: int) -> None:
        obj = parsed.fields
        seq = obj.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            for _ in range(n):
                self.seq.add(seq)
        if parsed.stamp is not None:
            moment = parse_stamp(parsed.stamp)
            if moment is not None:
                stamp = moment.timestamp()
                self.time.add(math.floor(stamp), n)
                self.time.extremes(stamp, stamp)
        self.kinds["json"] += n
        if malformed:
            self.malformed += n
        self._json_messages[(parsed.message, _fields_of(obj))] += n

    # -- folding pending counts into messages ------------------------------------------------

    def _sentence_table(self, pending: int) -> dict[bytes, Fields] | None:
        """The sentence table, built once there are enough distinct lines to look up."""
        if self._table is None and self.vocabulary is not None and pending >= TABLE_MIN:
            small = self.vocabulary.combinations <= TABLE_LIMIT
            self._table = sentence_table(self.vocabulary, self.parser) if small else {}
        return self._table or None

    def _flush_raw(self) -> None:
        messages, kinds, sentences = self._messages, self.kinds, self._sentences
        table = self._sentence_table(len(self._raw))
        texts = 0
        for raw, n in self._raw.items():
            if table is not None:
                parts = table.get(raw)
                if parts is not None:
                    texts += n
                    sentences[parts] += n
                    continue
            if raw in _EMPTY_LINES:
                self.empty += n
                continue
            text, malformed = decode_line(raw)
            head = text[:1]
            if head != "{" and not head.isdigit():  # what parse_line would call text
                kinds["text"] += n
                messages[text] += n
                self.malformed += n if malformed else 0
                continue
            parsed = parse_line(text)
            if parsed.kind == "json":  # pragma: no cover - JSON lines go one by one (see feed)
                self._json_line(parsed, malformed, n)
                continue
            kinds[parsed.kind] += n
            messages[parsed.message] += n
            self.malformed += n if malformed else 0
            if parsed.stamp is not None:
                self._stamp_text(parsed.stamp, n)
        kinds["text"] += texts
        self._raw.clear()
        self._check_messages()

    def _stamp_text(self, stamp: str, n: int) -> None:
        start = self._epoch(stamp[:19])
        if start is not None:
            self.time.add(start, n)
            moment = start + _fraction(stamp[19:])
            self.time.extremes(moment, moment)

    def _flush_log(self) -> None:
        messages, kinds, tail = self._messages, self.kinds, _LOGURU_TAIL.match
        sentences = self._sentences
        table = self._sentence_table(len(self._log))
        logs = 0
        for raw, n in self._log.items():
            if table is not None:
                parts = table.get(raw)
                if parts is not None:
                    logs += n
                    sentences[parts] += n
                    continue
            text, malformed = decode_line(raw)
            if malformed:
                self.malformed += n
            loguru = tail(text)
            if loguru is None:
                kinds["log"] += n
                messages[text] += n
            else:
                kinds["loguru"] += n
                messages[loguru.group(1)] += n
        kinds["log"] += logs
        self._log.clear()
        self._check_messages()

    def _flush_json(self) -> None:
        memo = self._tails
        for tail, n in self._json.items():
            info = memo.get(tail) or self._json_tail(tail)
            if info.malformed:
                self.malformed += n
            self._json_messages[(info.message, info.fields)] += n
        self._json.clear()
        self._check_messages()

    def _check_messages(self) -> None:
        pending = len(self._messages) + len(self._json_messages) + len(self._sentences)
        if pending > MESSAGE_LIMIT:
            self.distinct_exact = False  # messages forgotten now may come again
            self._fold()

    def _fold(self) -> None:
        """Analyse the distinct messages, add them into the totals, forget them."""
        lookup = self._table.get if self._table else None
        sentences = Counter(self._sentences)  # sentence (by its parts) -> messages
        others: Counter[str] = Counter()  # any other text -> messages
        for text, n in self._messages.items():
            hit = lookup(text.encode()) if lookup else None
            if hit is None:
                others[text] += n
            else:
                sentences[hit] += n
        combos: Counter[Fields] = Counter(sentences)  # parts -> messages, for the dimensions
        json_others: Counter[str] = Counter()
        unparsed = 0
        parts_of = self._parts
        for (text, fields), n in self._json_messages.items():
            hit = lookup(text.encode()) if lookup else None
            if hit is None:
                json_others[text] += n
            else:
                sentences[hit] += n
            parts = fields or hit or parts_of(text)
            if parts is None:
                unparsed += n
            else:
                combos[parts] += n
        for text, n in others.items():
            parts = parts_of(text)
            if parts is None:
                unparsed += n
            else:
                combos[parts] += n
        others.update(json_others)
        self.distinct_floor = max(self.distinct_floor, len(sentences) + len(others))
        if self.matcher is not None:
            self._match(sentences, others)
        self._messages.clear()
        self._json_messages.clear()
        self._sentences.clear()
        self._add_combos(combos, unparsed)

    def _parts(self, message: str) -> Fields | None:
        parts = self.parser.parts(message)
        if parts is None:
            return None
        return self._getter(parts) if self._full else tuple(parts.get(f) for f in FIELDS)

    def _match(self, sentences: Mapping[Fields, int], others: Mapping[str, int]) -> None:
        assert self.matcher is not None
        totals, match_of = self.totals, self.matcher.match
        text_of = {parts: key for key, parts in (self._table or {}).items()}
        counted = [(text_of[parts].decode(), n) for parts, n in sentences.items()]
        for text, n in [*counted, *others.items()]:
            match = match_of(text)
            if match is None:
                continue
            totals.alerts += n
            for keyword in match.keywords:
                totals.per_keyword[keyword] += n
            for rule in match.rules:
                totals.per_rule[rule] += n

    def _add_combos(self, combos: Mapping[Fields, int], unparsed: int) -> None:
        totals = self.totals
        totals.unparsed += unparsed
        totals.parsed += sum(combos.values())
        items = combos.items()
        for index, name in enumerate(FIELDS):
            kept = totals.dimensions[name]
            column: dict[str, int] = {}
            get = column.get
            for parts, n in items:
                value = parts[index]
                if value is not None:
                    column[value] = get(value, 0) + n
            overflow = 0
            for value, n in column.items():
                if value in kept or len(kept) < VALUE_LIMIT:
                    kept[value] += n
                else:
                    overflow += n
            if overflow:
                totals.overflow[name] += overflow
            if index == _ADJECTIVE:
                rate = self.sentiment.get
                for value, n in column.items():
                    totals.sentiment[rate(value.lower(), "neutral")] += n

    def flush(self) -> None:
        """Turn every pending line into messages (kept distinct, not yet analysed)."""
        self._flush_raw()
        self._flush_log()
        self._flush_json()

    def finish(self) -> None:
        """Analyse everything still pending (call once, after the last chunk)."""
        self.flush()
        self._fold()

    # -- two processes, one file ---------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """What another collector needs to merge this one's counts. Lines still pending go
        as they are (the other side may well have its sentence table built already)."""
        return {
            "raw": self._raw,
            "log": self._log,
            "json": self._json,
            "lines": self.lines,
            "empty": self.empty,
            "malformed": self.malformed,
            "oversize": self.oversize,
            "kinds": self.kinds,
            "time": self.time,
            "seq_seen": self.seq.seen,
            "totals": self.totals,
            "distinct_floor": self.distinct_floor,
            "distinct_exact": self.distinct_exact,
            "messages": self._messages,
            "json_messages": self._json_messages,
            "sentences": self._sentences,
        }

    def merge_state(self, state: Mapping[str, Any]) -> None:
        """Add the counts of a collector that read what follows (not ``seq``: see ``collect``)."""
        self.flush()
        self.lines += state["lines"]
        self.empty += state["empty"]
        self.malformed += state["malformed"]
        self.oversize += state["oversize"]
        self.kinds.update(state["kinds"])
        self.time.merge(state["time"])
        self.totals.add(state["totals"])
        if state["distinct_floor"] or not state["distinct_exact"]:
            self.distinct_exact = False
        self.distinct_floor = max(self.distinct_floor, state["distinct_floor"])
        self._messages.update(state["messages"])
        self._json_messages.update(state["json_messages"])
        if state["sentences"]:
            self._sentence_table(TABLE_MIN)  # the other side's table: the same, built here too
            self._sentences.update(state["sentences"])
        self._check_messages()
        self._raw.update(state["raw"])
        self._log.update(state["log"])
        self._json.update(state["json"])
        self.flush()


# -- the report ----------------------------------------------------------------------------


@dataclass
class Report:
    """Everything ``buzzline stats`` shows, ready for any renderer."""

    sources: list[str]
    lines: int
    messages: int
    parsed: int
    unparsed: int
    malformed: int
    oversize: int
    empty: int
    distinct: int
    distinct_exact: bool
    formats: dict[str, int]
    by: list[str]
    top: int
    dimensions: dict[str, list[tuple[str, int]]]  # every value, most frequent first
    sentiment: dict[str, int]
    stamped: int = 0
    first: float | None = None
    last: float | None = None
    window: int | None = None
    window_auto: bool = True
    window_start: int | None = None
    windows: list[int] = field(default_factory=list)
    keywords: dict[str, int] | None = None  # None: no keyword and no rule configured
    rules: dict[str, int] = field(default_factory=dict)
    mode: str = "any"
    alerts: int = 0
    sequence: dict[str, int] | None = None  # None: no JSON line carried a seq
    overflow: dict[str, int] = field(default_factory=dict)  # values past VALUE_LIMIT

    @property
    def span(self) -> float | None:
        if self.first is None or self.last is None:
            return None
        return self.last - self.first

    @property
    def rate(self) -> float | None:
        """Stamped messages per second over the span (None for a span of zero)."""
        span = self.span
        return self.stamped / span if span else None

    def top_values(self, dimension: str) -> tuple[list[tuple[str, int]], int]:
        """The ``top`` most frequent values of a dimension, and the count of all the others."""
        values = self.dimensions[dimension]
        shown = values[: self.top]
        return shown, sum(n for _, n in values[self.top :]) + self.overflow.get(dimension, 0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``buzzline.stats/1``, described in the README)."""

        def share(n: int, whole: int) -> float:
            return round(n / whole, 6) if whole else 0.0

        dimensions = {}
        for name in self.by:
            shown, other = self.top_values(name)
            dimensions[name] = {
                "distinct": len(self.dimensions[name]),
                "values": [
                    {"value": v, "count": n, "share": share(n, self.parsed)} for v, n in shown
                ],
                "other": other,
            }
        rated = sum(self.sentiment.values())
        time = None
        if self.first is not None and self.last is not None:
            rate = self.rate
            time = {
                "stamped": self.stamped,
                "first": iso(self.first),
                "last": iso(self.last),
                "span_seconds": round(self.last - self.first, 6),
                "rate_per_second": None if rate is None else round(rate, 3),
            }
        windows = None
        if self.window is not None and self.window_start is not None:
            windows = {
                "seconds": self.window,
                "auto": self.window_auto,
                "start": iso(self.window_start),
                "counts": self.windows,
            }
        keywords = None
        if self.keywords is not None:
            keywords = {
                "mode": self.mode,
                "alerts": self.alerts,
                "per_keyword": self.keywords,
                "per_rule": self.rules,
            }
        return {
            "schema": SCHEMA,
            "sources": self.sources,
            "lines": self.lines,
            "messages": self.messages,
            "parsed": self.parsed,
            "unparsed": self.unparsed,
            "malformed": self.malformed,
            "oversize": self.oversize,
            "empty": self.empty,
            "distinct": self.distinct,
            "distinct_exact": self.distinct_exact,
            "formats": self.formats,
            "time": time,
            "dimensions": dimensions,
            "sentiment": {
                **{name: self.sentiment.get(name, 0) for name in SENTIMENTS},
                "score": round(
                    share(self.sentiment.get("positive", 0), rated)
                    - share(self.sentiment.get("negative", 0), rated),
                    6,
                ),
            },
            "keywords": keywords,
            "windows": windows,
            "sequence": self.sequence,
        }


def iso(epoch: float) -> str:
    """RFC 3339, UTC, microseconds: ``2026-12-04T13:44:13.015000Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ranked(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def build_report(
    collector: StatsCollector,
    *,
    sources: Sequence[str],
    by: Sequence[str] = FIELDS,
    top: int = 10,
    keywords: Sequence[str] = (),
    rules: Sequence[str] = (),
    mode: str = "any",
) -> Report:
    """The report of a finished collector. ``keywords`` and ``rules`` are listed even at 0."""
    collector.finish()
    totals = collector.totals
    texts_distinct = collector.distinct_floor
    messages = collector.lines - collector.empty
    windows = collector.time.windows()
    report = Report(
        sources=list(sources),
        lines=collector.lines,
        messages=messages,
        parsed=totals.parsed,
        unparsed=totals.unparsed,
        malformed=collector.malformed,
        oversize=collector.oversize,
        empty=collector.empty,
        distinct=texts_distinct,
        distinct_exact=collector.distinct_exact,
        formats={kind: collector.kinds.get(kind, 0) for kind in KINDS},
        by=list(by),
        top=top,
        dimensions={name: _ranked(totals.dimensions[name]) for name in FIELDS},
        sentiment=dict(totals.sentiment),
        overflow=dict(totals.overflow),
        stamped=collector.time.stamped,
        first=collector.time.first,
        last=collector.time.last,
    )
    if windows is not None:
        report.window, report.window_start, report.windows = windows
        report.window_auto = collector.time.window is None
    if collector.matcher is not None:
        per_keyword = dict.fromkeys(keywords, 0)
        per_keyword.update(totals.per_keyword)
        report.keywords = per_keyword
        report.rules = {**dict.fromkeys(rules, 0), **totals.per_rule}
        report.mode = mode
        report.alerts = totals.alerts
    tracker = collector.seq
    if tracker.seen:
        report.sequence = {
            "seen": tracker.seen,
            "runs": tracker.runs,
            "lost": tracker.lost,
            "duplicates": tracker.duplicates,
        }
    return report


def collect(
    sources: Iterable[Source],
    collector: StatsCollector,
    stop: StopSignals,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Feed every source into ``collector`` in turn, closing each; stop on a signal."""
    for source in sources:
        try:
            for chunk in chunks_until_stopped(source, stop):
                collector.feed(chunk)
                if progress is not None:
                    progress(len(chunk))
        finally:
            collector.oversize += source.oversize
        if stop.stopped:
            break
    stop.raise_if_stopped()


class _Range:
    """Bytes ``start`` to ``end`` of an open file, read with ``pread`` (a StreamSource's stream)."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        self._fd, self._pos, self._end = fd, start, end

    def read(self, size: int = -1) -> bytes:
        left = self._end - self._pos
        size = left if size < 0 else min(size, left)
        if size <= 0:
            return b""
        data = os.pread(self._fd, size, self._pos)
        self._pos += len(data)
        return data

    def close(self) -> None:
        """The file descriptor belongs to whoever opened it."""


def _range_source(fd: int, start: int, end: int, name: str, max_line_bytes: int) -> Source:
    stream: Any = _Range(fd, start, end)
    return StreamSource(stream, name, max_line_bytes=max_line_bytes)


def can_split(path: Path) -> bool:
    """Whether ``path`` is worth reading in two processes: large, plain (not gzip, not JSON
    lines, whose ``seq`` must be read in order), and two CPUs to run on."""
    if not hasattr(os, "fork"):
        return False
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere count the CPUs
    if (len(affinity(0)) if affinity else os.cpu_count() or 1) < 2:
        return False
    try:
        if not path.is_file() or path.stat().st_size < SPLIT_MIN_BYTES:
            return False
        with path.open("rb") as handle:
            head = handle.read(2)
    except OSError:
        return False
    return head != b"\x1f\x8b" and not head.startswith(b"{")


def _split_point(fd: int, size: int) -> int | None:
    """The offset just after the first newline past the middle of the file."""
    pos = size // 2
    while pos < size:
        block = os.pread(fd, 1 << 16, pos)
        if not block:
            return None
        newline = block.find(b"\n")
        if newline >= 0:
            cut = pos + newline + 1
            return cut if cut < size else None
        pos += len(block)
    return None


def collect_split(
    path: Path,
    collector: StatsCollector,
    stop: StopSignals,
    progress: Callable[[int], None] | None = None,
    *,
    max_line_bytes: int,
) -> None:
    """Read one large file in two processes: this one reads the first half, a forked child
    the second, and its counts are merged in. Exactly what ``collect`` would count: if the
    child saw ``seq`` numbers (whose order matters) or failed, its half is read again here."""
    name = str(path)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        cut = _split_point(fd, size)
        if cut is None:
            collect([_range_source(fd, 0, size, name, max_line_bytes)], collector, stop, progress)
            return
        state = _in_two(fd, cut, size, name, collector, stop, progress, max_line_bytes)
        if state is None or state["seq_seen"]:
            rest = _range_source(fd, cut, size, name, max_line_bytes)
            collect([rest], collector, stop, progress)
        else:
            collector.merge_state(state)
            if progress is not None:
                progress(size - cut)
    finally:
        os.close(fd)


def _in_two(
    fd: int,
    cut: int,
    size: int,
    name: str,
    collector: StatsCollector,
    stop: StopSignals,
    progress: Callable[[int], None] | None,
    max_line_bytes: int,
) -> dict[str, Any] | None:
    """Read ``[0, cut)`` here and ``[cut, size)`` in a child; the child's state, or None."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process (covered through collect_split)
        os.close(read_end)
        _child(collector.sibling(), _range_source(fd, cut, size, name, max_line_bytes), write_end)
    os.close(write_end)
    status = -1
    payload = b""
    try:
        collect([_range_source(fd, 0, cut, name, max_line_bytes)], collector, stop, progress)
        collector.flush()  # while the child is still at work
        with stop.interruptible():
            pieces = []
            while piece := os.read(read_end, 1 << 20):
                pieces.append(piece)
            payload = b"".join(pieces)
            _, status = os.waitpid(pid, 0)
            pid = 0
    finally:
        os.close(read_end)
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if status != 0 or not payload:
        return None
    state: dict[str, Any] = pickle.loads(payload)
    return state


def _child(collector: StatsCollector, source: Source, out: int) -> None:  # pragma: no cover
    """The forked reader: count its part, send the counts, exit (never return, never flush
    what the parent had buffered)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for chunk in source.chunks():
            collector.feed(chunk)
        collector.oversize += source.oversize
        write_all(out, pickle.dumps(collector.export_state(), protocol=pickle.HIGHEST_PROTOCOL))
        code = 0
    finally:
        os._exit(code)


# -- the command's body, without any rendering ---------------------------------------------------

ProgressFactory = Callable[[int | None], AbstractContextManager[Callable[[int], None] | None]]


def _window_of(loaded: LoadedSettings) -> int | None:
    window = loaded.settings.stats.window
    if window is None:
        return None
    try:
        return parse_window(window)
    except ValueError as error:
        origin = loaded.origins.get("stats.window", "default")
        problem = f"bad config value stats.window = {window!r} (from {origin}): {error}"
        raise ConfigError(problem) from None


def _check_sources(specs: Sequence[str]) -> int | None:
    """Fail before reading anything if a source cannot be read; their total size (None when
    unknown: stdin, or a gzip file)."""
    total: int | None = 0
    for spec in specs:
        if spec == "-" or is_kafka(spec):
            total = None
            continue
        path = Path(spec).expanduser()
        try:
            info = path.stat()
            with path.open("rb") as handle:
                gzipped = handle.read(2) == b"\x1f\x8b"
        except IsADirectoryError:
            raise BuzzlineError(f"cannot read {path}: it is a directory") from None
        except OSError as error:
            raise BuzzlineError(f"cannot read {path}: {error.strerror or error}") from None
        if total is not None:
            total = None if gzipped else total + info.st_size
    return total


def stats_report(
    loaded: LoadedSettings,
    specs: Sequence[str],
    progress: ProgressFactory | None = None,
) -> Report:
    """Read ``specs`` (files, ``-``) as the settings say and return the report."""
    specs = list(specs) or ["-"]
    settings = loaded.settings
    options, consume, vocabulary = settings.stats, settings.consume, settings.vocabulary
    window = _window_of(loaded)
    total = _check_sources(specs)
    matcher = consume.matcher()
    words = vocabulary.as_vocabulary(settings.produce.template)
    collector = StatsCollector(
        SentenceParser(words),
        matcher,
        lexicon(vocabulary.positive, vocabulary.negative, vocabulary.neutral),
        window=window,
        vocabulary=words,
    )
    stop = StopSignals().install()
    try:
        with progress(total) if progress else contextlib.nullcontext() as advance:
            path = Path(specs[0]).expanduser()
            if len(specs) == 1 and specs[0] != "-" and can_split(path):
                collect_split(path, collector, stop, advance, max_line_bytes=consume.max_line_bytes)
            else:
                whole = KafkaRead(whole_topic=True)  # a topic is read once, to its end
                sources = (
                    open_source(
                        spec,
                        max_line_bytes=consume.max_line_bytes,
                        kafka=settings.kafka,
                        kafka_read=whole,
                    )
                    for spec in specs
                )
                collect(sources, collector, stop, advance)
    finally:
        stop.restore()
    listed = [*consume.keywords, *(w for rule in consume.rules for w in rule.spec().words)]
    return build_report(
        collector,
        sources=["stdin" if spec == "-" else spec for spec in specs],
        by=options.by,
        top=options.top,
        keywords=list(dict.fromkeys(listed)),
        rules=[rule.name for rule in consume.rules],
        mode=consume.mode,
    )
