"""Small helpers shared by integration tests: reading topics, scraping worker metrics."""

from __future__ import annotations

import json
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from schemas import Challenge, CompanyProfile, MatchResult
from services.kafka import reader
from services.kafka.results import read_matches
from services.settings import Settings


def all_matches(settings: Settings) -> list[MatchResult]:
    return list(read_matches(settings))


def read_topic(settings: Settings, topic: str) -> list:
    """Every record of a topic, from the beginning to its end offsets at the time of the call."""
    return reader.read_topic(settings, topic, client_id="matchmaker-test")


def dead_letters(settings: Settings) -> list[dict]:
    return [json.loads(r.value) for r in read_topic(settings, settings.topic_dead_letters)]


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """A worker's Prometheus metrics as {(sample name, sorted labels): value}."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def metric(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def company(company_id: str, version: int = 1, **fields) -> CompanyProfile:
    base = dict(
        company_id=company_id,
        version=version,
        name=f"Company {company_id}",
        business_id="2617416-4",
        description="Sensors and analytics for indoor air quality in schools and day-care centres.",
        offerings=["indoor air sensors"],
        tags=["indoor air", "schools"],
    )
    return CompanyProfile(**{**base, **fields})


def challenge(challenge_id: str, version: int = 1, **fields) -> Challenge:
    base = dict(
        challenge_id=challenge_id,
        version=version,
        city="Espoo",
        title="Continuous indoor air monitoring in classrooms",
        description="Espoo wants to pilot sensors that follow indoor air quality in schools and warn early.",
        language="en",
        tags=["indoor air", "schools"],
    )
    return Challenge(**{**base, **fields})
