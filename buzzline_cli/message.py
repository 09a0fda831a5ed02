"""The activity message: how one is made from the vocabulary, and its three line formats.

A message is a combination of one state, action, topic and adjective, poured into the
template. Combinations are numbered (mixed radix), so a run draws one random number per
message and everything else is a table look-up: that is what makes ``produce`` fast, and
``--seed`` reproducible whatever the format.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import product
from json.encoder import encode_basestring
from typing import Literal

from buzzline_cli import vocabulary as vocab

Format = Literal["text", "json", "log"]
FORMATS: tuple[Format, ...] = ("text", "json", "log")
# Tables of rendered combinations are built up front when there are at most this many.
_TABLE_LIMIT = 1 << 17


@dataclass(frozen=True)
class Vocabulary:
    states: tuple[str, ...] = vocab.STATES
    actions: tuple[str, ...] = vocab.ACTIONS
    topics: tuple[str, ...] = vocab.TOPICS
    adjectives: tuple[str, ...] = vocab.ADJECTIVES
    template: str = vocab.TEMPLATE

    @property
    def combinations(self) -> int:
        return len(self.states) * len(self.actions) * len(self.topics) * len(self.adjectives)

    def parts(self, index: int) -> tuple[str, str, str, str]:
        """The (state, action, topic, adjective) numbered ``index``."""
        rest, adjective = divmod(index, len(self.adjectives))
        rest, topic = divmod(rest, len(self.topics))
        state, action = divmod(rest, len(self.actions))
        return (
            self.states[state],
            self.actions[action],
            self.topics[topic],
            self.adjectives[adjective],
        )

    def sentence(self, index: int) -> str:
        state, action, topic, adjective = self.parts(index)
        return self.template.format(state=state, action=action, topic=topic, adjective=adjective)

    def all_parts(self) -> Iterator[tuple[str, str, str, str]]:
        """Every combination, in index order (``parts(0)``, ``parts(1)``, ...)."""
        return product(self.states, self.actions, self.topics, self.adjectives)

    def all_sentences(self) -> list[str]:
        fill = self.template.format
        return [fill(state=s, action=a, topic=t, adjective=j) for s, a, t, j in self.all_parts()]

    def state_of(self, indices: Sequence[int]) -> list[str]:
        """The state of each combination in ``indices`` (the state is the leading digit)."""
        stride = len(self.actions) * len(self.topics) * len(self.adjectives)
        states = self.states
        return [states[i // stride] for i in indices]


class _Table:
    """Rendered pieces per combination: a full table when small, a growing cache when not."""

    def __init__(
        self, size: int, render: Callable[[int], str], build: Callable[[], list[str]]
    ) -> None:
        """``render(i)`` makes piece ``i``; ``build()`` makes all of them at once, faster."""
        self._render = render
        self._full: list[str] | None = None
        self._cache: dict[int, str] = {}
        if size <= _TABLE_LIMIT:
            self._full = build()

    def lookup(self, indices: Sequence[int]) -> list[str]:
        if self._full is not None:
            full = self._full
            return [full[i] for i in indices]
        cache, render = self._cache, self._render
        if len(cache) > _TABLE_LIMIT:
            cache.clear()
        out = []
        for i in indices:
            piece = cache.get(i)
            if piece is None:
                piece = cache[i] = render(i)
            out.append(piece)
        return out


class Clock:
    """Wall-clock timestamps, formatted cheaply (the date part is redone once a second)."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        self._now_ns = now_ns
        self._rfc_second = -1
        self._rfc_prefix = ""
        self._log_second = -1
        self._log_prefix = ""

    def json_lines(self, first: int, tails: Sequence[str]) -> list[bytes]:
        """JSON lines numbered from ``first``, each stamped when it is made (the hot loop):
        ``ts`` is ``2026-12-04T13:44:13.015123Z``, UTC, microseconds."""
        now_ns, out = self._now_ns, []
        second, prefix = self._rfc_second, self._rfc_prefix
        for seq, tail in enumerate(tails, first):
            micros = now_ns() // 1000
            if micros // 1_000_000 != second:
                second = micros // 1_000_000
                prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            out.append(
                f'{{"seq": {seq}, "ts": "{prefix}{micros % 1_000_000:06d}Z", {tail}'.encode()
            )
        self._rfc_second, self._rfc_prefix = second, prefix
        return out

    def log_stamp(self) -> str:
        """``2026-12-04 13:44:13.015``: local time, milliseconds, as loguru writes it."""
        millis = self._now_ns() // 1_000_000
        second, fraction = divmod(millis, 1000)
        if second != self._log_second:
            self._log_second = second
            self._log_prefix = datetime.fromtimestamp(second).strftime("%Y-%m-%d %H:%M:%S.")
        return f"{self._log_prefix}{fraction:03d}"


class MessageFactory:
    """Draws messages and renders them, a batch at a time, in one of the line formats."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        format: Format = "text",
        seed: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.format = format
        self.seq = 0
        self._random = random.Random(seed).random
        self._total = vocabulary.combinations
        self._clock = clock or Clock()
        self._sentences = _Table(self._total, vocabulary.sentence, vocabulary.all_sentences)
        self._json_tail: _Table | None = None
        self._state_keys: dict[str, bytes] = {s: s.encode() for s in vocabulary.states}
        if format == "json":
            self._json_tail = _Table(self._total, self._json_fields, self._all_json_fields)

    def _json_fields(self, index: int) -> str:
        """The JSON object after ``{"seq": .., "ts": ..``, without its opening brace."""
        state, action, topic, adjective = self.vocabulary.parts(index)
        fields = {
            "state": state,
            "action": action,
            "topic": topic,
            "adjective": adjective,
            "message": self.vocabulary.sentence(index),
        }
        return json.dumps(fields, ensure_ascii=False)[1:]

    def _all_json_fields(self) -> list[str]:
        """``_json_fields`` of every combination, each word encoded once."""
        v = self.vocabulary
        enc: dict[str, str] = {
            w: encode_basestring(w) for w in (*v.states, *v.actions, *v.topics, *v.adjectives)
        }
        return [
            f'"state": {enc[s]}, "action": {enc[a]}, "topic": {enc[t]}, "adjective": {enc[j]}, '
            f'"message": {encode_basestring(sentence)}}}'
            for (s, a, t, j), sentence in zip(
                v.all_parts(), self._sentences.lookup(range(self._total)), strict=True
            )
        ]

    def draw(self, n: int) -> list[int]:
        """The combination numbers of the next ``n`` messages."""
        r, total = self._random, self._total
        return [int(r() * total) for _ in range(n)]

    def render(self, indices: Sequence[int]) -> list[bytes]:
        """The lines (without newline) of messages ``indices``, numbered from ``seq + 1``."""
        first = self.seq + 1
        self.seq += len(indices)
        if self.format == "text":
            return [s.encode() for s in self._sentences.lookup(indices)]
        if self.format == "log":
            stamp = self._clock.log_stamp
            return [f"{stamp()} | INFO | {s}".encode() for s in self._sentences.lookup(indices)]
        assert self._json_tail is not None
        return self._clock.json_lines(first, self._json_tail.lookup(indices))

    def keys(self, indices: Sequence[int]) -> list[bytes]:
        """Each message's state, the key of keyed transports (one state stays in order)."""
        keys = self._state_keys
        return [keys[s] for s in self.vocabulary.state_of(indices)]
