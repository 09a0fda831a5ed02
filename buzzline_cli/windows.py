"""Sliding-window counters: rolling counts over the last N seconds, and per-second rates.

Both keep time in fixed buckets (one second by default) counted from an origin, so the work
per update is one ``Counter.update`` (or one integer addition) and the work per read is
proportional to the number of distinct keys, never to the number of messages. A bucket leaves
the window exactly when it is ``window`` seconds old. The clock is injectable (tests pass a
fake one); it must not go backwards — if it does, updates land in the current bucket.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
Clock = Callable[[], float]

_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds in ``"60s"``, ``"5m"``, ``"1.5h"``, ``"2d"`` or a bare number of seconds."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (try 60s, 5m or 1h)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError(f"a duration must be more than zero: {text!r}")
    return seconds


class SlidingCounter(Generic[K]):
    """Counts of keys over the last ``window`` seconds, and since the start.

    The window is made of ``ceil(window / bucket)`` buckets, the current one included: at
    time ``now`` it holds what was added in the buckets after the one ``window`` seconds
    ago. Completed buckets are summed into running totals as they complete and subtracted as
    they expire, so ``totals`` costs a copy of those totals plus the current bucket.
    """

    def __init__(
        self,
        window: float,
        bucket: float = 1.0,
        clock: Clock = time.monotonic,
        origin: float | None = None,
    ) -> None:
        if window <= 0 or bucket <= 0:
            raise ValueError("window and bucket must be more than zero")
        self.window = window
        self.bucket = bucket
        self._clock = clock
        self._origin = clock() if origin is None else origin
        self._span = max(1, math.ceil(window / bucket - 1e-9))
        self._index = 0
        self._current: Counter[K] = Counter()
        self._done: deque[tuple[int, Counter[K]]] = deque()  # completed buckets in the window
        self._in_window: Counter[K] = Counter()  # the sum of self._done
        self._all_time: Counter[K] = Counter()  # the sum of every completed bucket

    def _roll(self, now: float | None) -> None:
        index = int(((self._clock() if now is None else now) - self._origin) // self.bucket)
        if index > self._index:
            if self._current:
                self._done.append((self._index, self._current))
                self._in_window.update(self._current)
                self._all_time.update(self._current)
                self._current = Counter()
            self._index = index
        oldest = self._index - self._span + 1
        done = self._done
        while done and done[0][0] < oldest:
            _, old = done.popleft()
            in_window = self._in_window
            in_window.subtract(old)
            for key in old:
                if in_window[key] <= 0:
                    del in_window[key]

    def add(self, items: Iterable[K] | Mapping[K, int], now: float | None = None) -> None:
        """Count ``items`` (an iterable of keys, or a mapping of key to count) at ``now``."""
        self._roll(now)
        self._current.update(items)

    def totals(self, now: float | None = None) -> Counter[K]:
        """The counts over the window ending at ``now``."""
        self._roll(now)
        out = self._in_window.copy()
        out.update(self._current)
        return out

    def all_time(self, now: float | None = None) -> Counter[K]:
        """The counts since the start (expired buckets included)."""
        self._roll(now)
        out = self._all_time.copy()
        out.update(self._current)
        return out


class RateRing:
    """Events per bucket (one second by default) for the last ``size`` buckets."""

    def __init__(
        self,
        size: int = 300,
        bucket: float = 1.0,
        clock: Clock = time.monotonic,
        origin: float | None = None,
    ) -> None:
        if size < 2 or bucket <= 0:
            raise ValueError("a rate ring needs at least two buckets of more than zero seconds")
        self.bucket = bucket
        self._clock = clock
        self._origin = clock() if origin is None else origin
        self._index = 0
        self._counts: deque[int] = deque([0], maxlen=size)

    def _roll(self, now: float | None) -> float:
        now = self._clock() if now is None else now
        index = int((now - self._origin) // self.bucket)
        gap = index - self._index
        if gap > 0:
            self._counts.extend([0] * min(gap, self._counts.maxlen or gap))
            self._index = index
        return now

    def add(self, n: int, now: float | None = None) -> None:
        self._roll(now)
        self._counts[-1] += n

    def series(self, now: float | None = None) -> list[int]:
        """Counts of the completed buckets, oldest first (the current one is left out)."""
        self._roll(now)
        counts = list(self._counts)
        counts.pop()
        return counts

    def rate(self, now: float | None = None) -> float:
        """Events per second: over the last completed bucket, or so far if none is."""
        now = self._roll(now)
        if self._index == 0:
            elapsed = now - self._origin
            return self._counts[-1] / elapsed if elapsed > 0 else 0.0
        return self._counts[-2] / self.bucket
