"""Create the project's topics with kafka-python's admin client (idempotent)."""

from __future__ import annotations

from kafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError

from services.errors import ConfigurationError
from services.kafka import clients
from services.settings import Settings


def topic_spec(settings: Settings, partitions: int, compact: bool = False) -> dict:
    """Options for admin.create_topics; compacted topics keep the latest value (or tombstone) per key.

    With replication 3 a topic also wants 2 in-sync replicas for an acks=all write: losing any one broker
    loses no acknowledged write and stops no producer. (Replication None: decided by `create_missing`.)
    """
    configs = {"cleanup.policy": "compact"} if compact else {}
    if settings.replication_factor is not None and settings.replication_factor >= 3:
        configs["min.insync.replicas"] = "2"
    return {"num_partitions": partitions, "replication_factor": settings.replication_factor, "configs": configs}


def with_replication(settings: Settings) -> Settings:
    """`settings` with replication_factor decided: as configured, else 3 when the cluster has 3 or more
    brokers and 1 otherwise (a single development broker)."""
    if settings.replication_factor is not None:
        return settings
    admin = clients.admin(settings, client_id="matchmaker-admin")
    try:
        brokers = len(admin.describe_cluster()["brokers"])
    finally:
        admin.close()
    return settings.model_copy(update={"replication_factor": min(3, max(1, brokers))})


def topic_specs(settings: Settings) -> dict[str, dict]:
    """The topics producers and consumers outside the worker share: created by the operator."""
    return {
        **source_topic_specs(settings),
        **output_topic_specs(settings),
    }


def source_topic_specs(settings: Settings) -> dict[str, dict]:
    """Where events come in: the trusted challenges topic, each city's own, the companies topic."""
    specs = {settings.topic_challenges: topic_spec(settings, settings.partitions, compact=True)}
    for topic in settings.city_topics.values():
        specs[topic] = topic_spec(settings, settings.city_partitions, compact=True)
    specs[settings.topic_companies] = topic_spec(settings, settings.partitions, compact=True)
    return specs


def output_topic_specs(settings: Settings) -> dict[str, dict]:
    """What the worker writes (it may create these itself)."""
    return {
        settings.topic_matches: topic_spec(settings, settings.partitions),
        settings.topic_dead_letters: topic_spec(settings, 1),
    }


def worker_topic_specs(settings: Settings) -> dict[str, dict]:
    """The worker's internal topics and table changelogs, created before Faust starts.

    Faust creates them itself too, but on a fresh broker its consumer could subscribe before their
    metadata had spread, log "Ignoring missing topic" and never consume them; creating them first
    (and waiting for their metadata) removes that race.
    """
    app, shards = settings.app_id, settings.shards
    specs = {
        settings.shard_input_topic: topic_spec(settings, shards),
        settings.partials_topic: topic_spec(settings, shards),
    }
    for table in ("companies", "challenges", "merges", "alerts"):
        specs[f"{app}-{table}-changelog"] = topic_spec(settings, shards, compact=True)
    return specs


def delivery_topic_specs(settings: Settings) -> dict[str, dict]:
    """The delivery side's topics: subscriptions, inbox tokens, notification dead letters."""
    d = settings.delivery
    return {
        # same partition count and key (company_id) as `matches`: co-partitioned for the notifier
        d.topic_subscriptions: topic_spec(settings, settings.partitions, compact=True),
        d.topic_inbox_tokens: topic_spec(settings, 1, compact=True),
        d.topic_notification_dead_letters: topic_spec(settings, 1),
    }


def notifier_topic_specs(settings: Settings, partitions: int) -> dict[str, dict]:
    """The notifier's control topic and table changelogs, created before Faust starts (as the worker's:
    a changelog that appears after the group formed triggers a rebalance in the middle of deliveries)."""
    app = settings.notifier_app_id
    specs = {settings.notifier_control_topic: topic_spec(settings, partitions)}
    for table in ("subscriptions", "deliveries", "stale"):
        specs[f"{app}-{table}-changelog"] = topic_spec(settings, partitions, compact=True)
    return specs


def create_missing(settings: Settings, specs: dict[str, dict]) -> None:
    """Create the topics of `specs` that do not exist yet; another process may race us, which is fine.

    Specs made with the replication undecided get the cluster's (`with_replication`)."""
    if any(spec["replication_factor"] is None for spec in specs.values()):
        decided = with_replication(settings)
        specs = {
            name: spec if spec["replication_factor"] is not None else _respec(decided, spec)
            for name, spec in specs.items()
        }
    admin = clients.admin(settings, client_id="matchmaker-admin")
    try:
        existing = set(admin.list_topics())
        missing = {name: spec for name, spec in specs.items() if name not in existing}
        if missing:
            try:
                admin.create_topics(missing, wait_for_metadata=True)
            except TopicAlreadyExistsError:
                pass
            except TopicAuthorizationFailedError as error:
                raise ConfigurationError(
                    f"topics {sorted(missing)} are missing and principal {settings.kafka_username or 'operator'} "
                    "may not create them; the operator creates the project's topics (`matchmaker access sync`)"
                ) from error
    finally:
        admin.close()


def _respec(settings: Settings, spec: dict) -> dict:
    compact = spec["configs"].get("cleanup.policy") == "compact"
    return topic_spec(settings, spec["num_partitions"], compact)


def missing(settings: Settings, names: list[str]) -> list[str]:
    """The topics of `names` this principal cannot see (absent, or not allowed to describe)."""
    admin = clients.admin(settings, client_id="matchmaker-admin")
    try:
        existing = set(admin.list_topics())
    finally:
        admin.close()
    return [name for name in names if name not in existing]


def ensure_topics(settings: Settings) -> None:
    create_missing(settings, topic_specs(settings))
