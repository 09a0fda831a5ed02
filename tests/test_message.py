"""Messages: the exact default vocabulary, the formats, seeds, and round trips (hypothesis)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from buzzline_cli import vocabulary as vocab
from buzzline_cli.message import Clock, MessageFactory, Vocabulary
from buzzline_cli.parsing import SentenceParser, parse_line, parse_stamp

TEXT_RE = re.compile(r"While in (.+) I just (\w+) (an? .+)! It was (\w+)\.")


def test_default_vocabulary_is_the_originals() -> None:
    assert len(vocab.ADJECTIVES) == 12
    assert len(vocab.ACTIONS) == 11
    assert len(vocab.TOPICS) == 12
    assert len(vocab.STATES) == 14
    assert (
        Vocabulary().sentence(0)
        == "While in Montana I just explored a hiking trail! It was astonishing."
    )


def test_every_combination_is_reachable_and_distinct() -> None:
    v = Vocabulary()
    sentences = {v.sentence(i) for i in range(v.combinations)}
    assert len(sentences) == 12 * 11 * 12 * 14


def test_text_lines_follow_the_template() -> None:
    factory = MessageFactory(Vocabulary(), seed=3)
    for line in factory.render(factory.draw(200)):
        match = TEXT_RE.fullmatch(line.decode())
        assert match, line
        state, action, topic, adjective = match.groups()
        assert state in vocab.STATES and action in vocab.ACTIONS
        assert topic in vocab.TOPICS and adjective in vocab.ADJECTIVES


def test_same_seed_same_messages() -> None:
    def run(seed: int, fmt: str = "text") -> list[bytes]:
        f = MessageFactory(Vocabulary(), seed=seed, format=fmt)  # type: ignore[arg-type]
        return f.render(f.draw(50))

    assert run(7) == run(7)
    assert run(7) != run(8)
    # the format changes the look, not the draw
    assert [json.loads(line)["message"].encode() for line in run(7, "json")] == run(7)


def test_json_lines_carry_the_documented_fields() -> None:
    clock = Clock(now_ns=lambda: 1_764_855_853_015_123_000)
    factory = MessageFactory(Vocabulary(), format="json", seed=1, clock=clock)
    first, second = (json.loads(x) for x in factory.render(factory.draw(2)))
    assert list(first) == ["seq", "ts", "state", "action", "topic", "adjective", "message"]
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["ts"] == "2025-12-04T13:44:13.015123Z"
    assert first["message"] == Vocabulary().template.format(**{k: first[k] for k in vocab.FIELDS})


def test_log_lines_look_like_the_originals() -> None:
    clock = Clock(now_ns=lambda: 1_764_855_853_015_123_000)
    factory = MessageFactory(Vocabulary(), format="log", seed=1, clock=clock)
    line = factory.render(factory.draw(1))[0].decode()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.015 \| INFO \| While in .+\.", line)
    parsed = parse_line(line)
    assert parsed.kind == "log"
    assert parsed.message.startswith("While in ")


def test_the_originals_loguru_line_parses() -> None:
    line = (
        "2026-12-04 13:44:13.015 | INFO     | __main__:main:168 - While in California "
        "I just watched a sunrise view! It was fascinating."
    )
    parsed = parse_line(line)
    assert parsed.kind == "loguru"
    assert (
        parsed.message == "While in California I just watched a sunrise view! It was fascinating."
    )
    assert parsed.stamp == "2026-12-04 13:44:13.015"


def test_stamps_parse_to_utc() -> None:
    assert parse_stamp("2026-12-04T13:44:13.015123Z") == datetime(
        2026, 12, 4, 13, 44, 13, 15123, tzinfo=UTC
    )
    assert parse_stamp("not a time") is None


words = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)
vocabularies = st.builds(
    Vocabulary,
    states=st.lists(words, min_size=1, max_size=5, unique=True).map(tuple),
    actions=st.lists(words, min_size=1, max_size=5, unique=True).map(tuple),
    topics=st.lists(words, min_size=1, max_size=5, unique=True).map(tuple),
    adjectives=st.lists(words, min_size=1, max_size=5, unique=True).map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(vocabularies, st.integers(min_value=0, max_value=2**32), st.integers(1, 30))
def test_json_round_trip(vocabulary: Vocabulary, seed: int, n: int) -> None:
    factory = MessageFactory(vocabulary, format="json", seed=seed)
    indices = factory.draw(n)
    for index, line in zip(indices, factory.render(indices), strict=True):
        parsed = parse_line(line.decode())
        assert parsed.kind == "json"
        state, action, topic, adjective = vocabulary.parts(index)
        assert parsed.fields["state"] == state and parsed.fields["action"] == action
        assert parsed.fields["topic"] == topic and parsed.fields["adjective"] == adjective
        assert parsed.message == vocabulary.sentence(index)
        assert parse_stamp(parsed.stamp or "") is not None


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.sampled_from(["text", "log"]))
def test_text_and_log_round_trip(seed: int, fmt: str) -> None:
    vocabulary = Vocabulary()
    parser = SentenceParser(vocabulary)
    factory = MessageFactory(vocabulary, format=fmt, seed=seed)  # type: ignore[arg-type]
    indices = factory.draw(20)
    for index, line in zip(indices, factory.render(indices), strict=True):
        parts = parser.parts(parse_line(line.decode()).message)
        assert parts is not None
        assert tuple(parts[f] for f in vocab.FIELDS) == vocabulary.parts(index)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_parses_without_error(line: str) -> None:
    parsed = parse_line(line)
    assert isinstance(parsed.message, str)


@settings(max_examples=60, deadline=None)
@given(vocabularies)
def test_bulk_tables_equal_one_by_one_rendering(vocabulary: Vocabulary) -> None:
    factory = MessageFactory(vocabulary, format="json", seed=1)
    every = range(vocabulary.combinations)
    assert factory._sentences.lookup(every) == [vocabulary.sentence(i) for i in every]
    assert factory._json_tail is not None
    assert factory._json_tail.lookup(every) == [factory._json_fields(i) for i in every]
    assert factory.keys(every) == [vocabulary.parts(i)[0].encode() for i in every]
