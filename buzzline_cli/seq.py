"""Lost and duplicated messages, from the ``seq`` numbers a JSON stream carries.

The tracker keeps the seq numbers seen as a set of disjoint ranges, so memory is bounded by
the number of holes, not of messages, and arrival order does not matter (a Kafka topic with
several partitions interleaves them). ``lost`` is the number of holes between the lowest and
the highest seq seen (the lowest is the baseline: a stream may be joined midway);
``duplicates`` counts numbers seen again. A ``seq`` of 1 that was seen already starts a new
run (a producer restarted and appended to the same log); each run is counted on its own.
"""

from __future__ import annotations

import bisect


class SeqTracker:
    def __init__(self) -> None:
        self.seen = 0
        self.duplicates = 0
        self.runs = 0
        self._lost_before = 0  # holes of the runs already ended
        self._starts: list[int] = []  # sorted, disjoint, non-adjacent ranges of seen seqs
        self._ends: list[int] = []
        self._distinct = 0

    @property
    def lost(self) -> int:
        return self._lost_before + self._holes()

    def _holes(self) -> int:
        if not self._starts:
            return 0
        return self._ends[-1] - self._starts[0] + 1 - self._distinct

    def add(self, seq: int) -> None:
        self.seen += 1
        if self.runs == 0:
            self.runs = 1
        starts, ends = self._starts, self._ends
        i = bisect.bisect_right(starts, seq) - 1  # the range starting at or before seq
        if i >= 0 and seq <= ends[i]:
            if seq == 1:  # 1 again: a new run of the producer, not a duplicate
                self._new_run()
                self._start_over(seq)
            else:
                self.duplicates += 1
            return
        self._distinct += 1
        joins_left = i >= 0 and ends[i] == seq - 1
        joins_right = i + 1 < len(starts) and starts[i + 1] == seq + 1
        if joins_left and joins_right:
            ends[i] = ends[i + 1]
            del starts[i + 1], ends[i + 1]
        elif joins_left:
            ends[i] = seq
        elif joins_right:
            starts[i + 1] = seq
        else:
            starts.insert(i + 1, seq)
            ends.insert(i + 1, seq)

    def add_all(self, seqs: list[int]) -> None:
        """``add`` each of ``seqs``; a run of consecutive new numbers is added at once."""
        if not seqs:
            return
        low, high = seqs[0], seqs[-1]
        ends = self._ends
        fresh = not ends or low == ends[-1] + 1  # all above everything seen so far
        if fresh and high - low + 1 == len(seqs) and seqs == list(range(low, high + 1)):
            if not ends:
                self.runs = max(self.runs, 1)
                self._starts.append(low)
                ends.append(high)
            else:
                ends[-1] = high
            self.seen += len(seqs)
            self._distinct += len(seqs)
            return
        for seq in seqs:
            self.add(seq)

    def _start_over(self, seq: int) -> None:
        self._starts[:] = [seq]
        self._ends[:] = [seq]
        self._distinct = 1

    def _new_run(self) -> None:
        self._lost_before += self._holes()
        self.runs += 1
