"""Consumer groups with known lag on the real broker, for the lag and monitor tests (plain kafka-python)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kafka import TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata

from services.cli.processes import settings_env
from services.kafka import clients, credentials
from services.kafka.local import LOG4J_CONFIG, LocalBroker
from services.settings import Settings


def create_topic(settings: Settings, name: str, partitions: int) -> None:
    admin = clients.admin(settings, client_id="test-lag")
    try:
        admin.create_topics([NewTopic(name, partitions, 1)], wait_for_metadata=True)
    finally:
        admin.close()


def produce(settings: Settings, topic: str, counts: dict[int, int]) -> None:
    producer = clients.producer(settings, client_id="test-lag")
    for partition, count in counts.items():
        for i in range(count):
            producer.send(topic, key=f"k{i}".encode(), value=json.dumps({"n": i}).encode(), partition=partition)
    producer.flush()
    producer.close()


def commit_known_offsets(settings: Settings, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Join `group` as a real subscribed member, commit exactly `offsets`, leave (the group is then Empty)."""
    consumer = clients.consumer(
        settings,
        topic,
        client_id="test-lag",
        group_id=group,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        metadata_max_age_ms=1000,
    )
    deadline = time.monotonic() + 30
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(timeout_ms=200, max_records=1)
    assert consumer.assignment(), "the consumer never got its partitions"
    consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in offsets.items()})
    consumer.close(autocommit=False)


def lag_cli(settings: Settings, *args: str) -> dict:
    """`matchmaker lag --json ...` as a user runs it; returns its (last) JSON report."""
    env = settings_env(settings)
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "lag", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def kafka_tool_describe(settings: Settings, group: str) -> dict[tuple[str, int], dict]:
    """Kafka's own consumer-groups tool: (topic, partition) -> {committed, end, lag} ("-" becomes None)."""
    broker = LocalBroker(settings)
    with tempfile.TemporaryDirectory() as private:  # the operator's credential, for the tool's connection
        config = Path(private) / "client.properties"
        credentials.write_private(config, clients.java_properties(settings))
        result = _run_tool(broker, settings, group, config)
    assert result.returncode == 0, result.stderr + result.stdout
    rows: dict[tuple[str, int], dict] = {}
    header = None
    for line in result.stdout.splitlines():
        fields = re.split(r"\s+", line.strip())
        if fields[:3] == ["GROUP", "TOPIC", "PARTITION"]:
            header = fields
            continue
        if header is None or len(fields) < 6 or fields[0] != group:
            continue
        row = dict(zip(header, fields, strict=False))  # the tool's last column may hold spaces
        number = lambda text: None if text == "-" else int(text)  # noqa: E731
        rows[(row["TOPIC"], int(row["PARTITION"]))] = {
            "committed": number(row["CURRENT-OFFSET"]),
            "end": number(row["LOG-END-OFFSET"]),
            "lag": number(row["LAG"]),
        }
    return rows


class Traffic:
    """A producer thread and a consumer thread on one topic, each with its own pace.

    The producer sends `burst` messages every `every` seconds; the consumer reads at most `batch`
    records per poll, sleeps `pause` seconds after each poll (to be slow on purpose) and commits
    synchronously after every poll.
    """

    def __init__(
        self,
        settings: Settings,
        topic: str,
        group: str,
        burst: int = 5,
        every: float = 0.5,
        batch: int = 500,
        pause: float = 0.0,
        partitions: int = 1,
    ) -> None:
        self.settings, self.topic, self.group = settings, topic, group
        self.burst, self.every, self.batch, self.pause, self.partitions = burst, every, batch, pause, partitions
        self.stop_producer = threading.Event()
        self.stop_consumer = threading.Event()
        self.consumed = 0
        self.produced = 0
        self.errors: list[BaseException] = []
        self.threads = [
            threading.Thread(target=self._produce, daemon=True),
            threading.Thread(target=self._consume, daemon=True),
        ]

    def start(self) -> Traffic:
        for thread in self.threads:
            thread.start()
        return self

    def _produce(self) -> None:
        try:
            producer = clients.producer(self.settings, client_id="test-traffic", acks=1, linger_ms=5)
            while not self.stop_producer.is_set():
                for i in range(self.burst):
                    producer.send(self.topic, value=b'{"tick": 1}', partition=(self.produced + i) % self.partitions)
                producer.flush()
                self.produced += self.burst
                self.stop_producer.wait(self.every)
            producer.close()
        except BaseException as error:  # reported by the test
            self.errors.append(error)

    def _consume(self) -> None:
        try:
            consumer = clients.consumer(
                self.settings,
                self.topic,
                client_id="test-traffic",
                group_id=self.group,
                auto_offset_reset="earliest",
                session_timeout_ms=6000,
                heartbeat_interval_ms=1000,
                metadata_max_age_ms=1000,
                fetch_max_wait_ms=50,
            )
            while not self.stop_consumer.is_set():
                batch = consumer.poll(timeout_ms=50, max_records=self.batch)
                count = sum(len(records) for records in batch.values())
                if count:
                    consumer.commit()
                    self.consumed += count
                if self.pause:
                    self.stop_consumer.wait(self.pause)
            consumer.close(autocommit=False)
        except BaseException as error:
            self.errors.append(error)

    def stop_consuming(self) -> None:
        self.stop_consumer.set()
        self.threads[1].join(timeout=30)

    def stop(self) -> None:
        self.stop_producer.set()
        self.stop_consuming()
        self.threads[0].join(timeout=30)


def _run_tool(broker: LocalBroker, settings: Settings, group: str, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            "java",
            "-cp",
            broker.classpath(),
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            f"-Dkafka.logs.dir={broker.dir / 'logs'}",
            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            "--bootstrap-server",
            settings.bootstrap_servers,
            "--command-config",
            str(config),
            "--describe",
            "--group",
            group,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
