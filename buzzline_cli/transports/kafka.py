"""Kafka transport: ``kafka://HOST:PORT[,HOST:PORT...]/TOPIC``.

Built on confluent-kafka (librdkafka), an optional extra. It is imported only inside the
functions and constructors that need it, so users who never touch Kafka pay nothing for it;
when it is missing they get :class:`KafkaUnavailable` with a one-line install hint.

* :class:`KafkaSink` (produce): keyed messages through an idempotent producer. Every message
  that could not be delivered is counted (``failed``) and its first error kept
  (``first_error``); nothing is dropped silently and :meth:`KafkaSink.close` raises
  :class:`KafkaDeliveryError` when anything failed.
* :class:`KafkaSource` (consume): a consumer-group member with manual, at-least-once
  commits, optional stop at the end of every assigned partition (partition-EOF events), or
  a group-less reader of a whole topic for ``stats`` (:func:`read_to_end`).

librdkafka's own log lines go to the ``buzzline_cli.transports.kafka`` logger (silent
unless the application adds a handler) instead of being printed on stderr.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from buzzline_cli.errors import BuzzlineError, UsageError
from buzzline_cli.transports.lines import DEFAULT_MAX_LINE_BYTES

__all__ = [
    "DEFAULT_GROUP",
    "INSTALL_HINT",
    "KafkaDeliveryError",
    "KafkaSink",
    "KafkaSource",
    "KafkaTransportError",
    "KafkaUnavailable",
    "parse_kafka_uri",
    "read_to_end",
]

DEFAULT_GROUP = "buzzline"
INSTALL_HINT = 'Kafka support needs confluent-kafka: pip install "buzzline[kafka]"'

#: How long a new client may take to reach the cluster before we give up (seconds).
CONNECT_TIMEOUT_S = 8.0
#: Once librdkafka reports every broker down, fail this soon rather than at the timeout.
REFUSED_GRACE_S = 2.0

_LOG = logging.getLogger(__name__)
_LOG.addHandler(logging.NullHandler())

_TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_HOST_PORT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")

# Producer settings chosen for throughput and safety; anything in ``client`` overrides them.
_PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable.idempotence": True,
    "linger.ms": 10,
    "batch.num.messages": 10000,
    "batch.size": 1_000_000,
    "queue.buffering.max.messages": 1_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
    # librdkafka's default is 5 minutes; a message not delivered within this is reported
    # as failed (and counted) instead of holding up close() for that long.
    "message.timeout.ms": 30000,
    # Successful deliveries need no Python callback each: delivered = produced - failed -
    # still queued. Only failures come back as reports, so the producer stays fast.
    "delivery.report.only.error": True,
}

# Consumer settings; anything in ``client`` overrides them except _CONSUMER_FORCED.
_CONSUMER_DEFAULTS: dict[str, Any] = {
    # librdkafka's default of 45 s makes some brokers (tansu) answer a group join only
    # after ~23 s; 6 s is the smallest value Apache Kafka accepts by default.
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 1000,
    # How long the broker may hold a fetch when there is nothing new: the floor of the alert
    # latency through Kafka. At 100 msg/s on tansu, 100 ms gave p99 53 ms, 20 ms 13 ms and
    # 10 ms 5 ms (at 1 % of a core when idle); a backlog is not slowed (data returns at once).
    "fetch.wait.max.ms": 20,
    # librdkafka stops fetching for fetch.queue.backoff.ms (1 s by default) whenever more
    # than queued.min.messages are waiting locally: reading a backlog then stalls a second
    # per ~100k records. A short backoff keeps the same memory bound without the stalls.
    "fetch.queue.backoff.ms": 10,
}
_CONSUMER_FORCED: dict[str, Any] = {
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "enable.partition.eof": True,
}

# Delivery errors after which an idempotent producer is replaced by a fresh one: a broker
# that lost its producer state (e.g. restarted with in-memory storage) keeps refusing the
# old producer id forever, so without a new producer nothing would ever be delivered again.
_ROTATE_ERROR_NAMES = frozenset(
    {"_MSG_TIMED_OUT", "UNKNOWN_PRODUCER_ID", "OUT_OF_ORDER_SEQUENCE_NUMBER", "_FATAL"}
)
# Error-callback codes meaning "cannot reach the cluster at all".
_UNREACHABLE_ERROR_NAMES = frozenset({"_ALL_BROKERS_DOWN", "_RESOLVE", "_TRANSPORT"})


class KafkaUnavailable(UsageError):
    """confluent-kafka is not installed (a usage problem: exit 2, with the install hint)."""

    def __init__(self, message: str = INSTALL_HINT) -> None:
        super().__init__(message)


class KafkaTransportError(BuzzlineError):
    """A Kafka problem the user must hear about (unreachable cluster, fatal client error)."""


class KafkaDeliveryError(KafkaTransportError):
    """Some produced messages could not be delivered (raised by ``KafkaSink.close``)."""


def _kafka() -> Any:
    """The confluent_kafka module, imported on first use."""
    try:
        import confluent_kafka
    except ImportError:
        raise KafkaUnavailable() from None
    return confluent_kafka


def _client(ck: Any, make: Any, conf: dict[str, Any], what: str) -> Any:
    """A librdkafka producer or consumer; bad settings become one clear line."""
    try:
        return make(conf)
    except ck.KafkaException as exc:
        raise KafkaTransportError(
            f"bad Kafka {what} settings: {_error_text(exc.args[0])}"
        ) from None
    except (TypeError, ValueError) as exc:
        raise KafkaTransportError(f"bad Kafka {what} settings: {_one_line(exc)}") from None


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _error_text(err: Any) -> str:
    """A readable one-line text for a confluent_kafka.KafkaError (or anything else)."""
    try:
        return _one_line(err.str())
    except Exception:
        return _one_line(err)


def _error_name(err: Any) -> str:
    try:
        return str(err.name())
    except Exception:
        return ""


def parse_kafka_uri(uri: str) -> tuple[str, str]:
    """``kafka://h1:9092,h2:9092/topic`` -> ``("h1:9092,h2:9092", "topic")``.

    The topic may be empty (``kafka://h:9092`` or ``kafka://h:9092/``): the caller then
    falls back to its configuration. Raises ``ValueError`` with a one-line reason.
    """
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme.lower() != "kafka":
        raise ValueError(
            f"not a kafka URI (expected kafka://HOST:PORT[,HOST:PORT...]/TOPIC): {uri!r}"
        )
    if "?" in rest or "#" in rest:
        raise ValueError(f"kafka URI must not have a query or fragment: {uri!r}")
    hosts, _, topic = rest.partition("/")
    if not hosts:
        raise ValueError(f"kafka URI has no HOST:PORT: {uri!r}")
    servers: list[str] = []
    for part in hosts.split(","):
        hp = part.strip()
        match = _HOST_PORT_RE.match(hp)
        if match is None:
            raise ValueError(
                f"bad broker address {part!r} in kafka URI (expected HOST:PORT): {uri!r}"
            )
        port = int(match.group(2))
        if not 1 <= port <= 65535:
            raise ValueError(f"bad port {port} in kafka URI: {uri!r}")
        servers.append(hp)
    if topic and not _TOPIC_RE.match(topic):
        raise ValueError(
            f"bad topic {topic!r} in kafka URI (use letters, digits, '.', '_', '-'): {uri!r}"
        )
    return ",".join(servers), topic


def _check_topic_name(topic: str) -> None:
    if not topic:
        raise ValueError("a kafka topic is needed (kafka://HOST:PORT/TOPIC or [kafka] topic)")
    if not _TOPIC_RE.match(topic):
        raise ValueError(f"bad kafka topic {topic!r} (letters, digits, '.', '_', '-'; at most 249)")


class _ErrorTracker:
    """Collects librdkafka's error callbacks (served during poll/consume/flush)."""

    def __init__(self) -> None:
        self.last_error: str | None = None
        self.unreachable_since: float | None = None
        self.fatal: str | None = None

    def __call__(self, err: Any) -> None:
        text = _error_text(err)
        self.last_error = text
        name = _error_name(err)
        if name in _UNREACHABLE_ERROR_NAMES and self.unreachable_since is None:
            self.unreachable_since = time.monotonic()
        try:
            fatal = bool(err.fatal())
        except Exception:
            fatal = False
        if fatal and self.fatal is None:
            self.fatal = text
        _LOG.debug("kafka client error: %s", text)

    def reachable(self) -> None:
        self.unreachable_since = None


def _wait_for_cluster(
    client: Any,
    serve: Callable[[], None],
    errors: _ErrorTracker,
    bootstrap: str,
    topic: str,
    timeout: float,
) -> Any:
    """Metadata for ``topic`` once the cluster answers; else a one-line KafkaTransportError.

    ``serve`` serves the client's callbacks (poll) so that a refused connection is known
    early: then we give up after REFUSED_GRACE_S instead of waiting the whole timeout.
    """
    ck = _kafka()
    started = time.monotonic()
    deadline = started + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            md = client.list_topics(topic=topic, timeout=max(0.05, min(0.5, left)))
        except ck.KafkaException as exc:
            serve()
            now = time.monotonic()
            down = errors.unreachable_since
            if now >= deadline or (down is not None and now - started >= REFUSED_GRACE_S):
                reason = errors.last_error or _error_text(exc.args[0] if exc.args else exc)
                raise KafkaTransportError(
                    f"cannot reach Kafka at {bootstrap} within {now - started:.0f} s: {reason}"
                ) from None
            continue
        errors.reachable()
        if not md.brokers:
            raise KafkaTransportError(f"Kafka at {bootstrap} reported no brokers")
        return md


class KafkaSink:
    """Produce lines to a topic, keyed by the caller's keys (e.g. a user's state)."""

    keyed = True

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        client: dict[str, Any] | None = None,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        flush_timeout: float = 1.0,
        poll_every: int = 5000,
    ) -> None:
        ck = _kafka()
        _check_topic_name(topic)
        if not bootstrap:
            raise ValueError("a kafka bootstrap address is needed (HOST:PORT[,HOST:PORT...])")
        self.name = f"kafka://{bootstrap}/{topic}"
        self.bootstrap = bootstrap
        self.topic = topic
        self.flush_timeout = flush_timeout
        self.poll_every = max(1, poll_every)
        self.produced = 0  # accepted by the client
        self.failed = 0  # reported undeliverable (or never reported by close's deadline)
        self.first_error: str | None = None
        self.rotations = 0  # producers replaced after their id was refused for good
        self._errors = _ErrorTracker()
        self._rotate = False
        self._closed = False
        self._since_poll = 0
        conf: dict[str, Any] = dict(_PRODUCER_DEFAULTS)
        conf.update(client or {})
        conf.update(
            {
                "bootstrap.servers": bootstrap,
                "error_cb": self._errors,
                "on_delivery": self._on_delivery,
                "logger": _LOG,
            }
        )
        conf.setdefault("client.id", "buzzline")
        self._conf = conf
        self._idempotent = str(conf.get("enable.idempotence", "false")).lower() in ("true", "1")
        self._message_timeout_s = float(conf.get("message.timeout.ms", 300000)) / 1000.0
        self._producer: Any = _client(ck, ck.Producer, conf, "producer")
        try:
            md = _wait_for_cluster(
                self._producer, self._serve, self._errors, bootstrap, topic, connect_timeout
            )
            tmeta = md.topics.get(topic)
            if tmeta is not None and tmeta.error is not None:
                name = _error_name(tmeta.error)
                if name not in ("UNKNOWN_TOPIC_OR_PART", "LEADER_NOT_AVAILABLE"):
                    raise KafkaTransportError(f"kafka topic {topic!r}: {_error_text(tmeta.error)}")
            self._nudge_pid()
        except BaseException:
            self._producer.purge()
            self._producer.flush(0)
            self._closed = True
            raise

    # -- counters --------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Messages accepted but not yet acknowledged (or reported failed)."""
        if self._closed:
            return 0
        return len(self._producer)

    @property
    def delivered(self) -> int:
        """Messages the cluster acknowledged (exact once closed)."""
        if not self._closed:
            self._producer.poll(0)  # serve queued failure reports first
        return self.produced - self.failed - self.pending

    @property
    def last_error(self) -> str | None:
        """The latest client-level error (e.g. brokers down), cleared by nothing."""
        return self._errors.last_error

    # -- Sink protocol ---------------------------------------------------------------------

    def write(self, lines: Sequence[bytes], keys: Sequence[bytes] | None = None) -> None:
        if self._closed:
            raise KafkaTransportError(f"{self.name} is closed")
        if self._rotate:
            self._rotate_producer()
        n = len(lines)
        if keys is not None and len(keys) != n:
            raise ValueError(f"{len(keys)} keys for {n} lines")
        produce = self._producer.produce
        topic = self.topic
        done = 0  # accepted so far: exact even when interrupted half-way (Ctrl-C)
        try:
            if keys is None:
                for line in lines:
                    try:
                        produce(topic, line)
                    except BufferError:
                        self._produce_slow(line, None)
                        produce = self._producer.produce  # may have been replaced
                    except Exception as exc:
                        self._produce_error(line, None, exc)
                        produce = self._producer.produce
                    done += 1
            else:
                for line, key in zip(lines, keys, strict=True):
                    try:
                        produce(topic, line, key)
                    except BufferError:
                        self._produce_slow(line, key)
                        produce = self._producer.produce
                    except Exception as exc:
                        self._produce_error(line, key, exc)
                        produce = self._producer.produce
                    done += 1
        finally:
            self.produced += done
            self._since_poll += done
        if self._since_poll >= self.poll_every:
            self._since_poll = 0
            self._producer.poll(0)

    def flush(self) -> None:
        """Send what is queued now and wait (at most ``flush_timeout``) for the acks."""
        if self._closed:
            return
        if self._rotate:
            self._rotate_producer()
        self._since_poll = 0
        self._producer.flush(self.flush_timeout)

    def close(self) -> None:
        """Deliver everything (within the message timeout); raise if anything failed."""
        if self._closed:
            return
        try:
            # Every queued message gets its report within message.timeout.ms; wait a bit
            # longer than that, in short slices so that Ctrl-C is not held up.
            deadline = time.monotonic() + self._message_timeout_s + 5.0
            while len(self._producer) and time.monotonic() < deadline:
                self._producer.flush(min(0.5, max(0.0, deadline - time.monotonic())))
        finally:
            self._discard_producer(self._producer)
            self._closed = True
        if self.failed:
            raise KafkaDeliveryError(self.failure_summary())

    def failure_summary(self) -> str:
        """One line: how many messages were not delivered, and the first reason."""
        return (
            f"{self.failed} of {self.produced} messages could not be delivered to "
            f"{self.name}: {self.first_error or 'unknown error'}"
        )

    # -- internals -------------------------------------------------------------------------

    def _serve(self) -> None:
        self._producer.poll(0)

    def _nudge_pid(self) -> None:
        """Let the idempotent producer get its producer id now, not ~0.5 s later.

        librdkafka asks for the id when a metadata response arrives while a (non-bootstrap)
        broker connection is up, and otherwise only on a 500 ms timer; the very first
        metadata response usually comes too early. A few more cheap metadata requests in the
        next ~20 ms avoid that stall before the first message can be sent.
        """
        if not self._idempotent:
            return
        for _ in range(4):
            time.sleep(0.005)
            try:
                self._producer.list_topics(topic=self.topic, timeout=1.0)
            except Exception:
                return

    def _on_delivery(self, err: Any, msg: Any) -> None:
        if err is None:
            return
        self._fail(_error_text(err))
        if _error_name(err) in _ROTATE_ERROR_NAMES and self._idempotent:
            self._rotate = True
        try:
            if err.fatal():
                self._rotate = True
        except Exception:
            pass

    def _fail(self, text: str, count: int = 1) -> None:
        self.failed += count
        if self.first_error is None:
            self.first_error = text

    def _send_one(self, line: bytes, key: bytes | None) -> None:
        """One produce() call outside the hot loop (which calls the client directly)."""
        if key is None:
            self._producer.produce(self.topic, line)
        else:
            self._producer.produce(self.topic, line, key)

    def _produce_slow(self, line: bytes, key: bytes | None) -> None:
        """The local queue is full: serve delivery reports until there is room."""
        while True:
            self._producer.poll(0.05)
            if self._rotate:
                self._rotate_producer()
            try:
                self._send_one(line, key)
            except BufferError:
                continue
            except Exception as exc:
                self._produce_error(line, key, exc)
            return

    def _produce_error(self, line: bytes, key: bytes | None, exc: Exception) -> None:
        """produce() refused a message outright (too large, fatal client state...)."""
        ck = _kafka()
        err = exc.args[0] if isinstance(exc, ck.KafkaException) and exc.args else None
        fatal = False
        if err is not None:
            try:
                fatal = bool(err.fatal())
            except Exception:
                fatal = False
        if fatal or self._errors.fatal is not None:
            # The producer is unusable: start a fresh one and try this message once more.
            self._rotate_producer()
            try:
                self._send_one(line, key)
                return
            except BufferError:
                self._produce_slow(line, key)
                return
            except Exception as again:
                exc = again
                err = again.args[0] if isinstance(again, ck.KafkaException) and again.args else None
        self._fail(_error_text(err) if err is not None else _one_line(exc))

    def _discard_producer(self, producer: Any) -> None:
        """Purge whatever a producer still holds; those messages count as failed."""
        producer.poll(0)
        left = len(producer)
        if not left:
            return
        producer.purge()
        producer.flush(1.0)  # serves the purge reports (counted by _on_delivery)
        still = len(producer)
        if still:
            self._fail("not delivered before the producer was closed", still)

    def _rotate_producer(self) -> None:
        """Replace the producer (its id was refused for good); queued messages fail."""
        old = self._producer
        self._discard_producer(old)
        self._rotate = False
        ck = _kafka()
        self._errors = _ErrorTracker()
        self._conf["error_cb"] = self._errors
        self._producer = ck.Producer(self._conf)
        self._nudge_pid()
        self.rotations += 1
        _LOG.info("kafka producer replaced after undeliverable messages (%s)", self.first_error)


class KafkaSource:
    """Read a topic as lines: one record value = one line.

    With ``group`` (default ``"buzzline"``) the source is a consumer-group member: it starts
    from the group's committed offsets (or the end of each partition for a new group), or
    from the very beginning when ``from_beginning`` is set (even for a group that has
    committed offsets). Offsets are committed only by :meth:`commit` (at-least-once), and
    :meth:`close` commits synchronously what :meth:`commit` was last asked for.

    With ``group=None`` no group is joined: every partition is assigned directly (from the
    beginning with ``from_beginning``, else from the end) and nothing is committed. That is
    what :func:`read_to_end` uses for ``stats``.

    ``exit_at_end`` ends :meth:`chunks` once every assigned partition has reported
    partition EOF (not by watermarks, which some brokers report late).
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        group: str | None = DEFAULT_GROUP,
        from_beginning: bool = False,
        exit_at_end: bool = False,
        client: dict[str, Any] | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        commit_offsets: bool = True,
        batch_size: int = 10000,
        poll_timeout: float = 0.25,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        ck = _kafka()
        _check_topic_name(topic)
        if not bootstrap:
            raise ValueError("a kafka bootstrap address is needed (HOST:PORT[,HOST:PORT...])")
        if max_line_bytes < 1:
            raise ValueError("max_line_bytes must be at least 1")
        self.name = f"kafka://{bootstrap}/{topic}"
        self.bootstrap = bootstrap
        self.topic = topic
        self.group = group
        self.from_beginning = from_beginning
        self.exit_at_end = exit_at_end
        self.max_line_bytes = max_line_bytes
        self.commit_offsets = commit_offsets and group is not None
        self.batch_size = max(1, min(batch_size, 1_000_000))
        self.poll_timeout = poll_timeout
        self.oversize = 0
        self.consumed = 0  # records turned into lines
        self.topic_missing = False
        self.commit_error: str | None = None
        self._errors = _ErrorTracker()
        self._assigned: set[int] = set()
        self._at_eof: set[int] = set()
        self._position: dict[int, int] = {}  # partition -> next offset after what we yielded
        self._committed: dict[int, int] = {}  # what commit() last asked for (sync on close)
        self._closed = False
        self._started = False

        conf: dict[str, Any] = dict(_CONSUMER_DEFAULTS)
        conf.update(client or {})
        conf.update(_CONSUMER_FORCED)
        conf.update(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group
                if group is not None
                else f"buzzline-reader-{os.urandom(8).hex()}",
                "auto.offset.reset": "earliest" if from_beginning else "latest",
                "error_cb": self._errors,
                "on_commit": self._on_commit,
                "logger": _LOG,
            }
        )
        # A reader that stops at the end must not create a topic by looking at it; a
        # follower may (the producer would create it the same way).
        conf.setdefault("allow.auto.create.topics", not exit_at_end)
        conf.setdefault("client.id", "buzzline")
        strategy = str(conf.get("partition.assignment.strategy", ""))
        self._cooperative = "cooperative" in strategy.lower()
        self._consumer: Any = _client(ck, ck.Consumer, conf, "consumer")
        try:
            md = _wait_for_cluster(
                self._consumer, self._serve, self._errors, bootstrap, topic, connect_timeout
            )
        except BaseException:
            self._closed = True
            self._consumer.close()
            raise
        tmeta = md.topics.get(topic)
        self._partitions: list[int] = []
        if tmeta is None or tmeta.error is not None or not tmeta.partitions:
            self.topic_missing = True
        else:
            self._partitions = sorted(tmeta.partitions)

    # -- Source protocol -------------------------------------------------------------------

    def chunks(self) -> Generator[bytes, None, None]:
        """Batches of complete lines; ends at the end of the topic with ``exit_at_end``."""
        if self._started:
            raise RuntimeError(f"{self.name}: chunks() can be iterated only once")
        self._started = True
        try:
            if self._closed or (self.exit_at_end and self.topic_missing):
                return
            self._start()
            yield from self._read()
        finally:
            self.close()

    def commit(self) -> None:
        """Everything yielded so far is handled: commit it (asynchronously)."""
        if not self.commit_offsets or self._closed:
            return
        ck = _kafka()
        changed = {
            p: off
            for p, off in self._position.items()
            if self._committed.get(p) != off and p in self._assigned
        }
        if not changed:
            return
        self._committed.update(changed)
        offsets = [ck.TopicPartition(self.topic, p, off) for p, off in sorted(changed.items())]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=True)
        except ck.KafkaException as exc:
            self.commit_error = _error_text(exc.args[0] if exc.args else exc)

    def close(self) -> None:
        """Commit (synchronously) what commit() was asked for, then leave the group."""
        if self._closed:
            return
        self._closed = True
        ck = _kafka()
        try:
            if self.commit_offsets and self._committed:
                offsets = [
                    ck.TopicPartition(self.topic, p, off)
                    for p, off in sorted(self._committed.items())
                    if p in self._assigned
                ]
                if offsets:
                    try:
                        self._consumer.commit(offsets=offsets, asynchronous=False)
                    except ck.KafkaException as exc:
                        self.commit_error = _error_text(exc.args[0] if exc.args else exc)
        finally:
            self._consumer.close()

    @property
    def last_error(self) -> str | None:
        return self._errors.last_error

    @property
    def assignment(self) -> list[int]:
        """Partitions currently assigned to this source."""
        return sorted(self._assigned)

    # -- internals -------------------------------------------------------------------------

    def _serve(self) -> None:
        self._consumer.poll(0)

    def _on_commit(self, err: Any, partitions: Any) -> None:
        if err is not None:
            self.commit_error = _error_text(err)
            return
        for tp in partitions or ():
            if tp.error is not None:
                self.commit_error = _error_text(tp.error)

    def _start(self) -> None:
        ck = _kafka()
        if self.group is None:
            start = ck.OFFSET_BEGINNING if self.from_beginning else ck.OFFSET_END
            tps = [ck.TopicPartition(self.topic, p, start) for p in self._partitions]
            self._assigned = set(self._partitions)
            self._consumer.assign(tps)
        else:
            self._consumer.subscribe(
                [self.topic],
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_revoke,
            )

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        ck = _kafka()
        for tp in partitions:
            p = tp.partition
            if self.commit_offsets and p in self._committed:
                # Re-assigned after a rebalance, and we committed it: take the group's
                # committed offset (the broker's; a broker that lost its state, such as an
                # in-memory one restarted, then falls back to auto.offset.reset).
                pass
            elif p in self._position and (self.from_beginning or not self.commit_offsets):
                # Re-assigned before any commit: go on from what this source read rather
                # than reread the partition or skip to an older commit.
                tp.offset = self._position[p]
            elif self.from_beginning:
                tp.offset = ck.OFFSET_BEGINNING
            self._assigned.add(p)
            self._at_eof.discard(p)
        if self._cooperative:
            consumer.incremental_assign(partitions)
        else:
            consumer.assign(partitions)

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        for tp in partitions:
            self._assigned.discard(tp.partition)
            self._at_eof.discard(tp.partition)
        if self._cooperative:
            consumer.incremental_unassign(partitions)
        else:
            consumer.unassign()

    def _read(self) -> Iterator[bytes]:
        ck = _kafka()
        eof_code = ck.KafkaError._PARTITION_EOF
        consume = self._consumer.consume
        batch = self.batch_size
        limit = self.max_line_bytes
        position = self._position
        at_eof = self._at_eof
        nl = b"\n"
        while True:
            # Drain what is already fetched; when nothing is, block (briefly) for one
            # record, then take what arrived with it: low latency and big batches.
            try:
                msgs = consume(batch, 0)
                if not msgs:
                    msgs = consume(1, self.poll_timeout)
                    if msgs and batch > 1:
                        msgs.extend(consume(batch - 1, 0))
            except ck.KafkaException as exc:
                err = exc.args[0] if exc.args else exc
                raise KafkaTransportError(f"kafka consumer failed: {_error_text(err)}") from None
            if msgs:
                out: list[bytes] = []
                append = out.append
                for m in msgs:
                    err = m.error()
                    if err is not None:
                        if err.code() == eof_code:
                            at_eof.add(m.partition())
                        else:
                            self._on_error_event(err)
                        continue
                    v = m.value()
                    if v is None:
                        v = b""
                    elif v.endswith(nl):
                        v = v[:-1]
                    if nl in v:
                        v = v.replace(nl, b" ")
                    if len(v) > limit:
                        v = v[:limit]
                        self.oversize += 1
                    append(v)
                    p = m.partition()
                    position[p] = m.offset() + 1
                    at_eof.discard(p)
                if out:
                    self.consumed += len(out)
                    out.append(b"")
                    yield nl.join(out)
            if self.exit_at_end and self._assigned and at_eof >= self._assigned:
                return
            if self._errors.fatal is not None:
                raise KafkaTransportError(f"kafka consumer failed: {self._errors.fatal}")

    def _on_error_event(self, err: Any) -> None:
        text = _error_text(err)
        self._errors.last_error = text
        try:
            fatal = bool(err.fatal())
        except Exception:
            fatal = False
        if fatal:
            raise KafkaTransportError(f"kafka consumer failed: {text}")
        _LOG.debug("kafka consumer event: %s", text)


def read_to_end(
    bootstrap: str,
    topic: str,
    client: dict[str, Any] | None = None,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    connect_timeout: float = CONNECT_TIMEOUT_S,
) -> KafkaSource:
    """A source reading the whole topic once and ending there (for ``stats``).

    It joins no consumer group and commits nothing; a topic that does not exist reads as
    empty (``topic_missing`` is set) and is not created.
    """
    return KafkaSource(
        bootstrap,
        topic,
        group=None,
        from_beginning=True,
        exit_at_end=True,
        client=client,
        max_line_bytes=max_line_bytes,
        commit_offsets=False,
        connect_timeout=connect_timeout,
    )
