"""Transports behind one small interface: ``open_sink`` and ``open_source`` by name.

``-`` is stdin/stdout, ``kafka://HOST:PORT[,HOST:PORT]/TOPIC`` is Kafka, anything else a
file path. The Kafka client is imported only when a ``kafka://`` name is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from buzzline_cli.transports.base import Sink, Source

KAFKA_SCHEME = "kafka://"

__all__ = ["KAFKA_SCHEME", "Sink", "Source", "is_kafka", "open_sink"]


def is_kafka(spec: str) -> bool:
    return spec.startswith(KAFKA_SCHEME)


def open_sink(spec: str, *, kafka: Any = None) -> Sink:
    """The sink named ``spec``. ``kafka`` is the ``[kafka]`` settings section."""
    if spec == "-":
        from buzzline_cli.transports.stdio import stdout_sink

        return stdout_sink()
    from buzzline_cli.transports.files import file_sink

    return file_sink(Path(spec).expanduser())
