"""The soak's event stream: versions only go up, the population stays bounded, the final state is consistent."""

from __future__ import annotations

from collections import Counter

from bench.soak import SoakSettings
from bench.soak_workload import WEIGHTS, Workload
from schemas import Challenge, CompanyProfile
from tests.support.kafka import challenge, company


def workload() -> Workload:
    companies = [company(f"co-{i:04d}", description=f"Company {i} builds sensors for schools.") for i in range(400)]
    challenges = [challenge(f"ch-{i:04d}") for i in range(200)]
    return Workload(companies, challenges, seed=3, companies=(20, 40), open_challenges=(4, 10))


def test_every_kind_of_event_occurs_and_versions_only_go_up():
    w = workload()
    events = w.initial(30, 6) + [w.next_event() for _ in range(800)]
    assert set(Counter(e.kind for e in events)) == set(WEIGHTS)
    last: dict[str, int] = {}
    for event in events:
        if event.entity is None:
            continue
        key = event.entity.key
        assert event.entity.version > last.get(key, 0), key
        last[key] = event.entity.version


def test_erased_withdrawn_and_closed_entities_are_never_sent_again():
    w = workload()
    events = w.initial(30, 6) + [w.next_event() for _ in range(800)]
    finished: set[str] = set()
    for event in events:
        key = event.company_id if event.entity is None else event.entity.key
        assert key not in finished, key
        if event.kind in ("company-tombstone", "company-withdrawal", "challenge-closure"):
            assert key is not None
            finished.add(key)


def test_the_population_stays_within_its_bounds():
    w = workload()
    w.initial(30, 6)
    for _ in range(800):
        w.next_event()
        assert 20 <= len(w.live_companies) <= 40
        assert 4 <= len(w.open_challenges) <= 10


def test_the_final_sweep_bumps_every_open_challenge_and_live_company_once():
    w = workload()
    w.initial(30, 6)
    for _ in range(300):
        w.next_event()
    before = {c.challenge_id: c.version for c in w.open_challenges}
    sweep = w.sweep("challenges")
    assert {e.entity.key: e.entity.version for e in sweep if isinstance(e.entity, Challenge)} == {
        k: v + 1 for k, v in before.items()
    }
    live = {c.company_id for c in w.live_companies}
    swept = {e.entity.key for e in w.sweep("companies") if isinstance(e.entity, CompanyProfile)}
    assert swept == live and not swept & w.erased


def test_settings_come_from_matchmaker_soak_variables():
    conf = SoakSettings.from_env({"MATCHMAKER_SOAK_MINUTES": "4", "MATCHMAKER_SOAK_KAFKA_PORT": "19800"})
    assert (conf.minutes, conf.kafka_port, conf.fault_every) == (4.0, 19800, 300.0)
