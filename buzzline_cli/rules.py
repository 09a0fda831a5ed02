"""Alert rules: keywords and named rules, matched as whole words, case-insensitively.

A keyword matches as literal text (regex characters are not special), ignoring case, and only
as a whole word or phrase: "hiking" matches "a hiking trail" but not "hikingtrail", and
"wildlife encounter" matches across any run of spaces. ``--keywords`` make one rule (any of
them, or all with ``--all``); ``[[consume.rules]]`` add named ones (``all`` of some words and
``any`` of others). Matching one message is memoized, since streams repeat themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Border colours for rules that name no style of their own, in order.
PALETTE = ("red", "magenta", "yellow", "cyan", "green", "blue", "bright_red", "bright_magenta")
KEYWORDS_STYLE = "bold red"
_MEMO_LIMIT = 1 << 16


def keyword_pattern(keyword: str) -> str:
    """A regex for ``keyword`` as a whole word or phrase (literal, spaces flexible)."""
    words = keyword.split()
    body = r"\s+".join(re.escape(w) for w in words)
    head = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    tail = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return head + body + tail


@dataclass(frozen=True)
class RuleSpec:
    """A named rule: every word of ``all``, and at least one of ``any`` (when given)."""

    name: str
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    style: str | None = None

    @property
    def words(self) -> tuple[str, ...]:
        return self.all + self.any


@dataclass(frozen=True, eq=False)
class Match:
    """What a message set off: matched keywords (spelled as configured), rules, a style.

    Compared by identity: the matcher memoizes, so equal matches are mostly the same object,
    and counting alerts per Match is a cheap dictionary update.
    """

    keywords: tuple[str, ...]
    rules: tuple[str, ...] = ()
    style: str = KEYWORDS_STYLE

    @property
    def title(self) -> str:
        return ", ".join(self.rules) if self.rules else ", ".join(self.keywords)


@dataclass
class Matcher:
    """Evaluates the keyword rule and the named rules against message text."""

    keywords: Sequence[str] = ()
    require_all: bool = False
    rules: Sequence[RuleSpec] = ()
    _memo: dict[str, Match | None] = field(default_factory=dict, repr=False)
    _matches: dict[tuple[tuple[str, ...], tuple[str, ...]], Match] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        words: dict[str, str] = {}  # lower-cased word -> first spelling seen
        for word in [*self.keywords, *(w for r in self.rules for w in r.words)]:
            words.setdefault(" ".join(word.lower().split()), word)
        self._spelling = words
        self._patterns = {key: re.compile(keyword_pattern(key), re.IGNORECASE) for key in words}
        # One pass finds every keyword, unless one keyword can occur inside another's match
        # ("hiking" in "hiking trail"): then each is searched on its own.
        longest_first = sorted(words, key=len, reverse=True)
        self._overlapping = any(a != b and a in b for a in words for b in words)
        self._combined = re.compile(
            "|".join(keyword_pattern(k) for k in longest_first) or "(?!)", re.IGNORECASE
        )
        self._styles = {
            rule.name: rule.style or PALETTE[i % len(PALETTE)] for i, rule in enumerate(self.rules)
        }

    @property
    def active(self) -> bool:
        """False when there is no rule at all: then every message is simply shown."""
        return bool(self.keywords or self.rules)

    def style_of(self, rule: str) -> str:
        return self._styles.get(rule, KEYWORDS_STYLE)

    @staticmethod
    def _key(word: str) -> str:
        return " ".join(word.lower().split())

    def match(self, message: str) -> Match | None:
        """The alert ``message`` raises, or None. Memoized."""
        memo = self._memo
        if message in memo:
            return memo[message]
        found = self._evaluate(message)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[message] = found
        return found

    def _present(self, message: str) -> set[str]:
        """The (normalized) keywords that occur in ``message``."""
        if self._overlapping:
            return {key for key, pattern in self._patterns.items() if pattern.search(message)}
        found = self._combined.findall(message)
        if not found:
            return set()
        key = self._key
        return {key(text) for text in found}

    def _evaluate(self, message: str) -> Match | None:
        present = self._present(message)
        if not present:
            return None
        key = self._key
        hits: list[str] = []
        if self.keywords:
            mine = [k for k in self.keywords if key(k) in present]
            if mine and (not self.require_all or len(mine) == len(self.keywords)):
                hits.extend(mine)
        fired: list[str] = []
        for rule in self.rules:
            if all(key(w) in present for w in rule.all) and (
                not rule.any or any(key(w) in present for w in rule.any)
            ):
                fired.append(rule.name)
                hits.extend(w for w in rule.words if key(w) in present)
        if not hits:
            return None
        unique = tuple(dict.fromkeys(hits))
        found = self._matches.get((unique, tuple(fired)))
        if found is None:  # one Match per combination: counting by identity stays bounded
            style = self._styles[fired[0]] if fired else KEYWORDS_STYLE
            found = self._matches[(unique, tuple(fired))] = Match(unique, tuple(fired), style)
        return found

    def spans(self, message: str, keywords: Iterable[str]) -> list[tuple[int, int]]:
        """Where ``keywords`` occur in ``message`` (for highlighting), sorted."""
        out: list[tuple[int, int]] = []
        for word in keywords:
            pattern = self._patterns.get(self._key(word))
            if pattern is not None:
                out.extend(m.span() for m in pattern.finditer(message))
        return sorted(out)
