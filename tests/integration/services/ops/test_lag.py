"""`matchmaker lag` on the real broker: figures equal Kafka's own tool; statuses follow the consumers."""

from __future__ import annotations

import json
import time

import pytest

from services.cli.processes import settings_env
from services.kafka import clients
from services.ops.lag_sampler import LagSampler, LagTracker
from tests.support.broker import make_namespace
from tests.support.lag import (
    Traffic,
    commit_known_offsets,
    create_topic,
    kafka_tool_describe,
    lag_cli,
    produce,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ns(broker_settings):
    return make_namespace(broker_settings)


def test_lag_equals_kafka_consumer_groups_tool(ns):
    topic, group = f"{ns.app_id}-known", f"{ns.app_id}-known-group"
    create_topic(ns, topic, 3)
    produce(ns, topic, {0: 40, 1: 30, 2: 25})
    commit_known_offsets(ns, group, topic, {0: 10, 1: 30, 2: 3})  # lag 30, 0, 22; the group is idle afterwards

    ours = lag_cli(ns, "--group", group, "--samples", "2", "--interval", "0.2")
    tool = kafka_tool_describe(ns, group)

    by_name = {g["group"]: g for g in ours["groups"]}
    assert [g["group"] for g in ours["groups"]] == [ns.app_id, f"{ns.app_id}-notifier", group]
    assert by_name[ns.app_id]["status"] == "NOTFOUND"  # no worker ever ran in this namespace
    report = by_name[group]
    rows = {(p["topic"], p["partition"]): p for p in report["partitions"]}
    print("\ncross-check (topic, partition): ours committed/end/lag vs kafka-consumer-groups")
    for key in sorted(tool):
        print(
            f"  {key}: ours {rows[key]['committed']}/{rows[key]['end']}/{rows[key]['lag']}  "
            f"tool {tool[key]['committed']}/{tool[key]['end']}/{tool[key]['lag']}"
        )
    assert set(rows) == set(tool) == {(topic, 0), (topic, 1), (topic, 2)}
    for key, expected in tool.items():
        assert {k: rows[key][k] for k in ("committed", "end", "lag")} == expected
    assert [rows[(topic, p)]["lag"] for p in range(3)] == [30, 0, 22]
    assert report["sum_lag"] == 52 and report["max_lag"] == 30
    assert report["state"] == "Empty" and report["members"] == 0
    assert report["status"] == "STOP"  # lag and nobody consuming: no commits
    # lag in seconds is the age of the next unconsumed message: positive where there is lag, 0 where none
    assert rows[(topic, 1)]["lag_seconds"] == 0.0
    assert 0 < rows[(topic, 0)]["lag_seconds"] < 120


def test_text_output_lists_every_partition(ns):
    import subprocess
    import sys

    env = settings_env(ns)
    group = f"{ns.app_id}-known-group"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.cli",
            "lag",
            "--group",
            group,
            "--only",
            "--samples",
            "2",
            "--interval",
            "0.1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"GROUP {group}  status STOP" in result.stdout
    assert result.stdout.count(f"{ns.app_id}-known ") == 3


def poll_statuses(tracker: LagTracker, group: str, count: int, interval: float) -> list[str]:
    statuses = []
    for _ in range(count):
        started = time.monotonic()
        report = tracker.poll().group(group)
        assert report is not None, f"group {group} not in the report"
        statuses.append(report.status)
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return statuses


@pytest.mark.timeout(180)
def test_statuses_follow_the_consumer(ns):
    """Keeps up: OK. Stopped with lag: STOP (or STALL while it was still in the group). Slower than its producer: WARN."""
    interval, window = 0.5, 6
    topic, group = f"{ns.app_id}-steady", f"{ns.app_id}-steady-group"
    create_topic(ns, topic, 1)
    traffic = Traffic(ns, topic, group, burst=5, every=0.5).start()
    tracker = LagTracker(LagSampler(ns, [group]), window_size=window, interval=interval)
    try:
        deadline = time.monotonic() + 30
        while traffic.consumed < 10 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert traffic.consumed >= 10, traffic.errors
        poll_statuses(tracker, group, window, interval)  # fill the window
        keeping_up = poll_statuses(tracker, group, 8, interval)
        assert keeping_up == ["OK"] * 8, keeping_up

        traffic.stop_consuming()  # the producer goes on: lag grows, the committed offset stays
        stopped = poll_statuses(tracker, group, 2 * window + 2, interval)
        print(f"\nkeeping up: {keeping_up}\nafter the consumer stopped: {stopped}")
        assert stopped[-1] == "STOP", stopped
        assert set(stopped) <= {"OK", "WARN", "STALL", "STOP"}, stopped
        last = tracker.last.group(group)
        assert last.members == 0 and last.sum_lag > 0 and last.max_lag_seconds > 0
    finally:
        traffic.stop()
        tracker.close()
    assert not traffic.errors

    # Slower than its producer, driven step by step so machine load cannot blur it: before every sample
    # 20 messages are produced and the member consumes and commits 5, so lag grows while offsets advance.
    topic, group = f"{ns.app_id}-slow", f"{ns.app_id}-slow-group"
    create_topic(ns, topic, 1)
    producer = clients.producer(ns, client_id="test-lag")
    consumer = clients.consumer(
        ns,
        topic,
        client_id="test-lag",
        group_id=group,
        auto_offset_reset="earliest",
        max_poll_records=5,
        session_timeout_ms=10000,
    )
    tracker = LagTracker(LagSampler(ns, [group]), window_size=window, interval=interval)
    try:
        slow = []
        for step in range(window + 6):
            for i in range(20):
                producer.send(topic, value=json.dumps({"step": step, "i": i}).encode())
            producer.flush()
            taken, deadline = 0, time.monotonic() + 10
            while taken < 5 and time.monotonic() < deadline:
                taken += sum(len(batch) for batch in consumer.poll(timeout_ms=500, max_records=5 - taken).values())
            consumer.commit()
            slow.append(tracker.poll().group(group).status)
        slow = slow[window:]
        print(f"slower than the producer: {slow}")
        assert slow == ["WARN"] * 6, slow
        report = tracker.last.group(group)
        assert report.consume_rate and report.partitions[0].produce_rate > report.consume_rate
    finally:
        consumer.close()
        producer.close()
        tracker.close()
