"""A real local Kafka broker for a test session or a benchmark, and namespaces on it."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from services.kafka import access
from services.kafka.local import LocalBroker
from services.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_broker(port: int) -> Iterator[Settings]:
    """The project's broker on `port` (reused when it already runs); stopped at the end only if started here.

    With KAFKA_BOOTSTRAP_SERVERS set, that cluster is used and nothing is started.
    """
    settings = Settings(kafka_port=port)
    broker = LocalBroker(settings)
    was_running = broker.status().running
    broker.up()
    try:
        yield settings
    finally:
        if not was_running:
            broker.down()


def make_namespace(base: Settings, **overrides: object) -> Settings:
    """Settings whose topics and consumer group belong to one test (or one bench run) only."""
    prefix = "t" + uuid.uuid4().hex[:10]
    fields = {
        "app_id": prefix,
        "topic_challenges": f"{prefix}-challenges",
        "topic_companies": f"{prefix}-companies",
        "topic_matches": f"{prefix}-matches",
        "topic_dead_letters": f"{prefix}-dead-letters",
        "worker_web_port": free_port(),
        "session_timeout": 6.0,
        **overrides,
    }
    settings = base.model_copy(update=fields)
    # the worker reads the subscriptions topic too (alert thresholds): each namespace has its own
    delivery = settings.delivery.model_copy(update={"topic_subscriptions": f"{prefix}-subscriptions"})
    settings = settings.model_copy(update={"delivery": delivery})
    access.sync(settings)  # its topics, and the services' ACLs on them
    return settings
