"""The worker's version and merge decisions: which events a shard applies, when a ranking is complete."""

from __future__ import annotations

from datetime import date
from itertools import permutations

from matcher import Match, Ranker, challenge_text, company_text
from services.stream.decisions import alert_change, merge_alerts, merge_step, skip_reason, split_alerts
from services.stream.messages import AlertRecord, EntityRecord, MergeState, Partial
from services.stream.routing import shard_of, shards_for
from tests.support.factories import HashEmbedder, make_challenge, make_company

TODAY = date(2027, 1, 1)


def _record(version: int, sent: bool = True, erased=None) -> EntityRecord:
    if erased:
        return EntityRecord(0, version, sent=True, erased=erased)
    return EntityRecord(0, version, {"id": "x"}, "vec", "model", sent=sent)


# -- versions ----------------------------------------------------------------------------------
def test_a_new_entity_is_applied():
    assert skip_reason(None, 1) is None


def test_a_newer_version_is_applied():
    assert skip_reason(_record(3), 4) is None
    assert skip_reason(_record(3, sent=False), 9) is None


def test_an_older_version_is_stale():
    assert skip_reason(_record(3), 2) == "stale"
    assert skip_reason(_record(3, sent=False), 2) == "stale"


def test_a_duplicate_whose_outputs_were_confirmed_is_skipped():
    assert skip_reason(_record(3, sent=True), 3) == "duplicate"


def test_a_duplicate_whose_outputs_were_not_confirmed_is_applied_again():
    assert skip_reason(_record(3, sent=False), 3) is None


def test_an_erased_record_keeps_replays_ignored_but_takes_a_newer_version():
    for why in ("deleted", "withdrawn", "closed"):
        erased = _record(5, erased=why)
        assert skip_reason(erased, 4) == "stale"
        assert skip_reason(erased, 5) == "duplicate"
        assert skip_reason(erased, 6) is None


# -- merge -------------------------------------------------------------------------------------
def _match(company_id: str, score: float, version: int = 1) -> Match:
    return Match("ch-1", company_id, version, 1, score, {"dense": score}, ())


def _partial(shard: int, matches, version: int = 1, shards: int = 3) -> Partial:
    return Partial("ch-1", version, shard, shards, 1.0, tuple(matches))


PARTS = {0: [_match("a", 0.9), _match("d", 0.4)], 1: [_match("b", 0.8)], 2: [_match("c", 0.7), _match("e", 0.1)]}


def _feed(partials, state=None, top_k=10):
    """Apply partials in order as the merge stage does; returns the final state and every ranking sent."""
    sent = []
    for partial in partials:
        step = merge_step(state, partial, top_k)
        if step is None:
            continue
        state, ranked = step
        if ranked is not None:
            sent.append([(m.rank, m.company_id) for m in ranked])
    return state, sent


def test_partials_in_any_order_give_one_ranking_once_all_shards_reported():
    expected = [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")]
    for order in permutations(range(3)):
        state, sent = _feed([_partial(s, PARTS[s]) for s in order])
        assert sent == [expected]
        assert state == MergeState(1, done=True)


def test_completion_comes_exactly_with_the_last_shard():
    state = None
    for shard in (2, 0):
        state, ranked = merge_step(state, _partial(shard, PARTS[shard]), 10)
        assert ranked is None and not state.done
    assert set(state.parts) == {"2", "0"}
    state, ranked = merge_step(state, _partial(1, PARTS[1]), 10)
    assert state.done and [m.company_id for m in ranked] == ["a", "b", "c", "d", "e"]


def test_a_duplicate_partial_does_not_complete_the_ranking():
    state, sent = _feed([_partial(0, PARTS[0]), _partial(0, PARTS[0]), _partial(1, PARTS[1])])
    assert sent == [] and set(state.parts) == {"0", "1"}
    state, sent = _feed([_partial(2, PARTS[2])], state)
    assert len(sent) == 1


def test_a_redelivered_partial_after_completion_is_ignored():
    done, _ = _feed([_partial(s, PARTS[s]) for s in range(3)])
    assert merge_step(done, _partial(1, PARTS[1]), 10) is None


def test_an_older_version_is_ignored_once_a_newer_one_started():
    state, _ = _feed([_partial(0, PARTS[0], version=2)])
    assert merge_step(state, _partial(1, PARTS[1], version=1), 10) is None
    done, _ = _feed([_partial(s, PARTS[s], version=2) for s in (1, 2)], state)
    assert done == MergeState(2, done=True)
    assert merge_step(done, _partial(2, PARTS[2], version=1), 10) is None


def test_a_newer_version_starts_over_and_drops_the_older_partials():
    state, _ = _feed([_partial(0, PARTS[0], version=1), _partial(1, PARTS[1], version=1)])
    state, sent = _feed([_partial(2, PARTS[2], version=2)], state)
    assert sent == [] and state == MergeState(2, {"2": tuple(PARTS[2])})


def test_the_merged_list_keeps_top_k():
    _, sent = _feed([_partial(s, PARTS[s]) for s in range(3)], top_k=2)
    assert sent == [[(1, "a"), (2, "b")]]


def test_a_sharded_ranking_equals_a_single_process_ranking_ties_included():
    embedder, shards, top_k = HashEmbedder(), 3, 5
    challenge = make_challenge(title="Electric bus charging", description="Charging depots for electric buses.")
    # equal descriptions score equal: ties are ordered by company id, whichever shard holds them
    companies = [
        make_company(f"co-{i:02d}", description="We build charging depots for electric buses.") for i in range(8)
    ]
    companies += [make_company(f"co-x{i}", description=f"Electric buses and charging, team {i}.") for i in range(8)]
    vectors = dict(
        zip([c.company_id for c in companies], embedder.encode([company_text(c) for c in companies]), strict=True)
    )
    query = embedder.encode([challenge_text(challenge)])[0]

    single = Ranker(embedder.dimension, top_k=top_k)
    sharded = [Ranker(embedder.dimension, top_k=top_k) for _ in range(shards)]
    for company in companies:
        single.upsert_company(company, vectors[company.company_id])
        (shard,) = shards_for("company", company.company_id, shards)
        sharded[shard].upsert_company(company, vectors[company.company_id])
    assert len({shard_of(c.company_id, shards) for c in companies}) == shards

    expected = single.rank_companies(challenge, query, today=TODAY)
    partials = [
        _partial(s, sharded[s].rank_companies(challenge, query, today=TODAY), shards=shards) for s in range(shards)
    ]
    assert len({m.score for m in expected}) < len(expected)  # the top list has ties
    for order in permutations(partials):
        state, ranked = None, None
        for partial in order:
            state, ranked = merge_step(state, partial, top_k)
        assert ranked == expected


def test_challenges_go_to_every_shard_and_companies_to_one():
    assert list(shards_for("challenge", "ch-1", 4)) == [0, 1, 2, 3]
    assert shards_for("company", "co-1", 4) == [shard_of("co-1", 4)]


def test_the_decisions_need_no_stream_framework():
    import subprocess
    import sys

    code = "import sys, services.stream.decisions, services.stream.routing; print(sorted({'faust', 'aiokafka'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- tenants -------------------------------------------------------------------------------------


def test_a_city_cannot_take_over_another_citys_challenge_id():
    from services.stream.decisions import foreign_city

    espoo = EntityRecord(0, 3, {"challenge_id": "ch-1", "city": "Espoo"}, "vec", "model", sent=True)
    assert foreign_city(espoo, "Helsinki")
    assert not foreign_city(espoo, "Espoo")
    assert not foreign_city(espoo, None)  # the trusted topic (API, operator)
    assert not foreign_city(None, "Helsinki")  # a new id is anyone's
    closed = EntityRecord.from_dict(EntityRecord(0, 4, sent=True, erased="closed", owner="Espoo").to_dict())
    assert foreign_city(closed, "Helsinki")  # a closed challenge keeps its owner: no re-opening by another city


# -- alerts ------------------------------------------------------------------------------------
def test_a_shard_alerts_companies_outside_its_top_list_at_once_and_hands_the_others_to_the_merge():
    top = [_match("a", 0.9), _match("b", 0.8)]
    alerts = [_match("a", 0.9), _match("c", 0.5), _match("d", 0.4)]
    now, held = split_alerts(top, alerts, 2)
    assert [(m.company_id, m.rank) for m in now] == [("c", 3), ("d", 4)] and [m.company_id for m in held] == ["a"]


def _alerting(shard: int, matches, alerts, version: int = 1) -> Partial:
    return Partial("ch-1", version, shard, 2, 1.0, tuple(matches), tuple(alerts))


def test_the_merge_alerts_held_back_companies_that_missed_the_global_shortlist_only():
    # top 2: a (shard 0) and b (shard 1); c was in shard 1's top list but not in the global one
    first = _alerting(0, [_match("a", 0.9), _match("d", 0.3)], [_match("a", 0.9)])
    last = _alerting(1, [_match("b", 0.8), _match("c", 0.7)], [_match("c", 0.7)])
    for order in ((first, last), (last, first)):
        state, _ = merge_step(None, order[0], 2)
        assert MergeState.from_dict(state.to_dict()) == state  # what the merges table stores, alerts included
        done, ranked = merge_step(state, order[1], 2)
        assert [m.company_id for m in ranked] == ["a", "b"]
        alerts = merge_alerts(state, order[1], ranked, 2)
        assert [(m.company_id, m.rank) for m in alerts] == [("c", 3)]


def test_held_back_alerts_of_an_older_version_are_dropped():
    old = _alerting(0, [_match("x", 0.9)], [_match("x", 0.9)], version=1)
    state, _ = merge_step(None, old, 1)
    newer = [_alerting(s, [_match(f"n{s}", 0.5, 2)], [], version=2) for s in (0, 1)]
    state, _ = merge_step(state, newer[0], 1)
    assert state.alerts == {}
    done, ranked = merge_step(state, newer[1], 1)
    assert merge_alerts(state, newer[1], ranked, 1) == []


def test_a_subscription_replay_changes_nothing():
    assert alert_change(None, 0.3)
    assert not alert_change(AlertRecord(0, 0.3), 0.3)
    assert alert_change(AlertRecord(0, 0.3), 0.2)
    assert alert_change(AlertRecord(0, 0.3), None)
    assert not alert_change(None, None)
