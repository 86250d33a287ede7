"""The bench's Kafka side: its own local broker, fresh namespaces, publishing, workers, reading results."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from schemas import Challenge, CompanyProfile
from services.kafka.local import LocalBroker
from services.kafka.publisher import Publisher
from services.kafka.reader import replay
from services.settings import Settings
from tests.support.broker import local_broker

BENCH_PORT = int(os.environ.get("MATCHMAKER_BENCH_KAFKA_PORT", "59192"))


def bench_broker() -> AbstractContextManager[Settings]:
    """The bench's own broker (port 59192 unless MATCHMAKER_BENCH_KAFKA_PORT); stopped at the end if started here."""
    return local_broker(BENCH_PORT)


def publish(settings: Settings, entities: Iterable[Challenge | CompanyProfile]) -> int:
    with Publisher.from_settings(settings) as publisher:
        n = 0
        for entity in entities:
            if isinstance(entity, Challenge):
                publisher.publish_challenge(entity)
            else:
                publisher.publish_company(entity)
            n += 1
        publisher.flush(timeout=120)
    return n


@dataclass(frozen=True)
class Record:
    key: str | None
    timestamp_ms: int
    value: dict | None


def read_topic(settings: Settings, topic: str) -> list[Record]:
    """Every record of a topic, from the beginning to the end offsets at the time of the call."""
    return [
        Record(r.key.decode() if r.key else None, r.timestamp, json.loads(r.value) if r.value is not None else None)
        for r in replay(settings, topic, client_id="matchmaker-bench")
    ]


def vm_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc (Linux)."""
    out = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(rest.split()[0]) * 1024
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used, all its threads together (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_pid(settings: Settings) -> int | None:
    return LocalBroker(settings).status().pid
