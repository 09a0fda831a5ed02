"""KafkaSink / KafkaSource against a real (tansu, or $BUZZLINE_TEST_KAFKA) broker."""

from __future__ import annotations

import _thread
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest
from kafka_broker import (
    Broker,
    count_messages,
    create_topic,
    free_port,
    start_broker,
    unique_topic,
)

from buzzline_cli.transports.base import Sink, Source
from buzzline_cli.transports.kafka import (
    INSTALL_HINT,
    KafkaDeliveryError,
    KafkaSink,
    KafkaSource,
    KafkaTransportError,
    KafkaUnavailable,
    parse_kafka_uri,
    read_to_end,
)

TEST_TIMEOUT_S = 45


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """No test may hang: fail it after TEST_TIMEOUT_S (SIGALRM in the main thread)."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"test took over {TEST_TIMEOUT_S} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_TIMEOUT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def lines_of(chunks: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        assert chunk.endswith(b"\n")
        out.extend(chunk[:-1].split(b"\n"))
    return out


def read_all(source: KafkaSource, *, commit: bool = False) -> list[bytes]:
    chunks: list[bytes] = []
    for chunk in source.chunks():
        chunks.append(chunk)
        if commit:
            source.commit()
    return lines_of(chunks)


def produce(broker: Broker, topic: str, lines: list[bytes], keys: list[bytes] | None) -> KafkaSink:
    sink = KafkaSink(broker.bootstrap, topic, broker.client())
    for i in range(0, len(lines), 1000):
        sink.write(lines[i : i + 1000], None if keys is None else keys[i : i + 1000])
    sink.close()
    return sink


def group_name() -> str:
    return unique_topic("g")


# -- no broker needed -------------------------------------------------------------------


def test_parse_kafka_uri() -> None:
    assert parse_kafka_uri("kafka://h1:9092,h2:9093/topic.a") == ("h1:9092,h2:9093", "topic.a")
    assert parse_kafka_uri("kafka://127.0.0.1:9092") == ("127.0.0.1:9092", "")
    assert parse_kafka_uri("kafka://127.0.0.1:9092/") == ("127.0.0.1:9092", "")
    assert parse_kafka_uri("KAFKA://[::1]:9092/t") == ("[::1]:9092", "t")
    for bad in (
        "http://h:9092/t",
        "kafka:/h:9092/t",
        "kafka:///t",
        "kafka://h/t",
        "kafka://h:0/t",
        "kafka://h:99999/t",
        "kafka://h:9092,/t",
        "kafka://h:9092/a/b",
        "kafka://h:9092/t?x=1",
        "kafka://h:port/t",
    ):
        with pytest.raises(ValueError) as info:
            parse_kafka_uri(bad)
        assert "\n" not in str(info.value)


def test_kafka_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)
    with pytest.raises(KafkaUnavailable) as info:
        KafkaSink("127.0.0.1:9092", "t")
    assert str(info.value) == INSTALL_HINT
    assert str(info.value) == 'Kafka support needs confluent-kafka: pip install "buzzline[kafka]"'
    with pytest.raises(KafkaUnavailable):
        KafkaSource("127.0.0.1:9092", "t")
    with pytest.raises(KafkaUnavailable):
        read_to_end("127.0.0.1:9092", "t")
    assert parse_kafka_uri("kafka://h:1/t") == ("h:1", "t")  # needs no client


def test_unreachable_broker_fails_fast() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    for make in (
        lambda: KafkaSink(bootstrap, "t"),
        lambda: KafkaSource(bootstrap, "t", group=group_name()),
        lambda: read_to_end(bootstrap, "t"),
    ):
        started = time.monotonic()
        with pytest.raises(KafkaTransportError) as info:
            make()
        assert time.monotonic() - started < 10
        message = str(info.value)
        assert "\n" not in message
        assert bootstrap in message


# -- against the broker -------------------------------------------------------------------


def test_keyed_roundtrip_exact_count_and_per_key_order(broker: Broker) -> None:
    topic = unique_topic()
    create_topic(broker.bootstrap, topic, partitions=3)
    n, nkeys = 20000, 13
    keys = [b"user%d" % (i % nkeys) for i in range(n)]
    lines = [b"user%d %d" % (i % nkeys, i) for i in range(n)]
    sink = produce(broker, topic, lines, keys)
    assert isinstance(sink, Sink)
    assert (sink.produced, sink.delivered, sink.failed, sink.first_error) == (n, n, 0, None)

    source = KafkaSource(
        broker.bootstrap,
        topic,
        group=group_name(),
        from_beginning=True,
        exit_at_end=True,
        client=broker.client(),
    )
    assert isinstance(source, Source)
    got = read_all(source)
    assert len(got) == n
    assert sorted(got) == sorted(lines)
    last: dict[bytes, int] = {}
    for line in got:
        key, seq = line.split()
        assert int(seq) > last.get(key, -1), f"{key!r} out of order"
        last[key] = int(seq)
    assert source.oversize == 0


def test_values_become_exactly_one_line(broker: Broker) -> None:
    from confluent_kafka import Producer

    topic = unique_topic()
    create_topic(broker.bootstrap, topic, partitions=1)
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for value in (b"plain", b"trailing\n", b"two\nlines\n", b"", None, b"x" * 100):
        p.produce(topic, value)
    assert p.flush(10) == 0
    source = KafkaSource(
        broker.bootstrap,
        topic,
        group=None,
        from_beginning=True,
        exit_at_end=True,
        max_line_bytes=10,
    )
    got = read_all(source)
    assert got == [b"plain", b"trailing", b"two lines", b"", b"", b"x" * 10]
    assert source.oversize == 1


def test_commit_then_same_group_resumes_after_committed_point(broker: Broker) -> None:
    topic = unique_topic()
    create_topic(broker.bootstrap, topic, partitions=2)
    first = [b"a%d" % i for i in range(100)]
    produce(broker, topic, first, [b"k%d" % (i % 4) for i in range(100)])
    group = group_name()

    # Read a few small chunks, commit after the first two only, then stop (Ctrl-C-like
    # break): what was yielded after the last commit must be read again (at-least-once).
    source = KafkaSource(
        broker.bootstrap,
        topic,
        group=group,
        from_beginning=True,
        client=broker.client(),
        batch_size=10,
    )
    committed: list[bytes] = []
    uncommitted: list[bytes] = []
    gen = source.chunks()
    for i, chunk in enumerate(gen):
        if i < 2:
            committed.extend(lines_of([chunk]))
            source.commit()
        else:
            uncommitted.extend(lines_of([chunk]))
            break
    gen.close()  # runs the generator's finally: sync commit + leave the group
    assert committed and uncommitted

    second = [b"b%d" % i for i in range(50)]
    produce(broker, topic, second, [b"k%d" % (i % 4) for i in range(50)])

    resumed = KafkaSource(
        broker.bootstrap, topic, group=group, exit_at_end=True, client=broker.client()
    )
    got = read_all(resumed, commit=True)
    assert set(got).isdisjoint(committed)
    assert set(uncommitted) <= set(got)
    assert sorted(got) == sorted(set(first + second) - set(committed))

    # Nothing left for the group now.
    again = KafkaSource(
        broker.bootstrap, topic, group=group, exit_at_end=True, client=broker.client()
    )
    assert read_all(again) == []

    # from_beginning rereads everything, even for a group with committed offsets.
    reread = KafkaSource(
        broker.bootstrap,
        topic,
        group=group,
        from_beginning=True,
        exit_at_end=True,
        client=broker.client(),
    )
    assert sorted(read_all(reread)) == sorted(first + second)


def test_ctrl_c_in_consume_commits_and_closes(broker: Broker) -> None:
    topic = unique_topic()
    create_topic(broker.bootstrap, topic, partitions=1)
    produce(broker, topic, [b"m%d" % i for i in range(30)], None)
    group = group_name()
    source = KafkaSource(
        broker.bootstrap, topic, group=group, from_beginning=True, client=broker.client()
    )
    got: list[bytes] = []
    timer: threading.Timer | None = None
    with pytest.raises(KeyboardInterrupt):
        for chunk in source.chunks():  # follows: never ends by itself
            got.extend(lines_of([chunk]))
            source.commit()
            if len(got) == 30 and timer is None:
                # Ctrl-C while the source waits in consume() for more.
                timer = threading.Timer(0.5, _thread.interrupt_main)
                timer.start()
    assert len(got) == 30
    with pytest.raises(RuntimeError):
        source._consumer.poll(0)  # closed by the generator's finally
    produce(broker, topic, [b"n%d" % i for i in range(5)], None)
    resumed = KafkaSource(
        broker.bootstrap, topic, group=group, exit_at_end=True, client=broker.client()
    )
    assert read_all(resumed) == [b"n%d" % i for i in range(5)]


def test_read_to_end_and_missing_topic(broker: Broker) -> None:
    topic = unique_topic()
    create_topic(broker.bootstrap, topic, partitions=4)  # some partitions stay empty
    produce(broker, topic, [b"only %d" % i for i in range(3)], [b"same"] * 3)
    started = time.monotonic()
    assert read_all(read_to_end(broker.bootstrap, topic)) == [b"only 0", b"only 1", b"only 2"]
    assert time.monotonic() - started < 10

    missing = unique_topic("missing")
    source = read_to_end(broker.bootstrap, missing)
    assert source.topic_missing
    assert read_all(source) == []
    assert count_messages(broker.bootstrap, missing) == 0


def test_paced_flush_is_prompt(broker: Broker) -> None:
    topic = unique_topic()
    sink = KafkaSink(broker.bootstrap, topic, broker.client())
    started = time.monotonic()
    for i in range(50):
        sink.write([b"paced %d" % i], [b"k"])
        sink.flush()
        assert sink.delivered == i + 1  # each flush delivered its message
    assert time.monotonic() - started < 5
    sink.close()
    assert count_messages(broker.bootstrap, topic) == 50


def test_broker_restart_mid_stream() -> None:
    """Its own broker, since it is restarted (and loses everything: memory storage)."""
    try:
        broker = start_broker()
    except Exception as exc:
        pytest.fail(f"no Kafka test broker: {exc}")
    try:
        if not broker.can_restart:
            pytest.skip("external broker ($BUZZLINE_TEST_KAFKA) cannot be restarted from here")
        _restart_scenario(broker)
    finally:
        broker.close()


def _restart_scenario(broker: Broker) -> None:
    topic = unique_topic()
    client: dict[str, Any] = broker.client(**{"message.timeout.ms": 3000})
    sink = KafkaSink(broker.bootstrap, topic, client)
    source = KafkaSource(
        broker.bootstrap, topic, group=group_name(), from_beginning=True, client=broker.client()
    )
    received: list[bytes] = []
    reader_error: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            for chunk in source.chunks():
                received.extend(lines_of([chunk]))
                source.commit()
                if stop.is_set():
                    break
        except BaseException as exc:  # surfaced by the assertions below
            reader_error.append(exc)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()

    sent = 0

    def send_for(seconds: float) -> None:
        nonlocal sent
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sink.write([b"r%d" % sent], [b"k%d" % (sent % 5)])
            sink.flush()  # paced: a flush per message
            sent += 1
            time.sleep(0.01)

    send_for(2.0)
    before = sent
    broker.restart(down_for=1.0)  # in-memory: the topic, offsets, producer ids are gone
    send_for(1.0)  # the producer waits on its stale id; nothing crashes or hangs
    mark = sent
    send_for(5.0)  # past message.timeout.ms: failures counted, a fresh producer resumes

    failed = 0
    started = time.monotonic()
    try:
        sink.close()
    except KafkaDeliveryError as exc:
        assert "\n" not in str(exc)
        failed = sink.failed
    assert time.monotonic() - started < 10
    assert sink.produced == sent
    assert sink.delivered + sink.failed == sent
    assert sink.failed == failed
    assert sink.delivered > before  # it resumed after the restart
    assert f"r{sent - 1}".encode() in _post_restart_lines(broker, topic)

    # The consumer rejoined and follows again: it receives the last messages.
    deadline = time.monotonic() + 15
    while f"r{sent - 1}".encode() not in received and time.monotonic() < deadline:
        assert thread.is_alive(), reader_error
        time.sleep(0.1)
    assert f"r{sent - 1}".encode() in received, (len(received), sent, reader_error)
    assert set(received) >= {b"r%d" % i for i in range(before)}
    assert any(int(line[1:]) >= mark for line in received)
    stop.set()
    sink2 = KafkaSink(broker.bootstrap, topic, broker.client())
    sink2.write([b"wake"])
    sink2.close()
    thread.join(10)
    assert not thread.is_alive()
    assert not reader_error


def _post_restart_lines(broker: Broker, topic: str) -> list[bytes]:
    return read_all(read_to_end(broker.bootstrap, topic))
