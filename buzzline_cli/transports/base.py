"""The small Source/Sink interface every transport (stdio, file, kafka) implements.

Renderers and the produce/consume/stats cores only ever see these protocols, never where
the bytes came from or go to.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from buzzline_cli.lifecycle import StopSignals


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


def chunks_until_stopped(source: Source, stop: StopSignals) -> Iterator[bytes]:
    """``source``'s chunks until it ends or a stop signal arrives; the source is closed after.

    Only the wait for input is interruptible: a signal never cuts the handling of a chunk
    short (the caller checks nothing; the loop ends before the next wait). The caller ends
    on ``stop.stopped`` and decides what an interrupted run returns.
    """
    from buzzline_cli.errors import Interrupted

    chunks = source.chunks()
    try:
        while not stop.stopped:
            with stop.interruptible():
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk
    except Interrupted:
        return
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        source.close()
