"""The project's own broker: idempotent up/down, clear errors."""

from __future__ import annotations

import socket

import pytest

from services.errors import BrokerError
from services.kafka.local import LocalBroker
from services.settings import Settings
from tests.support.broker import free_port

pytestmark = pytest.mark.integration


def test_up_twice_is_fine(broker_settings):
    broker = LocalBroker(broker_settings)
    first = broker.up()
    second = broker.up()
    assert first.running and second.running and first.pid == second.pid


def test_down_when_nothing_runs_is_fine(broker_settings):
    idle = LocalBroker(broker_settings.model_copy(update={"kafka_port": free_port()}))
    assert idle.down() is False
    assert not idle.status().running


def test_port_taken_by_another_process_is_a_clear_error(broker_settings):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        broker = LocalBroker(broker_settings.model_copy(update={"kafka_port": port}))
        with pytest.raises(BrokerError, match=f"port {port}.*taken"):
            broker.up()


def test_existing_cluster_setting_starts_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    settings = Settings(home=tmp_path)
    status = LocalBroker(settings).up()
    assert not status.managed and status.bootstrap_servers == "kafka.example:9092"
    assert not (tmp_path / "kafka").exists()
