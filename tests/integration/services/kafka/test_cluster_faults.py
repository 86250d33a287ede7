"""What production Kafka does to us, on a local three-broker cluster (replication 3, min.insync.replicas 2).

Each test streams the sample challenges into a fresh namespace while a broker is lost (SIGKILL of the
leader of a `challenges`, `matches` or changelog partition), hangs (SIGSTOP for 30 s) or a worker dies
during the leader election that follows. Each must end with exactly the challenge match_ids of an
undisturbed run (the offline ranking of the same data): none lost, duplicates only with the same id.
The cluster is the project's own (`matchmaker kafka up --brokers 3`), secured like the single broker,
on MATCHMAKER_TEST_CLUSTER_PORT (19700; nodes on +0, +10, +20).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from services.kafka import clients
from services.kafka.local import LocalBroker
from services.kafka.publisher import Publisher
from services.settings import Settings
from tests.integration.services.stream.test_failures import CHALLENGES, COMPANIES, expected_match_ids
from tests.support.broker import make_namespace
from tests.support.kafka import all_matches
from tests.support.processes import WorkerProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster() -> Iterator[Settings]:
    port = int(os.environ.get("MATCHMAKER_TEST_CLUSTER_PORT", "19700"))
    settings = Settings(kafka_port=port, kafka_brokers=3)
    broker = LocalBroker(settings)
    was_running = broker.status().running
    broker.up(timeout=180)
    try:
        yield settings
    finally:
        if not was_running:
            broker.down()


def leader_of(settings: Settings, topic: str, partition: int = 0) -> int:
    admin = clients.admin(settings, client_id="test-faults")
    try:
        (described,) = admin.describe_topics([topic])
    finally:
        admin.close()
    return next(p["leader_id"] for p in described["partitions"] if p["partition_index"] == partition)


def replication_of(settings: Settings, topic: str) -> tuple[int, str]:
    """(replicas of partition 0, the topic's min.insync.replicas)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = clients.admin(settings, client_id="test-faults")
    try:
        (described,) = admin.describe_topics([topic])
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    replicas = len(next(p for p in described["partitions"] if p["partition_index"] == 0)["replica_nodes"])
    return replicas, configs["topic"][topic]["min.insync.replicas"]["value"]


Fault = Callable[[Settings, LocalBroker, list[WorkerProcess]], str]


@dataclass
class Outcome:
    match_ids: set[str]
    count: int  # results with trigger challenge, duplicates included
    fault: str
    recovery: float  # the slowest challenge published after the fault: seconds to its first result

    def report(self, expected: set[str]) -> str:
        return (
            f"{self.fault}: lost {len(expected - self.match_ids)}, duplicates {self.count - len(self.match_ids)} "
            f"(same match_id), recovery {self.recovery:.1f} s"
        )


def stream_with_fault(cluster: Settings, fault: Fault, workers: int = 1) -> Outcome:
    """Companies in, then the challenges one by one with `fault` after a third of them; every node alive
    again at the end."""
    settings = make_namespace(cluster)
    broker = LocalBroker(cluster)
    started = [WorkerProcess(settings, name="w1")]
    for extra in range(1, workers):
        port = settings.worker_web_port + extra
        started.append(WorkerProcess(settings.model_copy(update={"worker_web_port": port}), name=f"w{extra + 1}"))
    did, published, fault_at = "", {}, 0.0
    try:
        for worker in started:
            worker.wait_ready()
        with Publisher.from_settings(settings) as publisher:
            for company in COMPANIES:
                publisher.publish_company(company)
            publisher.flush()
            started[0].drain(timeout=240)
            for i, challenge in enumerate(CHALLENGES):
                publisher.publish_challenge(challenge)
                published[challenge.challenge_id] = time.time()
                time.sleep(0.3)
                if i == len(CHALLENGES) // 3:
                    fault_at = time.time()
                    did = fault(settings, broker, started)
            publisher.flush(timeout=120)
        broker.up(timeout=180)  # the lost node comes back (it catches up from the others)
        survivor = next(w for w in started if w.alive)
        survivor.drain(timeout=300)
        results = [r for r in all_matches(settings) if r.trigger == "challenge"]
        first: dict[str, float] = {}
        for result in results:
            at = result.produced_at.timestamp()
            first[result.challenge_id] = min(first.get(result.challenge_id, at), at)
        after = [first[c] - t for c, t in published.items() if t > fault_at and c in first]
        return Outcome({r.match_id for r in results}, len(results), did, max(after, default=0.0))
    finally:
        for worker in started:
            worker.stop()
        broker.up(timeout=180)


def kill_leader_of(topic_of: Callable[[Settings], str]) -> Fault:
    def fault(settings: Settings, broker: LocalBroker, workers: list[WorkerProcess]) -> str:
        topic = topic_of(settings)
        node = leader_of(settings, topic)
        pid = broker.pid(node)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        return f"SIGKILL broker {node}, leader of {topic}[0]"

    return fault


def test_topics_are_replicated_three_times_with_two_in_sync(cluster):
    settings = make_namespace(cluster)
    for topic in (settings.topic_challenges, settings.topic_matches, settings.city_topic("Oulu")):
        assert replication_of(settings, topic) == (3, "2"), topic


@pytest.mark.parametrize(
    "topic_of",
    [
        pytest.param(lambda s: s.topic_challenges, id="challenges"),
        pytest.param(lambda s: s.topic_matches, id="matches"),
        pytest.param(lambda s: f"{s.app_id}-challenges-changelog", id="changelog"),
    ],
)
def test_losing_a_partition_leader_mid_stream_loses_nothing(cluster, topic_of):
    outcome = stream_with_fault(cluster, kill_leader_of(topic_of))
    expected = expected_match_ids(cluster)
    print("\n" + outcome.report(expected))
    assert outcome.match_ids == expected


def test_a_broker_that_hangs_for_30_seconds_loses_nothing(cluster):
    def hang(settings: Settings, broker: LocalBroker, workers: list[WorkerProcess]) -> str:
        node = leader_of(settings, settings.topic_challenges)
        pid = broker.pid(node)
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        threading.Timer(30.0, os.kill, args=(pid, signal.SIGCONT)).start()
        return f"SIGSTOP broker {node} (leader of {settings.topic_challenges}[0]) for 30 s"

    outcome = stream_with_fault(cluster, hang)
    expected = expected_match_ids(cluster)
    print("\n" + outcome.report(expected))
    assert outcome.match_ids == expected


def test_a_worker_killed_during_a_leader_election_loses_nothing(cluster):
    def both(settings: Settings, broker: LocalBroker, workers: list[WorkerProcess]) -> str:
        said = kill_leader_of(lambda s: s.topic_challenges)(settings, broker, workers)
        workers[1].kill()
        return said + ", and SIGKILL of one of the two workers at once"

    outcome = stream_with_fault(cluster, both, workers=2)
    expected = expected_match_ids(cluster)
    print("\n" + outcome.report(expected))
    assert outcome.match_ids == expected
