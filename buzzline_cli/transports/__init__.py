"""Transports behind one small interface: ``open_sink`` and ``open_source`` by name.

``-`` is stdin/stdout, ``kafka://HOST:PORT[,HOST:PORT]/TOPIC`` is Kafka, anything else a
file path. The Kafka client is imported only when a ``kafka://`` name is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from buzzline_cli.transports.base import Sink, Source
from buzzline_cli.transports.lines import DEFAULT_MAX_LINE_BYTES

KAFKA_SCHEME = "kafka://"

__all__ = ["KAFKA_SCHEME", "Sink", "Source", "is_kafka", "open_sink", "open_source"]


def is_kafka(spec: str) -> bool:
    return spec.startswith(KAFKA_SCHEME)


def open_sink(spec: str, *, kafka: Any = None) -> Sink:
    """The sink named ``spec``. ``kafka`` is the ``[kafka]`` settings section."""
    if spec == "-":
        from buzzline_cli.transports.stdio import stdout_sink

        return stdout_sink()
    from buzzline_cli.transports.files import file_sink

    return file_sink(Path(spec).expanduser())


def open_source(
    spec: str,
    *,
    follow: bool = False,
    from_end: bool = False,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    kafka: Any = None,
) -> Source:
    """The source named ``spec``: ``-`` (stdin), a file (``.gz`` read transparently), or
    followed by name with ``follow`` (``from_end`` skips what is already there)."""
    if spec == "-":
        from buzzline_cli.transports.stdio import stdin_source

        return stdin_source(max_line_bytes)
    from buzzline_cli.transports.files import file_source

    path = Path(spec).expanduser()
    if follow or from_end:
        from buzzline_cli.errors import BuzzlineError
        from buzzline_cli.transports.follow import FollowSource

        if path.is_dir():
            raise BuzzlineError(f"cannot follow {path}: it is a directory")
        return FollowSource(path, from_end=from_end, max_line_bytes=max_line_bytes)
    return file_source(path, max_line_bytes=max_line_bytes)
