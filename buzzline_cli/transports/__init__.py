"""Transports behind one small interface: ``open_sink`` and ``open_source`` by name.

``-`` is stdin/stdout, ``kafka://HOST:PORT[,HOST:PORT]/TOPIC`` is Kafka, anything else a
file path. The Kafka client is imported only when a ``kafka://`` name is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buzzline_cli.transports.base import Sink, Source
from buzzline_cli.transports.lines import DEFAULT_MAX_LINE_BYTES

KAFKA_SCHEME = "kafka://"

__all__ = [
    "KAFKA_SCHEME",
    "KafkaRead",
    "Sink",
    "Source",
    "is_kafka",
    "kafka_address",
    "open_sink",
    "open_source",
]


def is_kafka(spec: str) -> bool:
    return spec.startswith(KAFKA_SCHEME)


def open_sink(spec: str, *, kafka: Any = None) -> Sink:
    """The sink named ``spec``. ``kafka`` is the ``[kafka]`` settings section."""
    if spec == "-":
        from buzzline_cli.transports.stdio import stdout_sink

        return stdout_sink()
    if is_kafka(spec):
        from buzzline_cli.transports.kafka import KafkaSink

        bootstrap, topic = kafka_address(spec, kafka)
        return KafkaSink(bootstrap, topic, _client(kafka))
    from buzzline_cli.transports.files import file_sink

    return file_sink(Path(spec).expanduser())


def kafka_address(spec: str, kafka: Any) -> tuple[str, str]:
    """(bootstrap, topic) of a ``kafka://`` name; what it leaves out (``kafka://``,
    ``kafka:///topic``, ``kafka://host:9092``) comes from ``[kafka]``."""
    from buzzline_cli.errors import UsageError
    from buzzline_cli.transports.kafka import parse_kafka_uri

    hosts, _, topic = spec[len(KAFKA_SCHEME) :].partition("/")
    hosts = hosts or getattr(kafka, "bootstrap", "")
    try:
        bootstrap, topic = parse_kafka_uri(f"{KAFKA_SCHEME}{hosts}/{topic}")
    except ValueError as error:
        raise UsageError(str(error)) from None
    return bootstrap or getattr(kafka, "bootstrap", ""), topic or getattr(kafka, "topic", "")


def _client(kafka: Any) -> dict[str, Any]:
    return dict(getattr(kafka, "client", None) or {})


@dataclass(frozen=True)
class KafkaRead:
    """How to read a Kafka topic: as a group member (consume) or whole, once (stats)."""

    group: str | None = None  # None: the configured group
    from_beginning: bool = False
    exit_at_end: bool = False
    whole_topic: bool = False  # no group, from the beginning to the end, nothing committed


def open_source(
    spec: str,
    *,
    follow: bool = False,
    from_end: bool = False,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    kafka: Any = None,
    kafka_read: KafkaRead | None = None,
) -> Source:
    """The source named ``spec``: ``-`` (stdin), a file (``.gz`` read transparently),
    followed by name with ``follow`` (``from_end`` skips what is already there), or a
    ``kafka://`` topic read as ``kafka_read`` says."""
    if spec == "-":
        from buzzline_cli.transports.stdio import stdin_source

        return stdin_source(max_line_bytes)
    if is_kafka(spec):
        from buzzline_cli.transports import kafka as transport

        how = kafka_read or KafkaRead()
        bootstrap, topic = kafka_address(spec, kafka)
        if how.whole_topic:
            return transport.read_to_end(
                bootstrap, topic, _client(kafka), max_line_bytes=max_line_bytes
            )
        return transport.KafkaSource(
            bootstrap,
            topic,
            group=how.group or getattr(kafka, "group", "buzzline"),
            from_beginning=how.from_beginning,
            exit_at_end=how.exit_at_end,
            client=_client(kafka),
            max_line_bytes=max_line_bytes,
        )
    from buzzline_cli.transports.files import file_source

    path = Path(spec).expanduser()
    if follow or from_end:
        from buzzline_cli.errors import BuzzlineError
        from buzzline_cli.transports.follow import FollowSource

        if path.is_dir():
            raise BuzzlineError(f"cannot follow {path}: it is a directory")
        return FollowSource(path, from_end=from_end, max_line_bytes=max_line_bytes)
    return file_source(path, max_line_bytes=max_line_bytes)
