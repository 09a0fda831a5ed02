"""Turn arbitrary pieces of bytes into chunks of complete lines, with bounded memory.

Every reader (stdin, a file, a followed file) feeds what it read into a ``LineSplitter``
and passes on only complete lines: a message written in two pieces is one message, and a
line longer than ``max_line_bytes`` is truncated (and counted) instead of growing memory.
"""

from __future__ import annotations

DEFAULT_MAX_LINE_BYTES = 1 << 20
NL = b"\n"


class LineSplitter:
    """Accumulates pieces of input and returns only complete, newline-terminated lines."""

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be at least 1")
        self.max_line_bytes = max_line_bytes
        self.oversize = 0  # lines that were cut to max_line_bytes
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._discarding = False  # inside an oversize line: drop bytes until its newline

    @property
    def pending(self) -> int:
        """Bytes held back because their line has not ended yet."""
        return self._partial_len

    def feed(self, data: bytes) -> bytes:
        """Add ``data``; return the complete lines now available (possibly ``b""``)."""
        if not data:
            return b""
        cut = data.rfind(NL)
        if cut < 0:
            self._hold(data)
            return b""
        if self._partial or self._discarding:
            # The held line ends at the first newline (an oversize one was cut in _hold).
            first_nl = data.find(NL)
            self._hold(data[:first_nl])
            self._discarding = False
            head = self._take_partial() + NL
            body = data[first_nl + 1 : cut + 1]
        else:
            head = b""
            body = data[: cut + 1]
        if len(body) > self.max_line_bytes:
            body = self._cut_long_lines(body)
        self._hold(data[cut + 1 :])
        return head + body if head else body

    def finish(self) -> bytes:
        """At end of input: the last unterminated line (newline added), or ``b""``."""
        self._discarding = False
        if not self._partial:
            return b""
        return self._take_partial() + NL

    # -- internals -------------------------------------------------------------------------

    def _hold(self, data: bytes) -> None:
        if not data or self._discarding:
            return
        room = self.max_line_bytes - self._partial_len
        if len(data) > room:
            data = data[:room]
            self._discarding = True
            self.oversize += 1
        if data:
            self._partial.append(data)
            self._partial_len += len(data)

    def _take_partial(self) -> bytes:
        out = b"".join(self._partial)
        self._partial.clear()
        self._partial_len = 0
        return out

    def _cut_long_lines(self, body: bytes) -> bytes:
        """Truncate each line of ``body`` longer than the limit (slow path, rare)."""
        limit = self.max_line_bytes
        lines = body.split(NL)
        lines.pop()  # body ends with a newline
        out = []
        for line in lines:
            if len(line) > limit:
                line = line[:limit]
                self.oversize += 1
            out.append(line)
        out.append(b"")
        return NL.join(out)
