"""Alerts on the real broker: every subscribed company hears of a challenge that fits it, not only the top 10.

Fifteen closely related companies subscribe (inbox only) with a low threshold, then one challenge in
their field is published: ten are shortlisted (trigger challenge), the other five alerted (trigger
alert), each once. A subscriber whose threshold is above its score, one that excluded the challenge's
city, and every company for a closed challenge hear nothing; a replayed challenge alerts nobody again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from schemas import MatchResult
from services.delivery.subscriptions import inbox_subscription, publish_subscription
from services.kafka.publisher import Publisher
from services.settings import Settings
from tests.support.kafka import all_matches, challenge, company
from tests.support.notifier import make_notifier_namespace
from tests.support.processes import WorkerProcess

pytestmark = pytest.mark.integration

FIELD = "Sensors and analytics for indoor air quality in schools and day-care centres"
CLOSE = [f"air-{i:02d}" for i in range(15)]
LOW = 0.05


@pytest.fixture(scope="module")
def settings(broker_settings: Settings) -> Settings:
    return make_notifier_namespace(broker_settings)


@pytest.fixture(scope="module")
def worker(settings: Settings) -> Iterator[WorkerProcess]:
    process = WorkerProcess(settings, name="alerts")
    yield process
    process.stop()


def of(settings: Settings, challenge_id: str) -> list[MatchResult]:
    return [m for m in all_matches(settings) if m.challenge_id == challenge_id]


@pytest.fixture(scope="module")
def published(settings: Settings, worker: WorkerProcess) -> Settings:
    with Publisher.from_settings(settings) as publisher:
        for i, company_id in enumerate(CLOSE):
            publisher.publish_company(
                company(company_id, description=f"{FIELD}, team {i}: CO2 and particle sensors, ventilation advice.")
            )
        # as related, but it wants only Oulu's challenges
        publisher.publish_company(company("air-oulu", description=f"{FIELD}.", cities_of_interest=["Oulu"]))
        # less related, and it asked for near-perfect fits only
        publisher.publish_company(
            company("picky", description="Acoustic panels for open-plan offices.", tags=["acoustics"])
        )
    for company_id in [*CLOSE, "air-oulu"]:
        publish_subscription(settings, inbox_subscription(company_id, LOW))
    publish_subscription(settings, inbox_subscription("picky", 0.95))
    worker.drain()
    with Publisher.from_settings(settings) as publisher:
        publisher.publish_challenge(challenge("ch-air"))
    worker.drain()
    return settings


def test_every_subscribed_company_that_fits_gets_one_result_ten_shortlisted_five_alerted(published):
    results = of(published, "ch-air")
    by_trigger = Counter(m.trigger for m in results)
    assert by_trigger == {"challenge": 10, "alert": 5}, by_trigger
    assert sorted(m.company_id for m in results) == CLOSE  # each once: no shortlisted company is alerted too
    shortlist = [m for m in results if m.trigger == "challenge"]
    alerts = [m for m in results if m.trigger == "alert"]
    assert all(a.score >= LOW for a in alerts)
    assert max(a.score for a in alerts) <= min(s.score for s in shortlist)
    assert all(a.reasons and a.components and a.rank > 10 for a in alerts)


def test_below_its_threshold_or_outside_its_cities_a_company_hears_nothing(published):
    heard = {m.company_id for m in of(published, "ch-air")}
    assert "picky" not in heard and "air-oulu" not in heard


def test_a_replayed_challenge_alerts_nobody_twice(published, worker):
    before = Counter(m.match_id for m in all_matches(published))
    with Publisher.from_settings(published) as publisher:
        publisher.publish_challenge(challenge("ch-air"))  # the same version again
    worker.drain()
    assert Counter(m.match_id for m in all_matches(published)) == before


def test_a_closed_challenge_alerts_nobody(published, worker):
    with Publisher.from_settings(published) as publisher:
        publisher.publish_challenge(challenge("ch-air-closed", status="closed"))
    worker.drain()
    assert of(published, "ch-air-closed") == []


def test_a_new_version_alerts_again_and_a_late_subscriber_hears_of_what_is_open(published, worker):
    with Publisher.from_settings(published) as publisher:
        publisher.publish_challenge(challenge("ch-air", version=2, tags=["indoor air", "schools", "co2"]))
    worker.drain()
    second = [m for m in of(published, "ch-air") if m.challenge_version == 2]
    assert Counter(m.trigger for m in second) == {"challenge": 10, "alert": 5}
    with Publisher.from_settings(published) as publisher:
        publisher.publish_company(company("late", description=f"{FIELD}, since this year."))
    worker.drain()
    publish_subscription(published, inbox_subscription("late", LOW))
    worker.drain()
    late = [m for m in of(published, "ch-air") if m.company_id == "late"]
    # its own top list when it published (trigger company), then the alert when it subscribed: one pair,
    # one match_id, so the notifier and the inbox keep one
    assert sorted(m.trigger for m in late) == ["alert", "company"]
    assert {m.challenge_version for m in late} == {2} and len({m.match_id for m in late}) == 1
