"""Alerts end to end: worker → matches → notifier → webhooks, instant and digest, signed like every match.

Sixteen closely related companies subscribe with webhooks (even ones instant, odd ones digest) and a low
threshold; one challenge in their field shortlists ten and alerts the other six. Every alert reaches its
company's webhook once, in the company's mode, with a valid signature; the inbox answers the challenge
for every one of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest

from schemas import MatchResult, Notification
from services.delivery.inbox import InboxView
from services.delivery.webhooks import verify_signature
from services.kafka.publisher import Publisher
from tests.support.kafka import all_matches, challenge, company
from tests.support.notifier import NotifierProcess, publish_sealed, wait_notifier_drained
from tests.support.processes import WorkerProcess
from tests.support.waiting import wait_until
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.integration

SECRET = "alert-secret-for-tests-0123456789"
FIELD = "Sensors and analytics for indoor air quality in schools and day-care centres"
COMPANIES = [f"hook-{i:02d}" for i in range(16)]


@pytest.fixture(scope="module")
def hooks() -> Iterator[dict[str, Receiver]]:
    receivers = {"instant": Receiver(), "digest": Receiver()}
    yield receivers
    for receiver in receivers.values():
        receiver.close()


@pytest.fixture(scope="module")
def delivered(settings, hooks) -> Iterator[list[MatchResult]]:
    """The worker and a notifier on one namespace; the companies, their webhooks, then the challenge."""
    worker = WorkerProcess(settings, name="alert-worker")
    notifier = NotifierProcess(settings, "alert-notifier")
    try:
        with Publisher.from_settings(settings) as publisher:
            for i, company_id in enumerate(COMPANIES):
                publisher.publish_company(company(company_id, description=f"{FIELD}, team {i}: CO2 and particles."))
        for i, company_id in enumerate(COMPANIES):
            mode: Literal["instant", "digest"] = "instant" if i % 2 == 0 else "digest"
            publish_sealed(settings, company_id, hooks[mode].url, SECRET, min_score=0.05, delivery=mode)
        worker.drain()
        with Publisher.from_settings(settings) as publisher:
            publisher.publish_challenge(challenge("ch-hook"))
        worker.drain()
        wait_notifier_drained(settings, alive=lambda: notifier.alive)
        yield [m for m in all_matches(settings) if m.challenge_id == "ch-hook"]
    finally:
        notifier.stop()
        worker.stop()


def _notifications(receiver: Receiver) -> list[Notification]:
    for request in receiver.requests:
        headers = request.headers
        assert verify_signature(
            SECRET, request.body, headers["x-matchmaker-timestamp"], headers["x-matchmaker-signature"]
        )
    return [Notification.model_validate_json(r.body) for r in receiver.delivered]


def test_every_alert_reaches_its_webhook_once_signed_instant_or_in_the_digest(settings, hooks, delivered):
    alerts = {m.match_id: m for m in delivered if m.trigger == "alert"}
    assert len(alerts) == 6 and len([m for m in delivered if m.trigger == "challenge"]) == 10
    modes = {company_id: "instant" if i % 2 == 0 else "digest" for i, company_id in enumerate(COMPANIES)}
    assert {modes[m.company_id] for m in alerts.values()} == {"instant", "digest"}, "both modes carry alerts"

    def received() -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for mode, receiver in hooks.items():
            for notification in _notifications(receiver):
                for match in notification.matches:
                    found.setdefault(match.match_id, []).append((mode, notification.type))
        return found

    everything = {m.match_id for m in delivered}
    assert wait_until(lambda: everything <= set(received()), 30 + 2 * settings.delivery.digest_period)
    got = received()
    for match_id, alert in alerts.items():
        mode = modes[alert.company_id]
        assert got[match_id] == [(mode, "match" if mode == "instant" else "digest")], (alert.company_id, got[match_id])
    for notification in _notifications(hooks["instant"]):
        (match,) = notification.matches
        assert match.trigger in ("challenge", "alert")


def test_the_inbox_answers_the_challenge_for_every_company_that_fits(settings, delivered):
    """(The HTTP route over this view: tests/unit/services/delivery/test_inbox_fitting.py.)"""
    view = InboxView(settings).start()
    try:
        assert view.wait_ready(60)
        for company_id in COMPANIES:
            fits = view.fitting(company_id, 0.05)
            assert [m["challenge_id"] for m in fits] == ["ch-hook"], company_id
    finally:
        view.stop()
