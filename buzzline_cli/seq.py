"""Lost and duplicated messages, from the ``seq`` numbers a JSON stream carries.

Memory stays bounded by the number of open gaps, not by the number of messages: the tracker
keeps the highest ``seq`` seen and the ranges still missing below it. The first ``seq``
seen is the baseline (a stream may be joined midway). A late message that
fills a gap is neither lost nor duplicated. A ``seq`` of 1 after higher ones starts a new run
(a producer restarted and appended to the same log).
"""

from __future__ import annotations

import bisect

_MAX_GAPS = 1 << 16  # beyond this many open gaps, the oldest are taken as lost for good


class SeqTracker:
    def __init__(self) -> None:
        self.seen = 0
        self.lost = 0  # missing so far (a late arrival takes one back)
        self.duplicates = 0
        self.runs = 0
        self._high = 0
        self._gap_starts: list[int] = []  # sorted, disjoint [start, end] ranges still missing
        self._gap_ends: list[int] = []

    def add(self, seq: int) -> None:
        self.seen += 1
        if seq == 1 and self._high != 0:
            self._new_run()
        if self.runs == 0:
            self.runs = 1
            self._high = seq - 1  # a stream joined midway: nothing before it counts as lost
        if seq > self._high:
            if seq > self._high + 1:
                self._gap_starts.append(self._high + 1)
                self._gap_ends.append(seq - 1)
                self.lost += seq - 1 - self._high
                if len(self._gap_starts) > _MAX_GAPS:
                    del self._gap_starts[0], self._gap_ends[0]
            self._high = seq
            return
        i = bisect.bisect_right(self._gap_starts, seq) - 1
        if i >= 0 and seq <= self._gap_ends[i]:
            self._fill(i, seq)
            self.lost -= 1
        else:
            self.duplicates += 1

    def _fill(self, i: int, seq: int) -> None:
        start, end = self._gap_starts[i], self._gap_ends[i]
        if start == end:
            del self._gap_starts[i], self._gap_ends[i]
        elif seq == start:
            self._gap_starts[i] = seq + 1
        elif seq == end:
            self._gap_ends[i] = seq - 1
        else:
            self._gap_ends[i] = seq - 1
            self._gap_starts.insert(i + 1, seq + 1)
            self._gap_ends.insert(i + 1, end)

    def _new_run(self) -> None:
        self.runs += 1
        self._high = 0
        self._gap_starts.clear()
        self._gap_ends.clear()
