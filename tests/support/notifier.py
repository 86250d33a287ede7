"""Shared helpers of the notifier and inbox integration tests: settings, processes, producing events."""

from __future__ import annotations

import json
from typing import Literal

from schemas import Challenge, MatchResult
from services.cli.processes import settings_env, start_command, stop_process
from services.delivery.keyfile import create_key_file, key_path, load_sealer
from services.delivery.subscriptions import publish_subscription, sealed_subscription
from services.kafka import access, clients, reader
from services.ops.progress import wait_until_drained
from services.settings import Settings
from tests.support import ARTIFACTS
from tests.support.broker import free_port, make_namespace


def make_notifier_namespace(base: Settings, **overrides: object) -> Settings:
    """A namespace whose delivery section has its own topics, its own subscriptions key (created here, as
    `matchmaker subscribe` would) and quick retries, digests and sweeps, and delivers to loopback over plain
    http (the development setting): the receivers run on 127.0.0.1."""
    namespace = make_namespace(base)
    prefix = namespace.app_id
    fields = {
        "subscription_key_file": namespace.home / "security" / f"{prefix}-subscriptions.key",
        "topic_subscriptions": f"{prefix}-subscriptions",
        "topic_inbox_tokens": f"{prefix}-inbox-tokens",
        "topic_notification_dead_letters": f"{prefix}-notification-dead-letters",
        "notify_attempts": 3,
        "notify_base_delay": 0.3,
        "notify_timeout": 1.0,
        "digest_period": 4.0,
        "notifier_sweep_interval": 0.5,
        "notifier_web_port": free_port(),
        "inbox_port": free_port(),
        "notify_allow_loopback_http": True,
        **overrides,
    }
    settings = namespace.model_copy(update={"delivery": namespace.delivery.model_copy(update=fields)})
    access.sync(settings)  # the delivery topics of this namespace, and the services' ACLs on them
    create_key_file(key_path(settings))
    return settings


def publish_sealed(
    settings: Settings,
    company_id: str,
    url: str,
    secret: str,
    min_score: float = 0.0,
    delivery: Literal["instant", "digest"] = "instant",
) -> None:
    """Subscribe as `matchmaker subscribe` does: the secret sealed with the namespace's key."""
    sealer = load_sealer(key_path(settings))
    publish_subscription(settings, sealed_subscription(sealer, company_id, url, secret, min_score, delivery))


class NotifierProcess:
    """A real `matchmaker notifier` process."""

    def __init__(self, settings: Settings, name: str = "notifier") -> None:
        delivery = settings.delivery.model_copy(update={"notifier_web_port": free_port()})
        self.settings = settings.model_copy(update={"delivery": delivery})
        self.log = ARTIFACTS / "logs" / f"{settings.app_id}-{name}.log"
        env = settings_env(self.settings, MATCHMAKER_LOG_LEVEL="INFO")
        self.process = start_command(["notifier"], self.log, env)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def metrics(self) -> str:
        import httpx

        return httpx.get(f"http://127.0.0.1:{self.settings.delivery.notifier_web_port}/metrics", timeout=5).text

    def stop(self) -> None:
        stop_process(self.process)


def wait_notifier_drained(settings: Settings, timeout: float = 90.0, alive=lambda: True) -> None:
    """Until the notifier group has committed everything on its source topics (twice, 1.5 s apart)."""
    topics = [
        settings.topic_matches,
        settings.delivery.topic_subscriptions,
        settings.topic_companies,
        settings.topic_challenges,
        settings.notifier_control_topic,
    ]
    wait_until_drained(settings, timeout=timeout, alive=alive, group=settings.notifier_app_id, topics=topics)


class Events:
    """kafka-python producer for MatchResults, challenges and companies (acks=all, each send awaited)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = clients.producer(settings, client_id="matchmaker-test")

    def match(
        self,
        company_id: str,
        challenge_id: str,
        score: float,
        challenge_version: int = 1,
        company_version: int = 1,
        rank: int = 1,
        **extra: object,
    ) -> MatchResult:
        result = MatchResult.create(
            challenge_id=challenge_id,
            company_id=company_id,
            challenge_version=challenge_version,
            company_version=company_version,
            rank=rank,
            score=score,
            components={"dense": score},
            reasons=["test"],
            trigger="challenge",
            model="test-model",
            **extra,
        )
        self.send_match(result)
        return result

    def send_match(self, result: MatchResult) -> None:
        self.producer.send(
            self.settings.topic_matches, key=result.company_id.encode(), value=result.model_dump_json().encode()
        ).get(timeout=30)

    def challenge(self, challenge_id: str, version: int = 1, status: str = "open") -> None:
        challenge = Challenge.model_validate(
            {
                "challenge_id": challenge_id,
                "version": version,
                "city": "Espoo",
                "title": f"Challenge {challenge_id}",
                "description": "A test challenge.",
                "status": status,
            }
        )
        self.producer.send(
            self.settings.topic_challenges, key=challenge_id.encode(), value=challenge.model_dump_json().encode()
        ).get(timeout=30)

    def company_status(self, company_id: str, version: int, status: str) -> None:
        value = {
            "company_id": company_id,
            "version": version,
            "name": f"Company {company_id}",
            "business_id": "2617416-4",
            "description": "A test company.",
            "status": status,
        }
        self.producer.send(
            self.settings.topic_companies, key=company_id.encode(), value=json.dumps(value).encode()
        ).get(timeout=30)

    def close(self) -> None:
        self.producer.close()


def read_topic(settings: Settings, topic: str) -> list[dict]:
    """The JSON values of a topic, from the beginning to its end offsets at the time of the call."""
    records = reader.read_topic(settings, topic, client_id="matchmaker-test")
    return [json.loads(r.value) for r in records if r.value is not None]
