"""The soak's verdicts: what counts as lost, duplicated, stale, unanswered, and as a memory leak."""

from __future__ import annotations

from bench.soak_check import (
    Emitted,
    duplicated,
    leak,
    lost,
    rss_slope,
    settled_versions,
    stale,
    steps,
    unanswered,
    unexpected,
)
from schemas import match_id_for


def result(challenge: str, cv: int, company: str, kv: int, at: float, trigger: str = "challenge") -> Emitted:
    return Emitted(match_id_for(challenge, cv, company, kv), trigger, challenge, cv, company, kv, at)


def test_an_expected_match_never_emitted_is_lost_and_an_extra_one_is_not():
    emitted = [result("ch", 2, "co-a", 1, 10.0), result("ch", 2, "co-x", 1, 10.0)]
    expected = {match_id_for("ch", 2, "co-a", 1), match_id_for("ch", 2, "co-b", 3)}
    assert lost(expected, emitted) == {match_id_for("ch", 2, "co-b", 3)}


def test_a_result_of_a_probed_version_outside_the_offline_ranking_is_unexpected():
    expected = {match_id_for("ch", 2, "co-a", 1)}
    emitted = [
        result("ch", 2, "co-a", 1, 10.0),
        result("ch", 2, "co-gone", 4, 10.0),  # a company the worker should have erased
        result("ch", 1, "co-old", 1, 5.0),  # an earlier ranking: not probed
    ]
    assert unexpected(expected, {("challenge", "ch", 2)}, emitted) == {match_id_for("ch", 2, "co-gone", 4)}


def test_duplicates_count_every_result_beyond_the_first_of_a_match_id():
    same = result("ch", 1, "co-a", 1, 10.0)
    assert duplicated([same, same, same, result("ch", 1, "co-b", 1, 10.0)]) == 2
    assert duplicated([]) == 0


def test_an_older_version_produced_after_a_newer_one_is_stale():
    emitted = [
        result("ch", 2, "co-a", 1, 10.0),
        result("ch", 1, "co-a", 1, 11.0),  # the challenge's first version, ranked after its second
        result("ch", 2, "co-a", 3, 12.0, trigger="company"),
        result("ch", 2, "co-a", 2, 13.0, trigger="company"),  # the company's version 2 after its version 3
    ]
    verdict = stale(emitted)
    assert (verdict.first, verdict.resent) == (2, 0)
    assert len(verdict.examples) == 2


def test_newer_versions_in_order_and_other_triggers_are_not_stale():
    emitted = [
        result("ch", 1, "co-a", 1, 10.0),
        result("ch", 2, "co-a", 1, 11.0),
        result("ch", 2, "co-a", 2, 12.0),
        result("ch", 3, "co-a", 1, 13.0),  # a newer challenge, ranked while the shard held company v1: fine
        # the merge stage emits a ranking that waited for a slow shard after the company side moved on
        result("ch", 4, "co-a", 5, 20.0, trigger="company"),
        result("ch", 4, "co-a", 4, 21.0),
        result("ch", 4, "co-b", 1, 5.0),
    ]
    assert stale(emitted).total == 0


def test_a_redelivered_older_result_is_counted_apart_from_a_new_regression():
    old, new = result("ch", 1, "co-a", 1, 10.0), result("ch", 2, "co-a", 1, 11.0)
    again = result("ch", 1, "co-a", 1, 12.0)  # the same match_id again, after a crash
    verdict = stale([old, new, again])
    assert (verdict.first, verdict.resent) == (0, 1)


def test_a_version_that_stood_long_enough_must_have_a_ranking():
    history = [
        ("ch-1", 1, 0.0, True),
        ("ch-2", 1, 1.0, True),
        ("ch-1", 2, 5.0, True),  # replaced 5 s after ch-1 v1: may be dropped by the merge stage
        ("ch-2", 2, 500.0, False),  # closed long after v1
        ("ch-3", 1, 600.0, True),
    ]
    settled = settled_versions(history, grace=120.0)
    assert settled == [("ch-2", 1), ("ch-1", 2), ("ch-3", 1)]
    emitted = [result("ch-2", 1, "co-a", 1, 3.0), result("ch-3", 1, "co-a", 1, 601.0)]
    assert unanswered(settled, emitted) == [("ch-1", 2)]
    company_side = [result("ch-1", 2, "co-a", 1, 9.0, trigger="company")]
    assert unanswered([("ch-1", 2)], company_side) == [("ch-1", 2)], "only a challenge's own ranking answers it"


def test_the_rss_slope_is_least_squares_in_megabytes_per_hour():
    samples = [(t, 1_000e6 + t / 3600 * 30e6) for t in range(0, 3600, 10)]  # +30 MB per hour
    slope = rss_slope(samples)
    assert abs(slope.mb_per_hour - 30.0) < 1e-6
    assert slope.stderr < 1e-6
    assert slope.samples == 360


def test_a_leak_is_a_slope_above_the_threshold_in_the_second_half_only():
    loading = [(t, 500e6 + t * 1e6) for t in range(0, 600, 5)]  # state loads: +1 MB/s for 10 minutes
    flat = [(t, 1_100e6 + (t % 20) * 1e5) for t in range(600, 1800, 5)]  # then flat, with a little noise
    verdict = leak(loading + flat, threshold_mb_per_hour=50.0)
    assert not verdict.leaking
    assert abs(verdict.slope.mb_per_hour) < 5.0
    growing = [(t, 1_100e6 + t * 100e6 / 3600) for t in range(0, 1800, 5)]  # 100 MB/h all along
    assert leak(growing, threshold_mb_per_hour=50.0).leaking


def test_a_few_noisy_samples_are_no_evidence_of_a_leak():
    wobble = [1_000e6, 1_050e6, 990e6, 1_060e6]  # allocator noise over a few minutes
    noisy = [(60.0 * i, wobble[i % 4]) for i in range(8)]
    verdict = leak(noisy, threshold_mb_per_hour=50.0)
    assert verdict.slope.mb_per_hour > 50.0
    assert not verdict.leaking, "within two standard errors of the threshold"
    assert not leak([(0.0, 1e9)], 50.0).leaking


def test_a_step_at_a_worker_takeover_is_reported_apart_from_growth_over_time():
    def rss(t: float) -> float:  # flat, but a step each time the worker took over every shard
        return 1_200e6 + (200e6 if t >= 660 else 0) + (70e6 if t >= 1260 else 0) + (t % 15) * 1e5

    samples = [(float(t), rss(t)) for t in range(0, 1800, 5)]
    faults = [600.0, 1200.0]  # the takeover completes within the settle time after each fault
    assert leak(samples, 50.0).leaking, "one straight line through the steps looks like a leak"
    verdict = leak(samples, 50.0, breaks=faults, settle=90.0)
    assert not verdict.leaking
    assert abs(verdict.slope.mb_per_hour) < 5.0
    assert steps(samples, faults, settle=90.0, window=120.0) == [200.0, 70.0]


def test_growth_within_the_segments_between_faults_is_still_a_leak():
    samples = [(float(t), 1_200e6 + t * 100e6 / 3600 + (50e6 if t >= 900 else 0)) for t in range(0, 1800, 5)]
    verdict = leak(samples, 50.0, breaks=[900.0], settle=90.0)
    assert verdict.leaking
    assert abs(verdict.slope.mb_per_hour - 100.0) < 1.0
