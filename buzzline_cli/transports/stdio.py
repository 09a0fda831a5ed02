"""stdin and stdout as a Source and a Sink."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from buzzline_cli.transports.lines import DEFAULT_MAX_LINE_BYTES, NL, LineSplitter

READ_SIZE = 256 * 1024


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is out (a pipe may take a large write in pieces)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FdSink:
    """Writes whole lines to a file descriptor, unbuffered: each ``write`` is one syscall."""

    keyed = False

    def __init__(self, fd: int, name: str, *, owned: bool = False) -> None:
        self.fd = fd
        self.name = name
        self._owned = owned

    def write(self, lines: Sequence[bytes], keys: Sequence[bytes] | None = None) -> None:
        if lines:
            write_all(self.fd, NL.join(lines) + NL)

    def flush(self) -> None:
        """Nothing is buffered here: every write already reached the descriptor."""

    def close(self) -> None:
        if self._owned:
            os.close(self.fd)
            self._owned = False


class StreamSink:
    """Writes whole lines to a binary stream; ``flush`` pushes them to the reader."""

    keyed = False

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self.name = name
        self._stream = stream

    def write(self, lines: Sequence[bytes], keys: Sequence[bytes] | None = None) -> None:
        if lines:
            self._stream.write(NL.join(lines) + NL)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self.flush()


def stdout_sink() -> StreamSink:
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stdout.flush()  # whatever was printed as text goes first
    return StreamSink(sys.stdout.buffer, "stdout")


def read_chunks(
    stream: BinaryIO, splitter: LineSplitter, read_size: int = READ_SIZE
) -> Iterator[bytes]:
    """Complete lines from ``stream`` as they arrive, and a last unterminated one at EOF.

    ``read1`` returns as soon as some bytes are there, so a line reaches the reader the
    moment its newline does, not when a buffer fills.
    """
    read = getattr(stream, "read1", stream.read)
    while True:
        data = read(read_size)
        if not data:
            break
        chunk = splitter.feed(data)
        if chunk:
            yield chunk
    last = splitter.finish()
    if last:
        yield last


class StreamSource:
    """A binary stream read to its end (stdin, or an ordinary file)."""

    def __init__(
        self,
        stream: BinaryIO,
        name: str,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        close_stream: bool = False,
    ) -> None:
        self.name = name
        self._stream = stream
        self._splitter = LineSplitter(max_line_bytes)
        self._close_stream = close_stream

    @property
    def oversize(self) -> int:
        return self._splitter.oversize

    def chunks(self) -> Iterator[bytes]:
        return read_chunks(self._stream, self._splitter)

    def commit(self) -> None:
        """Nothing to acknowledge on a stream."""

    def close(self) -> None:
        if self._close_stream:
            self._stream.close()


def stdin_source(max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> StreamSource:
    return StreamSource(sys.stdin.buffer, "stdin", max_line_bytes=max_line_bytes)
