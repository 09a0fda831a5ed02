"""The produce loop: draw messages, pace them on absolute deadlines, hand them to a sink."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from buzzline_cli.lifecycle import StopSignals
from buzzline_cli.message import MessageFactory
from buzzline_cli.transports.base import Sink

BATCH = 4096  # messages per write when not pacing


@dataclass
class ProduceResult:
    messages: int
    elapsed: float


def produce(
    factory: MessageFactory,
    sink: Sink,
    *,
    interval: float,
    count: int | None = None,
    duration: float | None = None,
    stop: StopSignals | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> ProduceResult:
    """Write messages to ``sink`` until ``count``, ``duration`` or a stop signal.

    With ``interval > 0`` message *i* is due at ``start + i * interval`` (absolute deadlines,
    so the rate holds however long a write takes) and reaches the sink at once (flushed).
    With ``interval == 0`` messages go out in batches, as fast as the sink takes them.
    """
    stop = stop or StopSignals()
    keyed = sink.keyed
    start = monotonic()
    end = None if duration is None else start + duration
    sent = 0
    while not stop.stopped:
        if count is not None and sent >= count:
            break
        if interval > 0:
            due = start + sent * interval
            if end is not None and due >= end:
                break
            if not stop.sleep(due - monotonic()):
                break
            n = 1
        else:
            if end is not None and monotonic() >= end:
                break
            n = BATCH if count is None else min(BATCH, count - sent)
        indices = factory.draw(n)
        sink.write(factory.render(indices), factory.keys(indices) if keyed else None)
        if interval > 0:
            sink.flush()
        sent += n
    sink.flush()
    return ProduceResult(messages=sent, elapsed=monotonic() - start)
