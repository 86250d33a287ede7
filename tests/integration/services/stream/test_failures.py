"""Crashes and restarts on the real broker: a SIGKILLed worker and a restarted broker lose nothing."""

from __future__ import annotations

import threading
import time

import pytest

from matcher import load_embedder, rank_challenges_offline
from schemas import Challenge, CompanyProfile, match_id_for
from services.datasets import load_jsonl
from services.kafka.local import LocalBroker
from services.kafka.publisher import Publisher
from services.kafka.results import latest_rankings
from services.settings import Settings
from tests.support.broker import make_namespace
from tests.support.kafka import all_matches
from tests.support.processes import WorkerProcess

pytestmark = pytest.mark.integration

SAMPLE = Settings().sample_data_dir
CHALLENGES = load_jsonl(SAMPLE / "challenges.jsonl", Challenge)
COMPANIES = load_jsonl(SAMPLE / "companies.jsonl", CompanyProfile)


def expected_match_ids(settings: Settings) -> set[str]:
    """What an undisturbed run produces for trigger `challenge` (companies first, then challenges)."""
    offline = rank_challenges_offline(CHALLENGES, COMPANIES, load_embedder(settings.model), top_k=settings.top_k)
    return {
        match_id_for(m.challenge_id, m.challenge_version, m.company_id, m.company_version)
        for ranking in offline.values()
        for m in ranking
    }


def challenge_match_ids(settings: Settings) -> tuple[set[str], int]:
    results = [r for r in all_matches(settings) if r.trigger == "challenge"]
    return {r.match_id for r in results}, len(results)


def test_sigkill_of_a_worker_mid_stream_loses_nothing(broker_settings):
    settings = make_namespace(broker_settings)
    first = WorkerProcess(settings, name="a")
    second = WorkerProcess(settings.model_copy(update={"worker_web_port": settings.worker_web_port + 1}), name="b")
    third = None
    try:
        first.wait_ready()
        second.wait_ready()
        with Publisher.from_settings(settings) as publisher:
            for start in range(0, len(COMPANIES), 8):
                for company in COMPANIES[start : start + 8]:
                    publisher.publish_company(company)
                publisher.flush()
                time.sleep(0.3)
                if start == 16:
                    second.kill()  # SIGKILL: no goodbye to the group, nothing flushed
                    third = WorkerProcess(
                        settings.model_copy(update={"worker_web_port": settings.worker_web_port + 2}), name="c"
                    )
            first.drain(timeout=240)
            for i, challenge in enumerate(CHALLENGES):
                publisher.publish_challenge(challenge)
                publisher.flush()
                time.sleep(0.2)
                if i == 8:
                    third.kill()
        first.drain(timeout=240)
        got, count = challenge_match_ids(settings)
        assert got == expected_match_ids(settings)
        print(f"sigkill: {len(got)} distinct challenge matches, {count - len(got)} duplicates (same match_id)")
        assert first.alive
    finally:
        for process in (first, second, third):
            if process is not None:
                process.stop()


def test_broker_restart_during_a_stream_loses_nothing(broker_settings):
    settings = make_namespace(broker_settings)
    worker = WorkerProcess(settings)
    broker = LocalBroker(broker_settings)
    errors: list[BaseException] = []

    def stream_challenges(publisher) -> None:
        try:
            for challenge in CHALLENGES:
                publisher.publish_challenge(challenge)
                time.sleep(0.5)
            publisher.flush(timeout=120)
        except BaseException as error:  # reported by the test
            errors.append(error)

    try:
        worker.wait_ready()
        with Publisher.from_settings(settings) as publisher:
            for company in COMPANIES:
                publisher.publish_company(company)
            publisher.flush()
            worker.drain(timeout=240)
            producer = threading.Thread(target=stream_challenges, args=(publisher,))
            producer.start()
            time.sleep(2.0)
            assert broker.down(), "the broker was running"
            time.sleep(3.0)
            broker.up()
            producer.join(timeout=180)
            assert not producer.is_alive() and not errors, errors
        worker.drain(timeout=240)
        assert worker.alive, "the worker reconnected by itself"
        got, _ = challenge_match_ids(settings)
        assert got == expected_match_ids(settings)
        rankings = latest_rankings(iter(all_matches(settings)))
        assert {c.challenge_id for c in CHALLENGES if c.status == "open"} <= set(rankings)
    finally:
        worker.stop()
        broker.up()
