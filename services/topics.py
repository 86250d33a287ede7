"""Create the project's topics with kafka-python's admin client (idempotent)."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from services.settings import Settings


def topic_specs(settings: Settings) -> dict[str, dict]:
    """Entity topics are compacted: the latest version (or tombstone) of each key is what matters."""
    entity = {"cleanup.policy": "compact"}
    spec = lambda partitions, configs=None: {  # noqa: E731
        "num_partitions": partitions,
        "replication_factor": settings.replication_factor,
        "configs": configs or {},
    }
    return {
        settings.topic_challenges: spec(settings.partitions, entity),
        settings.topic_companies: spec(settings.partitions, entity),
        settings.topic_matches: spec(settings.partitions),
        settings.topic_dead_letters: spec(1),
    }


def ensure_topics(settings: Settings) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="matchmaker-admin")
    try:
        existing = set(admin.list_topics())
        missing = {name: spec for name, spec in topic_specs(settings).items() if name not in existing}
        if missing:
            try:
                admin.create_topics(missing, wait_for_metadata=True)
            except TopicAlreadyExistsError:  # another process won the race
                pass
    finally:
        admin.close()
