"""`buzzline stats`: exact counts (against a per-line count of a generated log), every input
format, windows on a fixed clock, the JSON schema, CSV, export, hostile input, exit codes."""

from __future__ import annotations

import gzip
import json
import random
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from buzzline_cli import stats as core
from buzzline_cli import vocabulary as v
from buzzline_cli.cli import app
from buzzline_cli.consume import decode_line
from buzzline_cli.lifecycle import StopSignals
from buzzline_cli.message import Vocabulary
from buzzline_cli.parsing import SentenceParser, parse_line, parse_stamp
from buzzline_cli.render.tables import bar, progress_bar, render_csv, sparkline
from buzzline_cli.rules import Matcher, RuleSpec
from buzzline_cli.seq import SeqTracker
from buzzline_cli.stats import (
    StatsCollector,
    build_report,
    collect,
    collect_split,
    lexicon,
    parse_window,
)
from buzzline_cli.transports.files import file_source
from tests.conftest import assert_no_traceback, buzzline_cmd, run_buzzline

runner = CliRunner()
T0 = 1_796_392_800  # 2026-12-04 14:00:00 UTC: a round hour
COLORADO = "While in Colorado I just explored a hiking trail! It was majestic."
UTAH = "While in Utah I just watched a hidden waterfall! It was peculiar."


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log stamps are local time: make local time UTC, so the clock is fixed."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def sentence(state: str, action: str, topic: str, adjective: str) -> str:
    return v.TEMPLATE.format(state=state, action=action, topic=topic, adjective=adjective)


def log_stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stats_json(*args: str, input: str | bytes | None = None) -> dict[str, Any]:
    result = runner.invoke(app, ["stats", *args, "--format", "json"], input=input)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def collector(window: int | None = None, matcher: Matcher | None = None) -> StatsCollector:
    return StatsCollector(
        SentenceParser(Vocabulary()),
        matcher,
        lexicon(v.POSITIVE, v.NEGATIVE, v.NEUTRAL),
        window=window,
        vocabulary=Vocabulary(),
    )


@pytest.fixture(params=["table", "regex"])
def sentence_table(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of recognizing sentences: the table of every sentence, and the regex."""
    monkeypatch.setattr(core, "TABLE_MIN", 0 if request.param == "table" else 1 << 30)
    return str(request.param)


# -- a generated log, counted independently ---------------------------------------------------

parts = st.tuples(
    st.sampled_from(v.STATES),
    st.sampled_from(v.ACTIONS),
    st.sampled_from(v.TOPICS),
    st.sampled_from(v.ADJECTIVES),
)
# Noise never looks like a sentence, a stamp or JSON ("~" first) and never says Colorado.
noise = st.text(
    st.characters(exclude_characters="\n\rCc", exclude_categories=["Cs"]), max_size=30
).map(lambda s: "~" + s)
junk = st.binary(max_size=30).map(lambda b: b"~" + b.replace(b"\n", b" "))


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["text", "log", "loguru", "json", "json-other", "noise", "junk", "blank"])
    )
    entry: dict[str, Any] = {
        "kind": kind,
        "parts": draw(parts),
        "t": T0 + draw(st.integers(0, 999)),
    }
    entry["t"] += draw(st.integers(0, 999)) / 1000
    entry["noise"] = draw(noise) if kind == "noise" else draw(junk)
    entry["level"] = draw(st.sampled_from(["INFO", "WARNING"]))
    entry["crlf"] = draw(st.booleans())
    return entry


def render(entry: dict[str, Any], seq: int) -> bytes:
    kind, t = entry["kind"], entry["t"]
    message = sentence(*entry["parts"])
    if kind == "text":
        line = message.encode()
    elif kind == "log":
        line = f"{log_stamp(t)} | {entry['level']} | {message}".encode()
    elif kind == "loguru":
        line = f"{log_stamp(t)} | {entry['level']:<8} | __main__:main:168 - {message}".encode()
    elif kind in ("json", "json-other"):
        fields = dict(zip(v.FIELDS, entry["parts"], strict=True))
        obj: dict[str, Any] = {"seq": seq, "ts": rfc3339(t), **fields, "message": message}
        if kind == "json-other":  # another key order: not produce's own layout
            obj = {"message": message, "ts": obj["ts"], "seq": seq, **fields}
        line = json.dumps(obj).encode()
    elif kind == "noise":
        line = entry["noise"].encode()
    elif kind == "junk":
        line = entry["noise"]
    else:
        line = b""
    return line + (b"\r" if entry["crlf"] and kind != "blank" else b"")


def expected(entries: list[dict[str, Any]], lines: list[bytes]) -> dict[str, Any]:
    """What stats must say, from what was generated, one line at a time."""
    out: dict[str, Any] = {
        "messages": 0,
        "empty": 0,
        "parsed": 0,
        "malformed": 0,
        "formats": Counter(),
        "dims": {f: Counter() for f in v.FIELDS},
        "sentiment": Counter(),
        "stamps": [],
        "texts": set(),
        "colorado": 0,
    }
    rating = {**dict.fromkeys(v.NEUTRAL, "neutral"), **dict.fromkeys(v.NEGATIVE, "negative")}
    rating.update(dict.fromkeys(v.POSITIVE, "positive"))
    for entry, line in zip(entries, lines, strict=True):
        kind = entry["kind"]
        if line in (b"", b"\r"):
            out["empty"] += 1
            continue
        out["messages"] += 1
        try:
            text = line.decode()
            bad = "\x00" in text
        except UnicodeDecodeError:
            text, bad = line.decode(errors="replace"), True
        out["malformed"] += bad
        if kind in ("noise", "junk"):
            out["formats"]["text"] += 1
            out["texts"].add(text.removesuffix("\r"))
            continue
        out["formats"][{"json-other": "json"}.get(kind, kind)] += 1
        out["parsed"] += 1
        for name, value in zip(v.FIELDS, entry["parts"], strict=True):
            out["dims"][name][value] += 1
        out["sentiment"][rating[entry["parts"][3]]] += 1
        out["texts"].add(sentence(*entry["parts"]))
        out["colorado"] += entry["parts"][0] == "Colorado"
        if kind != "text":
            out["stamps"].append(entry["t"])
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    blocks=st.lists(
        st.tuples(entries(), st.integers(1, 40)), min_size=0, max_size=12
    ),  # runs of one kind, so that the chunk-wide fast paths are taken too
    cut=st.integers(1, 2000),
    table=st.booleans(),
)
def test_counts_match_an_independent_count(
    blocks: list[tuple[dict[str, Any], int]], cut: int, table: bool
) -> None:
    rng = random.Random(len(blocks) * 7919 + cut)
    generated: list[dict[str, Any]] = []
    for entry, repeat in blocks:
        for _ in range(repeat):  # the same kind, with other parts and times
            generated.append(
                {
                    **entry,
                    "parts": tuple(
                        rng.choice(x) for x in (v.STATES, v.ACTIONS, v.TOPICS, v.ADJECTIVES)
                    ),
                    "t": entry["t"] + rng.random() * 90,
                }
            )
    lines = [render(e, i + 1) for i, e in enumerate(generated)]
    want = expected(generated, lines)
    data = b"".join(line + b"\n" for line in lines)
    matcher = Matcher(("Colorado",))
    stats = collector(window=60, matcher=matcher)
    saved, core.TABLE_MIN = core.TABLE_MIN, 0 if table else 1 << 30
    try:
        start = 0
        while start < len(data):  # chunks of whole lines, of about `cut` bytes
            end = data.find(b"\n", start + cut) + 1 or len(data)
            stats.feed(data[start:end])
            start = end
        report = build_report(stats, sources=["generated"], top=100, keywords=["Colorado"])
    finally:
        core.TABLE_MIN = saved
    assert report.lines == len(lines)
    assert report.messages == want["messages"]
    assert report.empty == want["empty"]
    assert report.parsed == want["parsed"]
    assert report.unparsed == want["messages"] - want["parsed"]
    assert report.malformed == want["malformed"]
    assert report.distinct == len(want["texts"]) and report.distinct_exact
    assert report.formats == {k: want["formats"].get(k, 0) for k in core.KINDS}
    for name in v.FIELDS:
        assert dict(report.dimensions[name]) == dict(want["dims"][name])
    assert report.sentiment == dict(want["sentiment"])
    assert report.keywords == {"Colorado": want["colorado"]}
    assert report.alerts == want["colorado"]
    stamps = want["stamps"]
    assert report.stamped == len(stamps)
    if stamps:  # log stamps keep milliseconds, JSON ones microseconds
        assert report.first == pytest.approx(min(stamps), abs=1e-3)
        assert report.last == pytest.approx(max(stamps), abs=1e-3)
        windows = Counter(int(t // 60) * 60 for t in stamps)
        assert report.window == 60 and report.window_start == min(windows)
        assert report.windows == [
            windows.get(report.window_start + 60 * i, 0) for i in range(len(report.windows))
        ]
        assert sum(report.windows) == len(stamps)
    else:
        assert report.first is None and report.windows == []
    seqs = SeqTracker()
    for i, entry in enumerate(generated):
        if entry["kind"] in ("json", "json-other"):
            seqs.add(i + 1)
    if seqs.seen:
        assert report.sequence == {
            "seen": seqs.seen,
            "runs": seqs.runs,
            "lost": seqs.lost,
            "duplicates": seqs.duplicates,
        }
    else:
        assert report.sequence is None


def reference(data: bytes) -> dict[str, Any]:
    """The naive count: every line decoded, parsed with parse_line, one at a time."""
    parser = SentenceParser(Vocabulary())
    out: dict[str, Any] = {"lines": 0, "empty": 0, "malformed": 0, "parsed": 0}
    kinds: Counter[str] = Counter()
    dims: dict[str, Counter[str]] = {f: Counter() for f in v.FIELDS}
    texts: set[str] = set()
    stamps: list[float] = []
    seqs = SeqTracker()
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for raw in lines:
        out["lines"] += 1
        if raw in (b"", b"\r"):
            out["empty"] += 1
            continue
        text, bad = decode_line(raw)
        out["malformed"] += bad
        parsed = parse_line(text)
        kinds[parsed.kind] += 1
        texts.add(parsed.message)
        found = {f: parsed.fields[f] for f in v.FIELDS if isinstance(parsed.fields.get(f), str)}
        got = found or parser.parts(parsed.message)
        if got:
            out["parsed"] += 1
            for name, value in got.items():
                dims[name][value] += 1
        seq = parsed.fields.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            seqs.add(seq)
        moment = parse_stamp(parsed.stamp) if parsed.stamp else None
        if moment is not None:
            stamps.append(moment.timestamp())
    out.update(
        kinds={k: kinds.get(k, 0) for k in core.KINDS},
        dims={k: dict(c) for k, c in dims.items()},
        distinct=len(texts),
        stamps=stamps,
        seq=(seqs.seen, seqs.lost, seqs.duplicates, seqs.runs),
    )
    return out


def assert_matches_reference(data: bytes, chunked: list[bytes]) -> None:
    stats = collector()
    for chunk in chunked:
        stats.feed(chunk)
    report = build_report(stats, sources=[])
    want = reference(data)
    assert report.lines == want["lines"]
    assert report.empty == want["empty"]
    assert report.malformed == want["malformed"]
    assert report.formats == want["kinds"]
    assert report.parsed == want["parsed"]
    assert {k: dict(x) for k, x in report.dimensions.items()} == want["dims"]
    assert report.distinct == want["distinct"]
    assert report.stamped == len(want["stamps"])
    if want["stamps"]:
        assert report.first == pytest.approx(min(want["stamps"]), abs=1e-6)
        assert report.last == pytest.approx(max(want["stamps"]), abs=1e-6)
    seq = report.sequence or {"seen": 0, "lost": 0, "duplicates": 0, "runs": 0}
    assert (seq["seen"], seq["lost"], seq["duplicates"], seq["runs"]) == want["seq"]


def test_fast_paths_agree_with_parse_line(sentence_table: str) -> None:
    """Chunks of produce's own formats take the chunk-wide paths; oddities among them send a
    chunk down the line-by-line one. Either way, the counts are parse_line's."""
    rng = random.Random(5)
    blocks: list[list[str | bytes]] = []
    for kind in range(4):
        block: list[str | bytes] = []
        for i in range(300):
            message = sentence(
                *(rng.choice(x) for x in (v.STATES, v.ACTIONS, v.TOPICS, v.ADJECTIVES))
            )
            t = T0 + kind * 100 + i * 0.037
            block.append(
                [
                    message,
                    f"{log_stamp(t)} | INFO | {message}",
                    f"{log_stamp(t)} | INFO     | __main__:main:168 - {message}",
                    json.dumps({"seq": i + 1, "ts": rfc3339(t), "message": message}),
                ][kind]
            )
        blocks.append(block)
    oddities: list[list[str | bytes]] = [
        ["2026-13-45 99:99:99.000 | INFO | no such date"],  # log-shaped, no real time
        ["2026-12-04 14:00:01.5 | INFO | a shorter fraction", "2026-12-04 14:00:02 | X | y"],
        ["2026-12-04 14:00:01.500 | INFO | x:y:1 - loguru-like message"],
        ["2026-12-04 14:00:01.500 | INFO | \xff broken utf-8".encode("latin-1")],
        ["2026-12-04 14:00:01.5001234 | INFO | seven fraction digits"],
        ['{"seq": 7, "ts": "2026-12-04T14:00:00Z", "message": "no fraction"}'],
        ['{"seq": 8, "ts": "2026-12-04T14:00:00.5+02:00", "message": "another zone"}'],
        ['{"seq": 9, "ts": "2026-12-04T14:00:00.5Z", "state": "Utah"}'],  # no message
        ['{"seq": 10, "ts": "2026-12-04T14:00:00.5Z", "seq": 3, "message": "seq twice"}'],
        ['{"seq": 11, "ts": "2026-12-04T14:00:00.5Z", "message": }'],  # not JSON
        ['{"seq": 12, "ts": "2026-12-04T14:00:00.5Z", "message": "\xff"}'.encode("latin-1")],
        ['{"seq": 13, "ts": "2026-99-04T14:00:00.5Z", "message": "bad month"}'],
        ['{"seq": true, "message": "a boolean seq"}', "{broken", "{}", "{[1]"],
        ["12 | not a log", "", "\r", "plain \x00 nul"],
    ]
    for oddity in oddities:  # each in a block of its own kind, and mixed into another one
        same = blocks[3] if str(oddity[0])[:1] == "{" else blocks[1]
        blocks.append(same[:50] + oddity + same[50:100])
        blocks.append(blocks[0][:20] + oddity)
    lines = [x if isinstance(x, bytes) else x.encode() for block in blocks for x in block]
    data = b"".join(line + b"\n" for line in lines)
    per_block = [b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in block)
                 for block in blocks]  # fmt: skip
    assert_matches_reference(data, per_block)
    assert_matches_reference(data, [data])
    assert_matches_reference(data, [line + b"\n" for line in lines])


def test_dimension_values_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "VALUE_LIMIT", 3)
    stats = collector()
    stats.feed(b"".join(json.dumps({"state": f"S{i}", "message": "m"}).encode() + b"\n"
                        for i in range(10)))  # fmt: skip
    report = build_report(stats, sources=[], top=2)
    assert len(report.dimensions["state"]) == 3
    shown, other = report.top_values("state")
    assert len(shown) == 2 and sum(n for _, n in shown) + other == 10


def test_two_processes_count_what_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sentence_table: str
) -> None:
    monkeypatch.setattr(core, "SPLIT_MIN_BYTES", 1)
    rng = random.Random(9)
    path = tmp_path / "buzz.log"
    lines = []
    for i in range(4000):
        message = sentence(*(rng.choice(x) for x in (v.STATES, v.ACTIONS, v.TOPICS, v.ADJECTIVES)))
        lines.append(f"{log_stamp(T0 + i)} | INFO | {message}" if i % 3 else message)
    lines.insert(3500, "\xff junk")
    path.write_bytes("".join(line + "\n" for line in lines).encode(errors="surrogateescape"))
    assert core.can_split(path)
    one, two = collector(), collector()
    collect([file_source(path)], one, StopSignals())
    collect_split(path, two, StopSignals(), max_line_bytes=1 << 20)
    assert build_report(one, sources=[]).to_dict() == build_report(two, sources=[]).to_dict()
    # JSON lines with seq in the second half: that half is read again, in order.
    with path.open("a") as handle:
        for i in range(5):
            handle.write(json.dumps({"seq": 10 - i, "ts": rfc3339(T0), "message": UTAH}) + "\n")
    one, two = collector(), collector()
    collect([file_source(path)], one, StopSignals())
    collect_split(path, two, StopSignals(), max_line_bytes=1 << 20)
    report = build_report(two, sources=[])
    assert report.to_dict() == build_report(one, sources=[]).to_dict()
    assert report.sequence is not None and report.sequence["seen"] == 5


# -- the command -------------------------------------------------------------------------------


def produce(path: Path, *args: str) -> None:
    result = runner.invoke(app, ["produce", "--interval", "0", "-o", str(path), *args])
    assert result.exit_code == 0, result.output


def test_json_schema(tmp_path: Path) -> None:
    path = tmp_path / "buzz.jsonl"
    produce(path, "--count", "500", "--seed", "7", "--format", "json")
    data = stats_json(str(path), "--top", "3", "-k", "Colorado,hiking")
    assert data["schema"] == "buzzline.stats/1"
    assert set(data) == {
        "schema", "sources", "lines", "messages", "parsed", "unparsed", "malformed",
        "oversize", "empty", "distinct", "distinct_exact", "formats", "time", "dimensions",
        "sentiment", "keywords", "windows", "sequence",
    }  # fmt: skip
    assert data["sources"] == [str(path)]
    assert data["lines"] == data["messages"] == data["parsed"] == 500
    assert data["formats"] == {"text": 0, "json": 500, "log": 0, "loguru": 0}
    assert set(data["time"]) == {"stamped", "first", "last", "span_seconds", "rate_per_second"}
    assert data["time"]["stamped"] == 500
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", data["time"]["first"])
    assert list(data["dimensions"]) == list(v.FIELDS)
    for body in data["dimensions"].values():
        assert set(body) == {"distinct", "values", "other"}
        assert len(body["values"]) == 3
        assert sum(x["count"] for x in body["values"]) + body["other"] == 500
        assert all(set(x) == {"value", "count", "share"} for x in body["values"])
        counts = [x["count"] for x in body["values"]]
        assert counts == sorted(counts, reverse=True)
    assert set(data["sentiment"]) == {"positive", "negative", "neutral", "score"}
    assert sum(data["sentiment"][k] for k in ("positive", "negative", "neutral")) == 500
    assert set(data["keywords"]) == {"mode", "alerts", "per_keyword", "per_rule"}
    assert list(data["keywords"]["per_keyword"]) == ["Colorado", "hiking"]
    assert set(data["windows"]) == {"seconds", "auto", "start", "counts"}
    assert data["windows"]["auto"] is True and sum(data["windows"]["counts"]) == 500
    assert data["sequence"] == {"seen": 500, "runs": 1, "lost": 0, "duplicates": 0}
    text = runner.invoke(app, ["produce", "--interval", "0", "--count", "5"]).stdout
    plain = stats_json(input=text)
    assert plain["time"] is None and plain["windows"] is None and plain["sequence"] is None
    assert plain["keywords"] is None and plain["sources"] == ["stdin"]


def test_csv_is_long_format(tmp_path: Path) -> None:
    path = tmp_path / "buzz.log"
    produce(path, "--count", "300", "--seed", "2", "--format", "log")
    result = runner.invoke(app, ["stats", str(path), "--format", "csv", "--by", "state"])
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.stdout.splitlines()]
    assert rows[0] == ["dimension", "value", "count"]
    assert all(len(row) == 3 for row in rows)
    table = {(d, value): count for d, value, count in rows[1:]}
    assert table[("summary", "lines")] == "300"
    assert table[("format", "log")] == "300"
    assert sum(int(c) for (d, _), c in table.items() if d == "state") == 300
    assert not any(d == "topic" for d, _ in table)  # --by state only
    assert sum(int(c) for (d, _), c in table.items() if d == "window") == 300


def test_gz_and_several_files(tmp_path: Path) -> None:
    one, two = tmp_path / "one.log", tmp_path / "two.log"
    produce(one, "--count", "400", "--seed", "1")
    produce(two, "--count", "300", "--seed", "2", "--format", "log")
    packed = tmp_path / "two.log.gz"
    packed.write_bytes(gzip.compress(two.read_bytes()))
    both = stats_json(str(one), str(packed), "--top", "100")
    assert both["sources"] == [str(one), str(packed)]
    assert both["messages"] == 700
    assert both["formats"]["text"] == 400 and both["formats"]["log"] == 300
    singles = [stats_json(str(one), "--top", "100"), stats_json(str(two), "--top", "100")]
    for name in v.FIELDS:  # the counts of the two together are the sums of each alone
        merged: Counter[str] = Counter()
        for single in singles:
            merged.update({x["value"]: x["count"] for x in single["dimensions"][name]["values"]})
        got = {x["value"]: x["count"] for x in both["dimensions"][name]["values"]}
        assert got == dict(merged)
    assert both["time"] == singles[1]["time"]  # only the log carries stamps
    assert stats_json(str(packed))["messages"] == 300  # gzip is found by its magic number


def test_windows_on_a_fixed_clock() -> None:
    seconds = [0, 1, 29, 30, 59, 60, 61, 179, 185]  # from T0, a round hour
    lines = [
        json.dumps({"seq": i + 1, "ts": rfc3339(T0 + s), "message": UTAH})
        for i, s in enumerate(seconds)
    ]
    lines += [f"{log_stamp(T0 + 200.5)} | INFO | {COLORADO}"]  # local time: UTC here
    stdin = "\n".join(lines) + "\n"
    data = stats_json("--window", "1m", input=stdin)
    assert data["windows"] == {
        "seconds": 60,
        "auto": False,
        "start": rfc3339(T0),
        "counts": [5, 2, 1, 2],
    }
    half = stats_json("--window", "30s", input=stdin)["windows"]
    assert half["counts"] == [3, 2, 2, 0, 0, 1, 2]
    assert stats_json("--window", "2h30m", input=stdin)["windows"]["start"] == rfc3339(
        T0 - T0 % 9000
    )
    assert data["time"]["first"] == rfc3339(T0) and data["time"]["last"] == rfc3339(T0 + 200.5)
    assert data["time"]["span_seconds"] == 200.5
    assert data["time"]["rate_per_second"] == round(10 / 200.5, 3)
    auto = stats_json(input=stdin)["windows"]
    assert auto["auto"] is True and auto["seconds"] == 5 and sum(auto["counts"]) == 10


def test_parse_window() -> None:
    assert [parse_window(w) for w in ("30s", "1m", "1h", "2h30m", "1d", "90", " 5M ")] == [
        30, 60, 3600, 9000, 86400, 90, 300,
    ]  # fmt: skip
    for bad in ("", "0s", "5x", "1.5m", "m", "-1m"):
        with pytest.raises(ValueError):
            parse_window(bad)
    result = runner.invoke(app, ["stats", "--window", "soon"], input="x\n")
    assert result.exit_code == 2
    assert "stats.window = 'soon' (from flag)" in result.output


def test_sequence_gaps_and_duplicates() -> None:
    seqs = [1, 2, 4, 4, 5, 8]
    stdin = "".join(json.dumps({"seq": s, "message": UTAH}) + "\n" for s in seqs)
    assert stats_json(input=stdin)["sequence"] == {
        "seen": 6,
        "runs": 1,
        "lost": 3,
        "duplicates": 1,
    }


def test_keywords_rules_and_config(isolated_env: Path) -> None:
    (isolated_env / "buzzline.toml").write_text(
        '[stats]\nby = ["state"]\ntop = 2\n'
        '[[consume.rules]]\nname = "co-outdoors"\nall = ["Colorado"]\nany = ["hiking"]\n'
        '[vocabulary]\npositive = ["peculiar"]\nnegative = ["majestic"]\nneutral = []\n'
    )
    stdin = f"{COLORADO}\n{COLORADO}\n{UTAH}\nhiking alone\n"
    data = stats_json(input=stdin)
    assert list(data["dimensions"]) == ["state"]
    assert [x["value"] for x in data["dimensions"]["state"]["values"]] == ["Colorado", "Utah"]
    assert data["keywords"] == {
        "mode": "any",
        "alerts": 2,
        "per_keyword": {"Colorado": 2, "hiking": 2},
        "per_rule": {"co-outdoors": 2},
    }
    assert data["sentiment"]["positive"] == 1 and data["sentiment"]["negative"] == 2
    # Flags win over the file; --all needs every keyword.
    flagged = stats_json("--by", "topic,adjective", "-k", "Utah,hiking", "--all", input=stdin)
    assert list(flagged["dimensions"]) == ["topic", "adjective"]
    assert flagged["keywords"]["mode"] == "all"
    assert flagged["keywords"]["per_keyword"] == {"Utah": 0, "hiking": 2, "Colorado": 2}
    bad = runner.invoke(app, ["stats", "--by", "mood"], input=stdin)
    assert bad.exit_code == 2 and "unknown dimension 'mood'" in bad.output


def test_table_fits_80_columns_and_respects_no_color(tmp_path: Path) -> None:
    path = tmp_path / "buzz.log"
    produce(path, "--count", "2000", "--seed", "3", "--format", "log")
    env = {"COLUMNS": "80", "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    coloured = runner.invoke(app, ["stats", str(path), "-k", "Colorado"], env=env)
    assert coloured.exit_code == 0, coloured.output
    assert "\x1b[36m" in coloured.stdout  # cyan bars
    plain = runner.invoke(app, ["stats", str(path), "-k", "Colorado"], env={**env, "NO_COLOR": "1"})
    assert not re.search(r"\x1b\[[0-9;]*3[0-7]m", plain.stdout)  # no colour at all
    text = runner.invoke(app, ["stats", str(path), "-k", "Colorado"]).stdout
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for expected_text in ("by state", "by topic", "a night under the stars", "sentiment", "█"):
        assert expected_text in text
    assert "window (automatic)" in text


def test_untrusted_values_are_escaped() -> None:
    line = json.dumps({"seq": 1, "state": "\x1b[2J\u202eevil", "message": "\x1b]0;pwn\x07"})
    result = runner.invoke(app, ["stats", "--format", "table"], input=line + "\n")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b[2J" in result.stdout
    data = stats_json(input=line + "\n")
    assert data["dimensions"]["state"]["values"][0]["value"] == "\x1b[2J\u202eevil"
    csv_text = runner.invoke(app, ["stats", "--format", "csv"], input=line + "\n").stdout
    assert "\x1b" not in csv_text


def test_export_svg_and_html(tmp_path: Path) -> None:
    path = tmp_path / "buzz.log"
    produce(path, "--count", "100", "--seed", "4")
    svg, html = tmp_path / "out" / "report.svg", tmp_path / "report.html"
    result = runner.invoke(app, ["stats", str(path), "--export", str(svg)])
    assert result.exit_code == 0, result.output
    picture = svg.read_text()
    assert picture.startswith("<svg") and "buzzline" in picture and "state" in picture
    result = runner.invoke(app, ["stats", str(path), "--format", "json", "--export", str(html)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["messages"] == 100  # stdout stays JSON
    page = html.read_text()
    assert "<html" in page.lower() and "by adjective" in page
    bad = runner.invoke(app, ["stats", str(path), "--export", str(tmp_path / "report.png")])
    assert bad.exit_code == 2 and ".svg or .html" in bad.output


def test_hostile_input_is_counted_never_fatal(tmp_path: Path) -> None:
    rng = random.Random(11)
    junk = bytes(rng.randrange(256) for _ in range(20_000))
    data = (
        COLORADO.encode()
        + b"\n\xff\xfe not utf-8\nNUL\x00inside\n"
        + b"x" * (3 << 20)
        + b"\n"
        + junk
        + b'\n{"seq": 1, "ts": "not a time", "message": 5}\n'
        + b"2026-13-45 99:99:99.000 | INFO | bad date\n"
        + b"\x1b[2J\x1b]0;title\x07\n"
        + UTAH.encode()  # no final newline: still counted
    )
    path = tmp_path / "hostile.log"
    path.write_bytes(data)
    result = run_buzzline(["stats", str(path), "--format", "json"])
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result.stderr)
    report = json.loads(result.stdout)
    assert report["lines"] == data.count(b"\n") + 1
    assert report["oversize"] == 1
    assert report["parsed"] == 2
    assert report["malformed"] >= 2
    assert report["formats"]["json"] == 1 and report["formats"]["log"] == 1
    assert report["time"] is None  # neither stamp is a real time
    shown = run_buzzline(["stats", str(path)])
    assert shown.returncode == 0 and b"\x1b" not in shown.stdout
    assert_no_traceback(shown.stderr)


def test_stdin_empty_input_and_missing_file(tmp_path: Path) -> None:
    text = runner.invoke(app, ["produce", "--interval", "0", "--count", "50"]).stdout
    piped = run_buzzline(["stats", "-", "--format", "json"], input=text.encode())
    assert piped.returncode == 0 and json.loads(piped.stdout)["messages"] == 50
    assert piped.stderr == b""  # no progress bar: stderr is not a terminal
    empty = run_buzzline(["stats", "--format", "json"], input=b"")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout)["lines"] == 0
    empty_table = run_buzzline(["stats"], input=b"")
    assert empty_table.returncode == 0 and b"lines" in empty_table.stdout
    missing = run_buzzline(["stats", str(tmp_path / "nope.log")])
    assert missing.returncode == 1
    assert missing.stderr.decode().splitlines() == [
        f"buzzline: error: cannot read {tmp_path / 'nope.log'}: No such file or directory"
    ]
    assert missing.stdout == b""
    kafka = runner.invoke(app, ["stats", "kafka://no-port/buzz"])  # a malformed topic name
    assert kafka.exit_code == 2


def test_bounded_memory_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "MESSAGE_LIMIT", 50)
    monkeypatch.setattr(core, "PENDING_LIMIT", 40)
    monkeypatch.setattr(core, "_BUCKET_LIMIT", 10)
    stats = collector()
    lines = [f"{log_stamp(T0 + 7 * i)} | INFO | note {i % 120}" for i in range(600)]
    for i in range(0, 600, 50):
        stats.feed("".join(x + "\n" for x in lines[i : i + 50]).encode())
    report = build_report(stats, sources=[])
    assert report.messages == report.unparsed == 600
    assert not report.distinct_exact and 50 <= report.distinct <= 120
    assert stats.time.resolution > 1  # coarsened, still exact per window
    assert sum(report.windows) == 600 and report.window is not None
    assert report.first == T0 and report.last == T0 + 7 * 599


def test_bars_and_sparklines() -> None:
    assert bar(1, 4) == "████" and bar(0, 4) == "" and bar(0.5, 3) == "█▌"
    line, group = sparkline([0, 1, 2, 8], 10)
    assert group == 1 and line[0] == " " and line[-1] == "█"
    line, group = sparkline(list(range(100)), 10)
    assert group == 10 and len(line) == 10


def test_csv_escapes_nothing_it_need_not() -> None:
    stats = collector(matcher=Matcher((), rules=[RuleSpec("r", all=("Utah",))]))
    stats.feed(f"{UTAH}\n".encode())
    text = render_csv(build_report(stats, sources=[], rules=["r"]))
    assert "rule,r,1\n" in text and "state,Utah,1\n" in text


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with progress_bar(None) as advance:
        assert advance is None  # stderr is not a terminal here
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    with progress_bar(1 << 10) as advance:
        assert advance is None  # too small to be worth a bar
    with progress_bar(None) as advance:
        assert advance is not None
        advance(1 << 20)


@settings(max_examples=60, deadline=None)
@given(
    vocab=st.lists(
        st.lists(st.text("ab :1{", min_size=1, max_size=3), min_size=1, max_size=3),
        min_size=4,
        max_size=4,
    ),
    template=st.sampled_from(
        ["{state} {action} {topic} {adjective}", "{state}{action}", "{adjective}: {state} {state}"]
    ),
)
def test_the_sentence_table_agrees_with_the_parser(vocab: list[list[str]], template: str) -> None:
    states, actions, topics, adjectives = (tuple(dict.fromkeys(w)) for w in vocab)
    words = Vocabulary(states, actions, topics, adjectives, template)
    parser = SentenceParser(words)
    for key, got in core.sentence_table(words, parser).items():
        text = key.decode()
        assert parse_line(text).kind == "text" and parse_line(text).message == text
        assert parser.parts(text) == {
            name: value for name, value in zip(v.FIELDS, got, strict=True) if value is not None
        }


def test_head_ends_it_quietly(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"  # output far larger than a pipe holds
    path.write_text(
        "".join(
            json.dumps({"ts": rfc3339(T0 + i * 17), "state": f"S{i}", "message": "m"}) + "\n"
            for i in range(5000)
        )
    )
    for args in (["--top", "10000"], ["--format", "csv", "--window", "1s"]):
        proc = subprocess.Popen(
            buzzline_cmd("stats", str(path), *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 0, err
        assert err == b""


def test_ctrl_c_and_sigterm_end_it_with_their_codes() -> None:
    for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        proc = subprocess.Popen(
            buzzline_cmd("stats", "-"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdin is not None
        # More than a pipe holds: once written, stats is reading (its handlers are in place).
        proc.stdin.write((COLORADO + "\n").encode() * 20_000)
        proc.stdin.flush()  # stdin stays open: stats waits for more
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == code, err
        assert_no_traceback(err)
        assert out == b""  # no report of half the input
