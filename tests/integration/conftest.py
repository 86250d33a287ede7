"""Integration fixtures: one real local Kafka broker for the session, a fresh namespace per test module.

The broker listens on 127.0.0.1:19092 (MATCHMAKER_TEST_KAFKA_PORT to change) so a developer's own
broker on 9092 is left alone. With KAFKA_BOOTSTRAP_SERVERS set, the tests use that cluster instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from services.model_env import use_offline_models
from services.settings import Settings
from tests.support.broker import local_broker, make_namespace
from tests.support.processes import WorkerProcess

use_offline_models()  # the test session is a process entry point: set before any model library is imported


@pytest.fixture(scope="session")
def broker_settings() -> Iterator[Settings]:
    with local_broker(int(os.environ.get("MATCHMAKER_TEST_KAFKA_PORT", "19092"))) as settings:
        yield settings


@pytest.fixture(scope="module")
def namespace(broker_settings: Settings) -> Settings:
    return make_namespace(broker_settings)


@pytest.fixture(scope="module")
def worker(namespace: Settings) -> Iterator[WorkerProcess]:
    process = WorkerProcess(namespace)
    yield process
    process.stop()
