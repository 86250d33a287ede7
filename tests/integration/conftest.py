"""Integration fixtures: one real local Kafka broker for the session, a fresh namespace per test module.

The broker listens on 127.0.0.1:19092 (MATCHMAKER_TEST_KAFKA_PORT to change) so a developer's own
broker on 9092 is left alone. With KAFKA_BOOTSTRAP_SERVERS set, the tests use that cluster instead.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from services.cli.demo import start_worker, stop_process
from services.kafka.local import LocalBroker
from services.ops.progress import wait_until_drained
from services.settings import Settings
from services.kafka.topics import ensure_topics
from services.model_env import use_offline_models

use_offline_models()  # the test session is a process entry point: set before any model library is imported

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def broker_settings() -> Settings:
    settings = Settings(kafka_port=int(os.environ.get("MATCHMAKER_TEST_KAFKA_PORT", "19092")))
    broker = LocalBroker(settings)
    was_running = broker.status().running
    broker.up()
    yield settings
    if not was_running:
        broker.down()


def make_namespace(base: Settings, **overrides: object) -> Settings:
    """Settings whose topics and consumer group belong to one test only."""
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
    ensure_topics(settings)
    return settings


class WorkerProcess:
    """A real `matchmaker worker` process with the given settings."""

    def __init__(self, settings: Settings, name: str = "worker") -> None:
        self.settings = settings
        self.log = ARTIFACTS / "logs" / f"{settings.app_id}-{name}.log"
        self.process = start_worker(settings, self.log)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the worker's /readyz says it holds partitions and has recovered its tables."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.settings.worker_web_port}/readyz"
        while time.monotonic() < deadline:
            assert self.alive, f"worker exited; see {self.log}"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"worker not ready after {timeout}s; see {self.log}")

    def drain(self, timeout: float = 180.0) -> None:
        wait_until_drained(self.settings, timeout=timeout, alive=lambda: self.alive)

    def stop(self) -> None:
        stop_process(self.process)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def namespace(broker_settings: Settings) -> Settings:
    return make_namespace(broker_settings)


@pytest.fixture(scope="module")
def worker(namespace: Settings):
    process = WorkerProcess(namespace)
    yield process
    process.stop()
