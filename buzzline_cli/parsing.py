"""Reading lines back: every ``produce`` format, the original's loguru lines, or any text.

``parse_line`` finds the message text (what rules match against) and, when the line carries
them, its timestamp and its JSON fields. ``SentenceParser`` recovers the state, action, topic
and adjective of a sentence made from the template.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from buzzline_cli.message import Vocabulary
from buzzline_cli.vocabulary import FIELDS

Kind = Literal["json", "log", "loguru", "text"]

# buzzline's log format: ``2026-12-04 13:44:13.015 | INFO | message``; and the original's,
# loguru's default: ``2026-12-04 13:44:13.015 | INFO     | __main__:main:168 - message``.
LOG_STAMP = r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)"
LOGURU_RE = re.compile(LOG_STAMP + r" \| ([A-Z]+) *\| [^ |]+:[^ |]*:\d+ - (.*)", re.S)
LOG_RE = re.compile(LOG_STAMP + r" \| ([A-Z]+) *\| (.*)", re.S)


# produce's own JSON lines, recognised without parsing the whole object (when their strings
# hold no escapes): the seq, the ts and the message, which is the last key.
PRODUCED_JSON_RE = re.compile(r'\{"seq": (\d+), "ts": "([^"\\]*)", .*"message": "([^"\\]*)"\}')
# The same, line by line over a whole chunk (re.M; no line may run into the next).
PRODUCED_JSON_LINES_RE = re.compile(
    r'^\{"seq": (\d+), "ts": "([^"\\\n]*)", [^\n]*"message": "([^"\\\n]*)"\}$', re.M
)


def parse_produced_json(line: str) -> tuple[int, str, str] | None:
    """(seq, ts, message) of a line exactly as ``produce --format json`` writes it, else None
    (then ``parse_line`` reads it). The other fields are parsed only when needed."""
    match = PRODUCED_JSON_RE.fullmatch(line)
    if match is None:
        return None
    return int(match.group(1)), match.group(2), match.group(3)


@dataclass
class Parsed:
    message: str
    kind: Kind
    stamp: str | None = None  # the timestamp as written
    fields: dict[str, Any] = field(default_factory=dict)  # a JSON line's object


def parse_line(line: str) -> Parsed:
    """The message in ``line`` (no newline), whatever format it is in."""
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            return Parsed(line, "text")
        if isinstance(obj, dict):
            message = obj.get("message")
            stamp = obj.get("ts")
            return Parsed(
                message if isinstance(message, str) else line,
                "json",
                stamp if isinstance(stamp, str) else None,
                obj,
            )
        return Parsed(line, "text")
    if line[:2].isdigit() and " | " in line:
        match = LOGURU_RE.match(line)
        if match:
            return Parsed(match.group(3), "loguru", match.group(1))
        match = LOG_RE.match(line)
        if match:
            return Parsed(match.group(3), "log", match.group(1))
    return Parsed(line, "text")


def parse_stamp(stamp: str) -> datetime | None:
    """An aware datetime for an RFC 3339 ``ts`` or a log stamp (local time), else None."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # log stamps are local time, as loguru writes them
    return moment.astimezone(UTC)


class SentenceParser:
    """Recovers (state, action, topic, adjective) from sentences made by the template."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        choices = {
            "state": vocabulary.states,
            "action": vocabulary.actions,
            "topic": vocabulary.topics,
            "adjective": vocabulary.adjectives,
        }
        pattern = []
        seen: set[str] = set()
        for literal, name, _spec, _conv in _template_parts(vocabulary.template):
            pattern.append(re.escape(literal))
            if name is None:
                continue
            words = sorted(set(choices[name]), key=len, reverse=True)
            alternatives = "|".join(re.escape(w) for w in words)
            if name in seen:
                pattern.append(f"(?P={name})")
            else:
                pattern.append(f"(?P<{name}>{alternatives})")
                seen.add(name)
        self._regex = re.compile("".join(pattern))
        self.fields = tuple(f for f in FIELDS if f in seen)

    def parts(self, sentence: str) -> dict[str, str] | None:
        match = self._regex.fullmatch(sentence)
        return None if match is None else match.groupdict()


def _template_parts(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    import string

    return list(string.Formatter().parse(template))
