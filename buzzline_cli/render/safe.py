"""Untrusted text made safe to show: control characters and escape sequences shown escaped.

Message text comes from whoever wrote the input. It is never parsed as Rich markup (callers
wrap it in ``rich.text.Text``), and ``printable`` turns every control character — ESC and so
every ANSI/OSC sequence, C1 controls, bidirectional overrides, line separators — into a
visible ``\\xNN`` / ``\\uNNNN`` escape, so nothing raw reaches the terminal.
"""

from __future__ import annotations

import unicodedata


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_TABLE: dict[int, str] = {code: _escape(code) for code in [*range(0x20), *range(0x7F, 0xA0)]}
_TABLE.update({ord("\t"): "\\t"})
for _code in (0x2028, 0x2029, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)):
    _TABLE[_code] = _escape(_code)


def printable(text: str) -> str:
    """``text`` with every control character replaced by a visible escape."""
    if text.isprintable():
        return text
    escaped = text.translate(_TABLE)
    if escaped.isprintable():
        return escaped
    # Other invisible format characters (category Cf, unassigned, surrogates): escape too.
    return "".join(
        c
        if c.isprintable() or c == " " or unicodedata.category(c) not in ("Cf", "Cn", "Cs", "Co")
        else _escape(ord(c))
        for c in escaped
    )


# JSON escapes C0 controls itself; C1 controls and bidirectional overrides need it too.
_JSON_UNSAFE = {
    c: f"\\u{c:04x}"
    for c in [*range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}


def json_safe(json_text: str) -> str:
    """JSON text (``ensure_ascii=False``) with nothing a terminal would act on left raw."""
    return json_text if json_text.isprintable() else json_text.translate(_JSON_UNSAFE)
