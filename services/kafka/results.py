"""Reading MatchResults back from the `matches` topic (no consumer group: nothing is committed)."""

from __future__ import annotations

from typing import Iterator

from kafka import KafkaConsumer, TopicPartition

from schemas import MatchResult
from services.settings import Settings


def read_matches(settings: Settings, follow: bool = False, poll_seconds: float = 0.5) -> Iterator[MatchResult]:
    """Every MatchResult from the beginning of the topic; with `follow`, keep waiting for new ones."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(settings.topic_matches, p) for p in sorted(consumer.partitions_for_topic(settings.topic_matches) or [])]
        if not partitions:
            return
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        while True:
            batch = consumer.poll(timeout_ms=int(poll_seconds * 1000))
            for records in batch.values():
                for record in records:
                    if record.value is not None:
                        yield MatchResult.model_validate_json(record.value)
            if not follow and all(consumer.position(tp) >= end[tp] for tp in partitions):
                return
    finally:
        consumer.close()


def latest_rankings(results: Iterator[MatchResult], trigger: str = "challenge") -> dict[str, list[MatchResult]]:
    """Per trigger entity, the list of its newest ranking (highest version of that entity), by rank."""
    lists: dict[str, dict[int, dict[str, MatchResult]]] = {}
    for result in results:
        if result.trigger != trigger:
            continue
        owner, version = (
            (result.challenge_id, result.challenge_version) if trigger == "challenge" else (result.company_id, result.company_version)
        )
        lists.setdefault(owner, {}).setdefault(version, {})[result.match_id] = result
    return {owner: sorted(by_version[max(by_version)].values(), key=lambda r: r.rank) for owner, by_version in lists.items()}

