"""The naive stats loop, as a speed anchor: every line decoded and parsed on its own.

Per line: decode, the log regex (buzzline's log and loguru formats), the template's regex
on the message, a Counter per dimension, and the timestamp's second. Prints the counts.
"""

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from buzzline_cli.message import Vocabulary
from buzzline_cli.parsing import LOG_RE, LOGURU_RE, SentenceParser

sentence = SentenceParser(Vocabulary())
dims = {name: Counter() for name in ("state", "action", "topic", "adjective")}
seconds = Counter()
lines = unparsed = 0
with Path(sys.argv[1]).open("rb") as handle:
    for raw in handle:
        lines += 1
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        match = LOGURU_RE.match(text) or LOG_RE.match(text)
        if match:
            seconds[match.group(1)[:19]] += 1
            text = match.group(3)
        parts = sentence.parts(text)
        if parts is None:
            unparsed += 1
            continue
        for name, value in parts.items():
            dims[name][value] += 1
print(lines, unparsed, len(seconds), {name: len(c) for name, c in dims.items()})
