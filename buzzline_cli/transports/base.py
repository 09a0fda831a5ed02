"""The small Source/Sink interface every transport (stdio, file, kafka) implements.

Renderers and the produce/consume/stats cores only ever see these protocols, never where
the bytes came from or go to.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Sink(Protocol):
    """Where produced messages go. ``lines`` never contain a newline; the sink adds it."""

    name: str
    keyed: bool  # wants a key per message (Kafka: the state, so one state stays in order)

    def write(self, lines: Sequence[bytes], keys: Sequence[bytes] | None = None) -> None:
        """Write whole messages. ``keys`` (one per line) is used by keyed transports."""

    def flush(self) -> None:
        """Make everything written so far visible to readers."""

    def close(self) -> None:
        """Flush and release the transport. Raises if messages could not be delivered."""


@runtime_checkable
class Source(Protocol):
    """Where messages are read from.

    ``chunks`` yields bytes made of complete lines, each ending with ``b"\\n"``; a message is
    never split across two chunks. It ends when the source is exhausted (or never, when
    following). ``oversize`` counts lines cut to the line limit.
    """

    name: str

    @property
    def oversize(self) -> int:
        """Lines cut to the line limit so far."""

    def chunks(self) -> Iterator[bytes]: ...

    def commit(self) -> None:
        """Everything yielded so far has been handled (its output written)."""

    def close(self) -> None: ...
