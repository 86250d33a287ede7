"""The Kafka client factory without a broker: every client gets the cluster from Settings, plus its own options."""

from __future__ import annotations

import ssl

import pytest
from pydantic import SecretStr

from services.errors import ConfigurationError
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
    """An existing plaintext cluster (a developer's, say): no TLS, no SASL options at all."""
    return Settings().model_copy(
        update={"kafka_bootstrap_servers": "k1:9092,k2:9092", "kafka_security_protocol": "PLAINTEXT"}
    )


def secured(tmp_path, **overrides) -> Settings:
    """An existing cluster with SASL_SSL and SCRAM, as the project's own runs."""
    return Settings().model_copy(
        update={
            "kafka_bootstrap_servers": "k1:9093",
            "kafka_username": "worker",
            "kafka_password_file": tmp_path / "password",
            "kafka_ca_file": tmp_path / "ca.pem",
            "home": tmp_path,
            **overrides,
        }
    )


def test_producers_wait_for_all_replicas_unless_told_otherwise(recorded):
    producer = clients.producer(cluster(), client_id="matchmaker-api", linger_ms=0)
    assert producer.kwargs == {
        "bootstrap_servers": "k1:9092,k2:9092",
        "security_protocol": "PLAINTEXT",
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
        "security_protocol": "PLAINTEXT",
        "client_id": "matchmaker-admin",
        "request_timeout_ms": 5000,
    }


def test_faust_apps_get_every_broker_of_the_list():
    settings = cluster().model_copy(update={"kafka_bootstrap_servers": "k1:9092, k2:9093"})
    assert clients.faust_broker_options(settings) == {"broker": ["kafka://k1:9092", "kafka://k2:9093"]}
    local = cluster().model_copy(update={"kafka_bootstrap_servers": None, "kafka_port": 19999})
    assert clients.faust_broker_options(local) == {"broker": ["kafka://127.0.0.1:19999"]}


def test_a_secured_cluster_gets_tls_and_the_scram_credential_of_the_principal(recorded, tmp_path):
    (tmp_path / "password").write_text("s3cret-from-a-file\n")
    producer = clients.producer(secured(tmp_path), client_id="p")
    assert {k: v for k, v in producer.kwargs.items() if k.startswith(("security", "sasl", "ssl"))} == {
        "security_protocol": "SASL_SSL",
        "ssl_cafile": str(tmp_path / "ca.pem"),
        "ssl_check_hostname": True,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "worker",
        "sasl_plain_password": "s3cret-from-a-file",
    }


def test_the_local_cluster_uses_the_stored_password_of_this_processs_principal(recorded, tmp_path):
    from services.kafka import credentials

    credentials.write(tmp_path, "operator", "operator-pw")
    credentials.write(tmp_path, "notifier", "notifier-pw")
    local = Settings(home=tmp_path).model_copy(update={"kafka_bootstrap_servers": None})
    cli = clients.admin(local, client_id="cli").kwargs
    assert (cli["sasl_plain_username"], cli["sasl_plain_password"]) == ("operator", "operator-pw")
    assert cli["ssl_cafile"] == str(tmp_path / "security" / "tls" / "ca.pem")
    notifier = clients.consumer(local.as_principal("notifier"), client_id="n").kwargs
    assert (notifier["sasl_plain_username"], notifier["sasl_plain_password"]) == ("notifier", "notifier-pw")
    # an explicitly configured user wins over the process's own principal
    assert local.model_copy(update={"kafka_username": "ops"}).as_principal("worker").kafka_username == "ops"


def test_a_missing_password_is_a_configuration_error_naming_the_remedy(recorded, tmp_path):
    with pytest.raises(ConfigurationError, match="MATCHMAKER_KAFKA_PASSWORD_FILE"):
        clients.producer(secured(tmp_path, kafka_password_file=None), client_id="p")


def test_faust_apps_get_the_same_credential_and_a_verifying_tls_context(tmp_path):
    from services.kafka.tls import ensure_tls

    files = ensure_tls(tmp_path / "tls")
    settings = secured(tmp_path, kafka_password=SecretStr("pw"), kafka_ca_file=files.ca_cert)
    credential = clients.faust_broker_options(settings)["broker_credentials"]
    assert (credential.username, credential.password, credential.mechanism.value) == ("worker", "pw", "SCRAM-SHA-512")
    assert credential.protocol.value == "SASL_SSL" and credential.ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_publisher_from_settings_and_from_a_server_list_build_the_same_producer(recorded):
    settings = cluster().model_copy(update={"topic_challenges": "ns-challenges", "topic_companies": "ns-companies"})
    from_settings = Publisher.from_settings(settings)
    assert (from_settings.challenges_topic, from_settings.companies_topic) == ("ns-challenges", "ns-companies")
    plain = Publisher.from_settings(cluster().model_copy(update={"topic_challenges": "challenges"}), 2048)
    assert (plain.challenges_topic, plain.companies_topic, plain.max_request_size) == ("challenges", "companies", 2048)
    expected = {
        "bootstrap_servers": "k1:9092,k2:9092",
        "security_protocol": "PLAINTEXT",
        "acks": "all",
        "client_id": "matchmaker-publisher",
        "linger_ms": 5,
        "max_request_size": 1_048_576,
    }
    assert from_settings._producer.kwargs == expected
    assert plain._producer.kwargs == {**expected, "max_request_size": 2048}
