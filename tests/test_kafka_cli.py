"""The commands over kafka:// against a real broker (tansu, or $BUZZLINE_TEST_KAFKA)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from kafka_broker import unique_topic

from tests.conftest import assert_no_traceback, buzzline_cmd, run_buzzline


def client_env(broker: Any) -> dict[str, str]:
    """Short group timeouts for the test broker, as a user would set them in [kafka] client."""
    return {"BUZZLINE_KAFKA__CLIENT": json.dumps(broker.client())}


def test_produce_then_consume_everything(broker: Any) -> None:
    uri = f"kafka://{broker.bootstrap}/{unique_topic()}"
    env = client_env(broker)
    made = run_buzzline(
        ["produce", "--interval", "0", "--count", "2000", "--format", "json", "-o", uri], env=env
    )
    assert made.returncode == 0, made.stderr
    assert b"wrote 2000 messages" in made.stderr
    read = run_buzzline(
        ["consume", uri, "--from-beginning", "--exit-at-end", "--show-all", "--format", "json"],
        env=env,
    )
    assert read.returncode == 0, read.stderr
    seqs = sorted(json.loads(line)["seq"] for line in read.stdout.splitlines())
    assert seqs == list(range(1, 2001))
    assert b"seq: 0 lost, 0 duplicated" in read.stderr
    assert_no_traceback(read.stderr)


def test_keyed_by_state_so_each_state_stays_in_order(broker: Any) -> None:
    uri = f"kafka://{broker.bootstrap}/{unique_topic()}"
    env = client_env(broker)
    run_buzzline(
        ["produce", "--interval", "0", "--count", "1000", "--format", "json", "-o", uri], env=env
    )
    read = run_buzzline(
        ["consume", uri, "--from-beginning", "--exit-at-end", "--show-all", "--format", "json"],
        env=env,
    )
    by_state: dict[str, list[int]] = {}
    for line in read.stdout.splitlines():
        message = json.loads(line)
        by_state.setdefault(message["state"], []).append(message["seq"])
    assert len(by_state) == 14
    assert all(seqs == sorted(seqs) for seqs in by_state.values())


def test_a_group_resumes_after_what_it_committed(broker: Any) -> None:
    topic = unique_topic()
    uri = f"kafka://{broker.bootstrap}/{topic}"
    env = client_env(broker)
    run_buzzline(
        ["produce", "--interval", "0", "--count", "30", "--format", "json", "-o", uri], env=env
    )
    first = run_buzzline(
        [
            "consume",
            uri,
            "--group",
            "g1",
            "--from-beginning",
            "--exit-at-end",
            "--show-all",
            "--format",
            "json",
        ],
        env=env,
    )
    assert len(first.stdout.splitlines()) == 30
    run_buzzline(
        ["produce", "--interval", "0", "--count", "5", "--format", "json", "-o", uri], env=env
    )
    again = run_buzzline(
        ["consume", uri, "--group", "g1", "--exit-at-end", "--show-all", "--format", "json"],
        env=env,
    )
    assert sorted(json.loads(x)["seq"] for x in again.stdout.splitlines()) == [1, 2, 3, 4, 5]


def test_ctrl_c_while_following_a_topic(broker: Any) -> None:
    uri = f"kafka://{broker.bootstrap}/{unique_topic()}"
    env = client_env(broker)
    run_buzzline(["produce", "--interval", "0", "--count", "3", "-o", uri], env=env)
    proc = subprocess.Popen(
        buzzline_cmd("consume", uri, "--from-beginning", "--format", "plain"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**__import__("os").environ, **env},
    )
    time.sleep(6)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert_no_traceback(err)
    assert out.count(b"\n") == 3
    assert b"3 messages" in err


def test_stats_of_a_topic(broker: Any) -> None:
    uri = f"kafka://{broker.bootstrap}/{unique_topic()}"
    env = client_env(broker)
    run_buzzline(
        ["produce", "--interval", "0", "--count", "500", "--format", "json", "-o", uri], env=env
    )
    result = run_buzzline(["stats", uri, "--format", "json"], env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["messages"] == 500
    assert report["sequence"]["lost"] == 0 and report["sequence"]["duplicates"] == 0


def test_unreachable_broker_is_one_line_exit_1() -> None:
    started = time.monotonic()
    result = run_buzzline(["produce", "--count", "1", "-o", "kafka://127.0.0.1:1/buzzline"])
    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert result.stderr.startswith(b"buzzline: error: cannot reach Kafka at 127.0.0.1:1")
    assert len(result.stderr.strip().splitlines()) == 1
    read = run_buzzline(["consume", "kafka://127.0.0.1:1/buzzline", "--exit-at-end"])
    assert read.returncode == 1
    assert_no_traceback(read.stderr)


def test_without_the_kafka_extra_says_how_to_install(tmp_path: Path) -> None:
    blocker = tmp_path / "confluent_kafka"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('not installed')\n")
    result = run_buzzline(
        ["produce", "--count", "1", "-o", "kafka://localhost:9092/t"],
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stderr.decode().strip() == (
        'buzzline: error: Kafka support needs confluent-kafka: pip install "buzzline[kafka]"'
    )


def test_bad_uri_and_kafka_flags_on_files(tmp_path: Path) -> None:
    bad = run_buzzline(["produce", "--count", "1", "-o", "kafka://nohostport/t"])
    assert bad.returncode == 2
    assert_no_traceback(bad.stderr)
    log = tmp_path / "x.log"
    log.write_text("x\n")
    misuse = run_buzzline(["consume", str(log), "--exit-at-end"])
    assert misuse.returncode == 2
    assert b"are for kafka:// sources" in misuse.stderr


def test_the_course_environment_names(broker: Any) -> None:
    topic = unique_topic()
    env = {**client_env(broker), "KAFKA_BROKER_ADDRESS": broker.bootstrap, "KAFKA_TOPIC": topic}
    made = run_buzzline(["produce", "--interval", "0", "--count", "10", "-o", "kafka://"], env=env)
    assert made.returncode == 0, made.stderr
    assert f"kafka://{broker.bootstrap}/{topic}".encode() in made.stderr


def test_ctrl_c_while_producing_flushes_what_was_made(broker: Any) -> None:
    from kafka_broker import count_messages

    topic = unique_topic()
    uri = f"kafka://{broker.bootstrap}/{topic}"
    proc = subprocess.Popen(
        buzzline_cmd("produce", "--interval", "0.01", "-o", uri),
        stderr=subprocess.PIPE,
        env={**__import__("os").environ, **client_env(broker)},
    )
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert_no_traceback(err)
    wrote = int(err.split(b"wrote ")[1].split(b" ")[0])
    assert wrote > 10
    assert count_messages(broker.bootstrap, topic) == wrote  # nothing made was left behind
