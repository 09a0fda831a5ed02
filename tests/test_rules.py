"""Keyword and rule matching: whole words, any case, literal text; named rules."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from buzzline_cli.rules import Matcher, RuleSpec

ORIGINAL = RuleSpec(
    "colorado-outdoors",
    any=("flyfishing", "hiking", "wildlife encounter", "backpacking", "snowshoeing"),
    all=("Colorado",),
    style="green",
)


def keywords_of(matcher: Matcher, text: str) -> tuple[str, ...] | None:
    match = matcher.match(text)
    return None if match is None else match.keywords


def test_whole_words_any_case() -> None:
    m = Matcher(("hiking", "Colorado"))
    assert keywords_of(m, "While in colorado I just explored a HIKING trail!") == (
        "hiking",
        "Colorado",
    )
    assert keywords_of(m, "a hikingtrail") is None
    assert keywords_of(m, "unhiking") is None
    assert keywords_of(m, "hiking.") == ("hiking",)


def test_phrases_match_across_spaces() -> None:
    m = Matcher(("wildlife encounter",))
    assert keywords_of(m, "a wildlife  encounter!") == ("wildlife encounter",)
    assert keywords_of(m, "a wildlife encountering") is None


def test_regex_characters_are_literal() -> None:
    m = Matcher(("a.b", "C++", "(x)"))
    assert keywords_of(m, "axb") is None
    assert keywords_of(m, "I wrote a.b in C++ (x)") == ("a.b", "C++", "(x)")


def test_all_requires_every_keyword() -> None:
    m = Matcher(("Colorado", "hiking"), require_all=True)
    assert m.match("Colorado hiking") is not None
    assert m.match("Colorado only") is None


def test_the_originals_rule() -> None:
    m = Matcher(rules=[ORIGINAL])
    hit = m.match("While in Colorado I just explored a hiking trail! It was majestic.")
    assert hit is not None
    assert hit.rules == ("colorado-outdoors",)
    assert hit.keywords == ("Colorado", "hiking")
    assert hit.style == "green"
    assert m.match("While in Utah I just explored a hiking trail! It was majestic.") is None
    assert m.match("While in Colorado I just explored a cave! It was majestic.") is None


def test_flags_and_rules_combine() -> None:
    m = Matcher(("Utah",), rules=[ORIGINAL])
    assert m.match("While in Utah I just tried a cave").keywords == ("Utah",)  # type: ignore[union-attr]
    both = m.match("Utah and Colorado and hiking")
    assert both is not None and both.rules == ("colorado-outdoors",)
    assert set(both.keywords) == {"Utah", "Colorado", "hiking"}


def test_no_rules_is_inactive() -> None:
    assert not Matcher().active
    assert Matcher().match("anything") is None


def test_spans_for_highlighting() -> None:
    m = Matcher(("hiking",))
    assert m.spans("a Hiking trail, hiking!", ["hiking"]) == [(2, 8), (16, 22)]


word = st.text(alphabet="abcdefghij", min_size=1, max_size=6)


@given(
    word,
    st.lists(word, max_size=6),
    st.sampled_from(["", " ", ".", "x", "_", "9", "!"]),
    st.sampled_from(["", " ", ".", "x", "_", "9", "!"]),
)
def test_matches_exactly_when_a_whole_word_occurs(
    keyword: str, others: list[str], before: str, after: str
) -> None:
    text = " ".join(others) + f" {before}{keyword.upper()}{after} " + " ".join(others)
    expected = any(
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(keyword)}(?![A-Za-z0-9_])", t, re.IGNORECASE)
        for t in [text]
    )
    assert (Matcher((keyword,)).match(text) is not None) == expected
