"""The notifier's delivery decisions (services/delivery/ledger.py), without broker, clock or HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from schemas import MatchResult, Subscription
from services.delivery import ledger
from services.delivery.ledger import DigestSchedule, RetryPolicy, Send
from services.delivery.messages import (
    BELOW,
    DEAD,
    DELIVERED,
    INBOX_ONLY,
    PENDING,
    PERMANENT,
    REFUSED,
    RETRYABLE,
    STALE,
    UNSUBSCRIBED,
    DeliveryEntry,
    Outcome,
)
from services.delivery.sealing import Sealer, generate_key
from services.versioning import Closure

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)
SECRET = "0123456789abcdef-secret"
SEALER = Sealer([generate_key()])
POLICY = RetryPolicy(attempts=3, base_delay=1.0, max_delay=300.0)
OK = Outcome(DELIVERED)
HTTP_500 = Outcome(RETRYABLE, "HTTP 500")


def subscription(
    company_id: str = "co-1", delivery: Literal["instant", "digest"] = "instant", min_score: float = 0.0
) -> Subscription:
    return Subscription(
        company_id=company_id,
        url=f"http://hooks.example/{company_id}",
        sealed_secret=SEALER.seal(company_id, f"http://hooks.example/{company_id}", SECRET),
        min_score=min_score,
        delivery=delivery,
    )


def match(company_id: str = "co-1", challenge_id: str = "ch-1", score: float = 0.8, version: int = 1) -> MatchResult:
    return MatchResult.create(
        challenge_id=challenge_id,
        company_id=company_id,
        challenge_version=version,
        company_version=1,
        rank=1,
        score=score,
        components={"dense": score},
        reasons=["test"],
        trigger="challenge",
        model="test-model",
    )


class Ledger:
    """The notifier's tables as plain dicts, changed only with what the ledger returns."""

    def __init__(self, *subscriptions: Subscription) -> None:
        self.entries: dict[str, DeliveryEntry] = {}
        self.subscriptions = {s.company_id: s for s in subscriptions}
        self.stale: dict[str, Closure] = {}

    def see(self, result: MatchResult, partition: int = 0, now: datetime = NOW) -> ledger.MatchDecision:
        decision = ledger.on_match(
            result,
            partition,
            result.match_id in self.entries,
            self.subscriptions.get(result.company_id),
            self.stale.get,
            now,
        )
        if decision.entry is not None:
            self.entries[result.match_id] = decision.entry
        return decision

    def status(self, key: str, version: int | None, closed: bool) -> bool:
        change = ledger.on_status(self.stale.get(key), version, closed)
        if change.closure is not None:
            self.stale[key] = change.closure
        return change.closed

    def close_challenge(self, challenge_id: str, version: int | None, partition: int = 0) -> ledger.Updates:
        if not self.status(ledger.challenge_key(partition, challenge_id), version, closed=True):
            return {}
        updates = ledger.close_challenge(self.entries, challenge_id, partition, NOW)
        self.entries.update(updates)
        return updates

    def prepare(self, send: Send, now: datetime = NOW) -> ledger.Prepared:
        entries = {m: self.entries.get(m) for m in send.match_ids}
        prepared = ledger.prepare(send, entries, self.subscriptions.get(send.company_id), self.stale.get, now)
        self.entries.update(prepared.settle)
        return prepared

    def deliver(self, send: Send, outcomes: list[Outcome], policy: RetryPolicy = POLICY) -> list[object]:
        """Run a send as the notifier does: attempt after attempt until delivered or given up."""
        prepared = self.prepare(send)
        assert prepared.notification is not None
        url = self.subscriptions[send.company_id].url
        assert url is not None
        decisions: list[object] = []
        attempt, now = 1, NOW
        for outcome in outcomes:
            decision = ledger.on_outcome(prepared, url, attempt, outcome, policy, now)
            decisions.append(decision)
            if not isinstance(decision, ledger.Retry):
                self.entries.update(decision.settle)
                break
            attempt, now = decision.attempt, decision.due
        return decisions

    def states(self) -> dict[str, str]:
        return {m: e.state for m, e in self.entries.items()}


# -- a MatchResult ------------------------------------------------------------------------------
def test_a_match_seen_twice_is_decided_and_sent_once():
    book = Ledger(subscription())
    result = match()
    first = book.see(result, partition=2)
    assert first.entry.state == PENDING and first.entry.match["match_id"] == result.match_id
    assert first.entry.seen_at == NOW.isoformat() and first.entry.partition == 2
    assert first.send == Send(result.match_id, "match", "co-1", 2, (result.match_id,))
    again = book.see(result, partition=2, now=LATER)  # a replay or a duplicate
    assert again.replay and again.send is None
    assert book.entries[result.match_id] == first.entry


def test_a_delivered_match_seen_again_is_not_sent_again():
    book = Ledger(subscription())
    result = match()
    book.deliver(book.see(result).send, [OK])
    assert book.states() == {result.match_id: DELIVERED}
    assert book.see(result).replay


def test_min_score_filters_matches_below_the_company_threshold():
    book = Ledger(subscription(min_score=0.5))
    below, equal = match(score=0.49, challenge_id="ch-low"), match(score=0.5, challenge_id="ch-eq")
    low = book.see(below)
    assert low.entry.state == BELOW and low.entry.match is None and low.send is None
    assert book.see(equal).entry.state == PENDING


def test_a_match_without_subscription_is_recorded_unsubscribed():
    decision = Ledger().see(match())
    assert decision.entry.state == UNSUBSCRIBED and decision.send is None


def test_an_inbox_only_subscription_records_matches_and_alerts_and_posts_nothing():
    book = Ledger(Subscription(company_id="co-1", min_score=0.3))
    alert = match(score=0.5).model_copy(update={"trigger": "alert"})
    decision = book.see(alert)
    assert decision.entry.state == INBOX_ONLY and decision.send is None
    assert book.see(match(score=0.2, challenge_id="ch-2")).entry.state == BELOW


def test_an_alert_is_delivered_like_any_match():
    book = Ledger(subscription())
    alert = match().model_copy(update={"trigger": "alert"})
    decision = book.see(alert)
    assert decision.entry.state == PENDING and decision.entry.match["trigger"] == "alert"
    book.deliver(decision.send, [OK])
    assert book.states() == {alert.match_id: DELIVERED}


def test_a_webhook_replaced_by_the_inbox_only_settles_pending_matches():
    book = Ledger(subscription())
    send = book.see(match()).send
    book.subscriptions["co-1"] = Subscription(company_id="co-1")
    prepared = book.prepare(send)
    assert prepared.notification is None and book.states() == {match().match_id: INBOX_ONLY}


def test_a_digest_company_match_waits_for_the_digest():
    decision = Ledger(subscription(delivery="digest")).see(match())
    assert decision.entry.state == PENDING and decision.send is None


def test_a_match_for_a_closed_challenge_is_stale():
    book = Ledger(subscription())
    book.close_challenge("ch-1", version=2)
    decision = book.see(match(challenge_id="ch-1", version=2))
    assert decision.entry.state == STALE and decision.send is None and decision.entry.match is None


def test_a_reopened_challenge_keeps_older_matches_stale_and_sends_new_ones():
    book = Ledger(subscription())
    key = ledger.challenge_key(0, "ch-1")
    assert book.status(key, 1, closed=True)
    assert not book.status(key, 2, closed=False)  # re-opened with a new version
    assert book.see(match(version=1)).entry.state == STALE
    assert book.see(match(version=2)).entry.state == PENDING


def test_an_older_status_event_changes_nothing():
    stored = Closure(False, 0, 3)
    assert ledger.on_status(stored, 2, closed=True) == ledger.StatusChange(None, False)
    assert ledger.on_status(stored, 3, closed=False) == ledger.StatusChange(None, False)  # the same state again
    assert ledger.on_status(stored, None, closed=True) == ledger.StatusChange(Closure(True, 3, 3), True)  # tombstone


def test_a_withdrawn_company_makes_its_pending_matches_stale():
    book = Ledger(subscription("co-1"), subscription("co-2"))
    gone, kept = match("co-1"), match("co-2")
    book.see(gone)
    book.see(kept)
    assert book.status(ledger.company_key("co-1"), 2, closed=True)
    updates = ledger.close_company(book.entries, "co-1", 0, LATER)
    assert set(updates) == {gone.match_id}
    assert updates[gone.match_id].state == STALE and updates[gone.match_id].settled_at == LATER.isoformat()
    assert updates[gone.match_id].match is None


# -- closing, unsubscribing: pending deliveries stop --------------------------------------------
def test_closing_a_challenge_drops_its_pending_notifications_on_that_partition():
    book = Ledger(subscription("co-1"), subscription("co-2"))
    closing, other, elsewhere = match(challenge_id="ch-1"), match(challenge_id="ch-2"), match("co-2", "ch-1")
    send = book.see(closing).send
    book.see(other)
    book.see(elsewhere, partition=1)
    assert set(book.close_challenge("ch-1", version=1)) == {closing.match_id}
    assert book.states() == {closing.match_id: STALE, other.match_id: PENDING, elsewhere.match_id: PENDING}
    assert book.prepare(send).notification is None  # the queued send finds nothing left to send


def test_a_send_whose_challenge_closed_meanwhile_is_settled_stale():
    book = Ledger(subscription())
    result = match()
    send = book.see(result).send
    book.status(ledger.challenge_key(0, "ch-1"), 1, closed=True)  # recorded; the entry is still pending
    prepared = book.prepare(send)
    assert prepared.notification is None and prepared.live == {}
    assert prepared.settle[result.match_id].state == STALE


def test_unsubscribing_stops_pending_deliveries():
    book = Ledger(subscription())
    queued, swept = match(challenge_id="ch-1"), match(challenge_id="ch-2")
    send = book.see(queued).send
    book.see(swept)
    del book.subscriptions["co-1"]  # the subscription's tombstone
    prepared = book.prepare(send)  # a queued send goes nowhere
    assert prepared.notification is None and prepared.settle[queued.match_id].state == UNSUBSCRIBED
    sweep = ledger.sweep(book.entries, {0}, book.subscriptions.get, LATER)  # and the sweeper settles the rest
    assert sweep.sends == [] and set(sweep.settle[0]) == {swept.match_id}
    assert sweep.settle[0][swept.match_id].state == UNSUBSCRIBED


# -- retries ------------------------------------------------------------------------------------
def test_backoff_doubles_from_the_base_and_is_capped():
    policy = RetryPolicy(attempts=8, base_delay=2.0, max_delay=20.0)
    assert [policy.delay(n) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 20.0, 20.0]


def test_a_500_is_retried_after_the_backoff_then_delivered_once():
    book = Ledger(subscription())
    result = match()
    retry, delivered = book.deliver(book.see(result).send, [HTTP_500, OK])
    assert retry == ledger.Retry(attempt=2, delay=1.0, due=NOW + timedelta(seconds=1))
    assert isinstance(delivered, ledger.Delivered)
    entry = book.entries[result.match_id]
    assert entry.state == DELIVERED and entry.attempts == 2 and entry.match is None
    assert entry.settled_at == (NOW + timedelta(seconds=1)).isoformat()


def test_giving_up_after_notify_attempts_writes_a_dead_letter():
    book = Ledger(subscription())
    result = match()
    timeout = Outcome(RETRYABLE, "ReadTimeout")
    decisions = book.deliver(book.see(result).send, [HTTP_500, HTTP_500, timeout, OK])
    assert [type(d).__name__ for d in decisions] == ["Retry", "Retry", "GiveUp"]  # the 4th attempt never happens
    assert [d.delay for d in decisions[:2]] == [1.0, 2.0]
    letter = decisions[-1].letter
    assert letter.notification_id == result.match_id and letter.type == "match" and letter.company_id == "co-1"
    assert letter.url == "http://hooks.example/co-1" and letter.match_ids == [result.match_id]
    assert letter.attempts == POLICY.attempts and letter.last_error == "ReadTimeout"
    assert letter.failed_at == NOW + timedelta(seconds=3)
    assert [m.match_id for m in letter.notification.matches] == [result.match_id]
    assert "secret" not in letter.model_dump_json() and SECRET not in letter.model_dump_json()
    entry = book.entries[result.match_id]
    assert entry.state == DEAD and entry.attempts == POLICY.attempts


def test_a_permanent_failure_is_retried_like_any_other():
    book = Ledger(subscription())
    decisions = book.deliver(book.see(match()).send, [Outcome(PERMANENT, "HTTP 404"), OK])
    assert isinstance(decisions[0], ledger.Retry) and isinstance(decisions[1], ledger.Delivered)


def test_a_refused_destination_is_dead_lettered_at_once_with_the_reason():
    book = Ledger(subscription())
    result = match()
    reason = "webhook host hooks.example resolves to 10.0.0.5, a private address: only public addresses are allowed"
    (decision,) = book.deliver(book.see(result).send, [Outcome(REFUSED, reason), OK])
    assert isinstance(decision, ledger.GiveUp)  # no retry: the same internal address would be asked again
    assert decision.letter.attempts == 1 and decision.letter.last_error == reason
    assert book.entries[result.match_id].state == DEAD and book.entries[result.match_id].attempts == 1


def test_a_single_attempt_policy_gives_up_at_once():
    book = Ledger(subscription())
    (decision,) = book.deliver(book.see(match()).send, [HTTP_500], RetryPolicy(1, 1.0, 1.0))
    assert isinstance(decision, ledger.GiveUp) and decision.letter.attempts == 1


# -- sweeps and digests -------------------------------------------------------------------------
def test_sweep_restarts_pending_instant_matches_and_formed_digests_on_owned_partitions():
    book = Ledger(subscription("co-i"), subscription("co-d", delivery="digest"))
    instant, foreign = match("co-i", "ch-1"), match("co-i", "ch-2")
    waiting, done = match("co-d", "ch-1"), match("co-i", "ch-3")
    book.see(instant)
    book.see(foreign, partition=1)
    book.see(waiting)
    book.deliver(book.see(done).send, [OK])
    sweep = ledger.sweep(book.entries, {0}, book.subscriptions.get, NOW)
    assert sweep.sends == [Send(instant.match_id, "match", "co-i", 0, (instant.match_id,))] and sweep.settle == {}
    (digest,) = ledger.form_digests(book.entries, {0}, book.subscriptions.get, NOW)
    book.entries.update(digest.members)
    sweep = ledger.sweep(book.entries, {0}, book.subscriptions.get, NOW)
    assert sweep.sends[-1] == digest.send  # a formed digest is re-sent with the same id


def test_digest_due_times_follow_period_and_offset():
    daily = DigestSchedule(period=86400.0, offset=0.0)
    midnight = datetime(2026, 1, 3, tzinfo=UTC).timestamp()
    assert daily.next_due(NOW.timestamp()) == midnight
    assert daily.next_due(midnight) == midnight + 86400.0  # at a boundary: the next one
    assert DigestSchedule(period=60.0, offset=10.0).next_due(125.5) == 130.0
    assert DigestSchedule(period=60.0, offset=10.0).next_due(130.0) == 190.0


def test_a_digest_gathers_only_digest_companies_pending_matches_best_first():
    book = Ledger(subscription("co-i"), subscription("co-d", delivery="digest", min_score=0.2))
    book.see(match("co-i", "ch-1", 0.9))  # instant: sent on its own, never in a digest
    low, high = book.see(match("co-d", "ch-1", 0.5)), book.see(match("co-d", "ch-2", 0.9))
    book.see(match("co-d", "ch-3", 0.1))  # below min score
    closed = match("co-d", "ch-4", 0.7)
    book.see(closed)
    book.close_challenge("ch-4", version=1)
    book.see(match("co-d", "ch-5", 0.6), partition=3)  # not owned here
    assert low.send is None and high.send is None
    (digest,) = ledger.form_digests(book.entries, {0}, book.subscriptions.get, LATER)
    members = sorted(m for m, e in book.entries.items() if e.company_id == "co-d" and e.pending and e.partition == 0)
    assert digest.send == Send(ledger.digest_id("co-d", members), "digest", "co-d", 0, tuple(members))
    assert digest.send.notification_id.startswith("digest-") and len(members) == 2
    assert all(
        e.digest_id == digest.send.notification_id and e.digest_at == LATER.isoformat() for e in digest.members.values()
    )
    book.entries.update(digest.members)
    assert ledger.form_digests(book.entries, {0}, book.subscriptions.get, LATER) == []  # gathered once
    notification = book.prepare(digest.send).notification
    assert notification.type == "digest" and notification.notification_id == digest.send.notification_id
    assert [m.score for m in notification.matches] == [0.9, 0.5]
    assert notification.sent_at == LATER


def test_a_digest_member_closed_before_sending_is_left_out():
    book = Ledger(subscription("co-d", delivery="digest"))
    kept, closing = match("co-d", "ch-1", 0.5), match("co-d", "ch-2", 0.9)
    book.see(kept)
    book.see(closing)
    (digest,) = ledger.form_digests(book.entries, {0}, book.subscriptions.get, NOW)
    book.entries.update(digest.members)
    book.status(ledger.challenge_key(0, "ch-2"), 1, closed=True)
    prepared = book.prepare(digest.send)
    assert [m.match_id for m in prepared.notification.matches] == [kept.match_id]
    assert prepared.settle[closing.match_id].state == STALE
    (delivered,) = book.deliver(digest.send, [OK])
    assert set(delivered.settle) == {kept.match_id}


def test_digest_ids_depend_on_company_and_members_only():
    assert ledger.digest_id("co-1", ["a", "b"]) == ledger.digest_id("co-1", ["a", "b"])
    assert (
        len(
            {
                ledger.digest_id("co-1", ["a", "b"]),
                ledger.digest_id("co-2", ["a", "b"]),
                ledger.digest_id("co-1", ["a"]),
            }
        )
        == 3
    )


@pytest.mark.parametrize("attempt, expected", [(1, 1.0), (2, 2.0), (3, 4.0), (10, 300.0)])
def test_retry_due_time_is_now_plus_the_backoff(attempt, expected):
    policy = RetryPolicy(attempts=20, base_delay=1.0, max_delay=300.0)
    prepared = ledger.Prepared({}, {}, None)
    decision = ledger.on_outcome(prepared, "http://x.example", attempt, HTTP_500, policy, NOW)
    assert decision == ledger.Retry(attempt + 1, expected, NOW + timedelta(seconds=expected))
