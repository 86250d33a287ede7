"""The Kafka client factory without a broker: every client gets the cluster from Settings, plus its own options."""

from __future__ import annotations

import pytest

from services.kafka import clients
from services.kafka.publisher import Publisher
from services.settings import Settings


class Recorder:
    """Stands in for a kafka-python client class: remembers how it was built."""

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs

    def close(self, *args, **kwargs) -> None:
        pass

    def flush(self, *args, **kwargs) -> None:
        pass


@pytest.fixture
def recorded(monkeypatch):
    for name in ("KafkaProducer", "KafkaConsumer", "KafkaAdminClient"):
        monkeypatch.setattr(clients, name, Recorder)


def cluster() -> Settings:
    return Settings().model_copy(update={"kafka_bootstrap_servers": "k1:9092,k2:9092"})


def test_producers_wait_for_all_replicas_unless_told_otherwise(recorded):
    producer = clients.producer(cluster(), client_id="matchmaker-api", linger_ms=0)
    assert producer.kwargs == {
        "bootstrap_servers": "k1:9092,k2:9092",
        "acks": "all",
        "client_id": "matchmaker-api",
        "linger_ms": 0,
    }
    assert clients.producer(cluster(), client_id="x", acks=1).kwargs["acks"] == 1


def test_consumers_read_without_a_group_unless_they_join_one(recorded):
    plain = clients.consumer(cluster(), client_id="matchmaker-inbox")
    assert plain.args == () and plain.kwargs["group_id"] is None and plain.kwargs["enable_auto_commit"] is False
    member = clients.consumer(cluster(), "topic-a", client_id="c", group_id="g")
    assert member.args == ("topic-a",) and member.kwargs["group_id"] == "g"
    assert member.kwargs["bootstrap_servers"] == "k1:9092,k2:9092"


def test_admin_clients_use_the_same_connection(recorded):
    admin = clients.admin(cluster(), client_id="matchmaker-admin", request_timeout_ms=5000)
    assert admin.kwargs == {
        "bootstrap_servers": "k1:9092,k2:9092",
        "client_id": "matchmaker-admin",
        "request_timeout_ms": 5000,
    }


def test_faust_apps_get_every_broker_of_the_list():
    settings = Settings().model_copy(update={"kafka_bootstrap_servers": "k1:9092, k2:9093"})
    assert clients.faust_broker_options(settings) == {"broker": ["kafka://k1:9092", "kafka://k2:9093"]}
    local = Settings(kafka_port=19999).model_copy(update={"kafka_bootstrap_servers": None})
    assert clients.faust_broker_options(local) == {"broker": ["kafka://127.0.0.1:19999"]}


def test_publisher_from_settings_and_from_a_server_list_build_the_same_producer(recorded):
    settings = cluster().model_copy(update={"topic_challenges": "ns-challenges", "topic_companies": "ns-companies"})
    from_settings = Publisher.from_settings(settings)
    assert (from_settings.challenges_topic, from_settings.companies_topic) == ("ns-challenges", "ns-companies")
    plain = Publisher("k1:9092,k2:9092", max_request_size=2048)
    assert (plain.challenges_topic, plain.companies_topic, plain.max_request_size) == ("challenges", "companies", 2048)
    expected = {
        "bootstrap_servers": "k1:9092,k2:9092",
        "acks": "all",
        "client_id": "matchmaker-publisher",
        "linger_ms": 5,
        "max_request_size": 1_048_576,
    }
    assert from_settings._producer.kwargs == expected
    assert plain._producer.kwargs == {**expected, "max_request_size": 2048}
