"""The one place where Kafka clients are built from `Settings`.

Every kafka-python producer, consumer and admin client of the project, and every Faust app, gets its
connection from `_connection` / `faust_broker_options` here, so pointing the project at another
cluster (or, later, adding TLS and SASL credentials) is a change in one function. Callers pass the
options that are theirs (client_id, linger, timeouts, group) as keyword arguments.

    producer = clients.producer(settings, client_id="matchmaker-api", linger_ms=0)
    consumer = clients.consumer(settings, client_id="matchmaker-inbox")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from services.settings import Settings

if TYPE_CHECKING:
    import faust

# Every producer waits for all in-sync replicas unless its caller says otherwise.
PRODUCER_DEFAULTS: dict[str, Any] = {"acks": "all"}
# Consumers read without a consumer group and commit nothing unless their caller joins a group.
CONSUMER_DEFAULTS: dict[str, Any] = {"group_id": None, "enable_auto_commit": False}


def _connection(settings: Settings) -> dict[str, Any]:
    """kafka-python keyword arguments that say where the cluster is and how to connect to it."""
    return {"bootstrap_servers": settings.bootstrap_servers}


def producer(settings: Settings, *, client_id: str, **overrides: Any) -> KafkaProducer:
    """A KafkaProducer (acks=all unless overridden)."""
    return KafkaProducer(**_connection(settings), **{**PRODUCER_DEFAULTS, "client_id": client_id, **overrides})


def consumer(settings: Settings, *topics: str, client_id: str, **overrides: Any) -> KafkaConsumer:
    """A KafkaConsumer, subscribed to `topics` when given (that needs a group_id); no group by default."""
    return KafkaConsumer(*topics, **_connection(settings), **{**CONSUMER_DEFAULTS, "client_id": client_id, **overrides})


def admin(settings: Settings, *, client_id: str, **overrides: Any) -> KafkaAdminClient:
    return KafkaAdminClient(**_connection(settings), **{"client_id": client_id, **overrides})


def faust_broker_options(settings: Settings) -> dict[str, Any]:
    """faust.App keyword arguments for the cluster: the broker URL list (later also broker_credentials)."""
    return {"broker": [f"kafka://{server.strip()}" for server in settings.bootstrap_servers.split(",")]}


def faust_app(settings: Settings, app_id: str, **options: Any) -> faust.App:
    """A Faust app on the configured cluster; `options` are the app's own settings (see faust_app.make_app)."""
    import faust  # imported here: heavy, and only stream processes need it

    return faust.App(app_id, **faust_broker_options(settings), **options)
