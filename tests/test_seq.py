"""Seq tracking: lost and duplicated messages, whatever the arrival order."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from buzzline_cli.seq import SeqTracker


def track(seqs: list[int]) -> SeqTracker:
    tracker = SeqTracker()
    for seq in seqs:
        tracker.add(seq)
    return tracker


def test_gaps_and_duplicates() -> None:
    t = track([1, 2, 4, 4, 5])
    assert (t.lost, t.duplicates, t.runs, t.seen) == (1, 1, 1, 5)


def test_a_late_message_is_not_lost() -> None:
    assert track([1, 3, 2]).lost == 0


def test_joined_midway_counts_nothing_before() -> None:
    assert track([500, 501, 503]).lost == 1


def test_a_restarted_producer_starts_a_new_run() -> None:
    t = track([*range(1, 11), *range(1, 4), 5])
    assert (t.runs, t.lost, t.duplicates) == (2, 1, 0)


@given(
    st.sets(st.integers(2, 400), max_size=200),
    st.lists(st.integers(2, 400), max_size=50),
    st.randoms(use_true_random=False),
)
def test_counts_match_a_set_in_any_order(
    present: set[int], repeats: list[int], rnd: random.Random
) -> None:
    present = present | {2}
    repeated = [r for r in repeats if r in present]
    order = [*present, *repeated]
    rnd.shuffle(order)
    t = track(order)
    assert t.lost == max(present) - min(present) + 1 - len(present)
    assert t.duplicates == len(repeated)


@given(st.lists(st.integers(1, 60), max_size=80), st.integers(0, 80), st.integers(1, 120))
def test_add_all_is_add_one_by_one(seqs: list[int], cut: int, start: int) -> None:
    batches = [seqs[:cut], list(range(start, start + 10)), seqs[cut:], list(range(200, 230))]
    one, bulk = SeqTracker(), SeqTracker()
    for batch in batches:
        bulk.add_all(batch)
        for seq in batch:
            one.add(seq)
    assert (bulk.seen, bulk.lost, bulk.duplicates, bulk.runs) == (
        one.seen,
        one.lost,
        one.duplicates,
        one.runs,
    )
