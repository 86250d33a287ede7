"""The ingest API's routes end to end in-process: a real app and service, a fake Kafka producer (no broker)."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import httpx
import pytest

from services.ingest.app import create_app
from services.ingest.service import Ingest
from services.settings import Settings

CHALLENGE = {"city": "Espoo", "title": "Quieter school yards", "description": "Reduce traffic noise in school yards."}


class FakeProducer:
    """Acknowledges every send at the next offset of partition 0, as acks=all would."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None]] = []

    def send(self, topic: str, key: bytes, value: bytes | None):
        self.sent.append((topic, key, value))
        metadata = SimpleNamespace(topic=topic, partition=0, offset=len(self.sent) - 1)
        return SimpleNamespace(get=lambda timeout: metadata)


@pytest.fixture
def api(monkeypatch, tmp_path):
    """An app whose service is ready (its version view caught up) and publishes to a FakeProducer."""
    monkeypatch.setenv("MATCHMAKER_HOME", str(tmp_path))
    settings = Settings()
    ingest = Ingest(settings)
    ingest.producer = FakeProducer()
    ready = threading.Event()
    ready.set()
    ingest.follower = SimpleNamespace(ready=ready, failed=None)
    app = create_app(settings)
    app.state.ingest = ingest  # what the lifespan would do, without a broker
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    espoo, _ = ingest.tokens.issue(city="Espoo", company_id=None, label="")
    company, _ = ingest.tokens.issue(city=None, company_id="co-1", label="")
    return SimpleNamespace(ingest=ingest, client=client, espoo=espoo, company=company)


def call(api, method: str, path: str, token: str | None = None, **kwargs) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return asyncio.run(api.client.request(method, path, headers=headers, **kwargs))


def test_writes_without_a_valid_token_get_401_with_a_bearer_challenge(api):
    for token in (None, "mmt_unknown"):
        response = call(api, "POST", "/v1/challenges", token, json=CHALLENGE)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert api.ingest.producer.sent == []


def test_put_publishes_answers_its_position_and_replays_a_repeated_idempotency_key(api):
    first = call(api, "PUT", "/v1/challenges/ch-1", api.espoo, json=CHALLENGE, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 202 and first.headers["idempotent-replayed"] == "false"
    assert first.json() == {
        "kind": "challenge",
        "key": "ch-1",
        "version": 1,
        "tombstone": False,
        "published": True,
        "topic": "challenges",
        "partition": 0,
        "offset": 0,
    }
    again = call(api, "PUT", "/v1/challenges/ch-1", api.espoo, json=CHALLENGE, headers={"Idempotency-Key": "k1"})
    assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (202, first.json(), "true")
    assert len(api.ingest.producer.sent) == 1
    plain = call(api, "PUT", "/v1/challenges/ch-1", api.espoo, json=CHALLENGE)
    assert plain.json()["version"] == 2 and "idempotent-replayed" not in plain.headers


def test_service_refusals_keep_their_statuses(api):
    assert call(api, "POST", "/v1/challenges", api.company, json=CHALLENGE).status_code == 403
    assert call(api, "PUT", "/v1/challenges/ch-1", api.espoo, json={**CHALLENGE, "version": 3}).status_code == 202
    assert call(api, "PUT", "/v1/challenges/ch-1", api.espoo, json={**CHALLENGE, "version": 3}).status_code == 409
    assert call(api, "POST", "/v1/challenges/ch-2/close", api.espoo).status_code == 404
    closed = call(api, "POST", "/v1/challenges/ch-1/close", api.espoo)
    assert closed.status_code == 202 and closed.json()["version"] == 4
    assert call(api, "POST", "/v1/challenges/ch-1/close", api.espoo).json()["published"] is False
    erased = call(api, "DELETE", "/v1/companies/co-1", api.company)
    assert erased.status_code == 202 and erased.json()["tombstone"] is True


def test_a_starting_service_answers_503_with_retry_after_and_healthz_says_starting(api):
    assert call(api, "GET", "/healthz").json() == {"status": "ok", "entities": 0}
    api.ingest.follower = SimpleNamespace(ready=threading.Event(), failed=None)
    response = call(
        api,
        "PUT",
        "/v1/companies/co-1",
        api.company,
        json={"name": "Example Oy", "business_id": "2617416-4", "description": "Sensors."},
    )
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    health = call(api, "GET", "/healthz")
    assert health.status_code == 503 and health.json()["status"] == "starting"


def test_a_company_sets_its_alert_threshold_and_keeps_its_webhook(api):
    from schemas import Subscription

    answer = call(api, "PUT", "/v1/companies/co-1/subscription", api.company, json={"min_score": 0.4})
    assert answer.status_code == 202 and answer.json()["kind"] == "subscription"
    topic, key, value = api.ingest.producer.sent[-1]
    inbox_only = Subscription.model_validate_json(value)
    assert (topic, key, inbox_only.min_score, inbox_only.url) == ("subscriptions", b"co-1", 0.4, None)
    hook = Subscription(company_id="co-1", url="https://example.fi/hook", sealed_secret="A" * 120, delivery="digest")
    api.ingest.subscriptions.apply("co-1", hook, 0, 1000)  # the operator's `matchmaker subscribe --url`, read back
    call(api, "PUT", "/v1/companies/co-1/subscription", api.company, json={"min_score": 0.6})
    kept = Subscription.model_validate_json(api.ingest.producer.sent[-1][2])
    assert (kept.min_score, kept.url, kept.sealed_secret, kept.delivery) == (
        0.6,
        hook.url,
        hook.sealed_secret,
        "digest",
    )
    gone = call(api, "DELETE", "/v1/companies/co-1/subscription", api.company)
    assert gone.status_code == 202 and gone.json()["tombstone"] and api.ingest.producer.sent[-1][2] is None


def test_only_the_company_itself_sets_its_threshold_and_within_zero_to_one(api):
    sent = len(api.ingest.producer.sent)
    assert call(api, "PUT", "/v1/companies/co-2/subscription", api.company, json={"min_score": 0.4}).status_code == 403
    assert call(api, "PUT", "/v1/companies/co-1/subscription", api.espoo, json={"min_score": 0.4}).status_code == 403
    assert call(api, "PUT", "/v1/companies/co-1/subscription", api.company, json={"min_score": 1.5}).status_code == 422
    assert call(api, "PUT", "/v1/companies/co-1/subscription", api.company, json={"url": "x"}).status_code == 422
    assert len(api.ingest.producer.sent) == sent
