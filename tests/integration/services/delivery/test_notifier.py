"""The notifier on the real broker with real webhook receivers on 127.0.0.1.

Signed instant deliveries, retries, dead letters that block nobody, digests without stale matches,
no duplicates across a rebalance between two processes and across a full replay of `matches`. Webhook
secrets travel sealed: the real `matchmaker subscribe` takes one from stdin (never its argv) or
generates one, the notifier signs with it, also after a key rotation and reseal that retired the old
key, and no topic holds a trace of any secret; a record sealed with another key is dead-lettered, not
sent.
The per-receiver figures are written to artifacts/notifier-delivery-summary.json.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import pytest
from kafka import KafkaAdminClient

from schemas import Notification, Subscription
from services.cli.processes import settings_env
from services.delivery.keyfile import key_path, read_keys
from services.delivery.sealing import Sealer, UnsealError, generate_key
from services.delivery.subscriptions import current_subscriptions, publish_subscription, sealed_subscription
from services.delivery.webhooks import verify_signature
from services.kafka import clients, reader
from tests.support import ARTIFACTS, PROJECT_ROOT
from tests.support.notifier import (
    Events,
    NotifierProcess,
    publish_sealed,
    read_topic,
    wait_notifier_drained,
)
from tests.support.waiting import wait_until
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.integration

SECRET = "s3cret-for-tests-0123456789"
RECEIVERS: dict[str, Receiver] = {}
SENT: list = []  # every MatchResult produced, for the replay
PIPED_SECRET = "piped-through-stdin-0123456789"
SECRETS = [SECRET]  # every webhook secret the module uses: none may show on a topic


@pytest.fixture(scope="module")
def events(settings):
    producer = Events(settings)
    yield producer
    producer.close()


@pytest.fixture(scope="module")
def notifiers(settings):
    processes = [NotifierProcess(settings, "notifier-1")]
    yield processes
    for process in processes:
        process.stop()
    for receiver in RECEIVERS.values():
        receiver.close()


@pytest.fixture(scope="module", autouse=True)
def summary(settings):
    yield
    letters = read_topic(settings, settings.delivery.topic_notification_dead_letters)
    per_receiver = {name: r.stats() for name, r in RECEIVERS.items()}
    totals = {
        k: sum(s[k] for s in per_receiver.values()) for k in ("requests", "delivered", "failed_attempts", "duplicates")
    }
    report = {"totals": {**totals, "dead_lettered": len(letters)}, "receivers": per_receiver}
    (ARTIFACTS / "notifier-delivery-summary.json").write_text(json.dumps(report, indent=2))
    print("\nnotifier delivery summary:", json.dumps(report["totals"]))


def receiver(name: str, behaviour=lambda n: 200) -> Receiver:
    RECEIVERS[name] = Receiver(behaviour)
    return RECEIVERS[name]


def subscribe(
    settings,
    notifiers,
    company_id: str,
    url: str,
    min_score: float = 0.0,
    delivery: Literal["instant", "digest"] = "instant",
) -> None:
    publish_sealed(settings, company_id, url, SECRET, min_score=min_score, delivery=delivery)
    wait_notifier_drained(settings, alive=lambda: all(p.alive for p in notifiers))


def match(events, *args, **kwargs):
    result = events.match(*args, **kwargs)
    SENT.append(result)
    return result


def test_instant_delivery_is_signed_and_only_above_min_score(settings, events, notifiers):
    hook = receiver("instant")
    subscribe(settings, notifiers, "co-inst", hook.url, min_score=0.5)
    good = match(events, "co-inst", "ch-a", 0.8)
    match(events, "co-inst", "ch-b", 0.3)  # below the company's minimum score: never sent
    assert wait_until(lambda: len(hook.requests) >= 1, 30), "no delivery"
    time.sleep(2.0)
    assert len(hook.requests) == 1
    request = hook.requests[0]
    assert request.ok and request.key == good.match_id
    assert request.headers["x-matchmaker-event"] == "match"
    timestamp, signature = request.headers["x-matchmaker-timestamp"], request.headers["x-matchmaker-signature"]
    assert signature.startswith("sha256=")
    assert verify_signature(SECRET, request.body, timestamp, signature)
    notification = Notification.model_validate_json(request.body)
    assert notification.type == "match" and notification.notification_id == good.match_id
    assert [m.match_id for m in notification.matches] == [good.match_id]
    assert notification.matches[0].score == pytest.approx(0.8)

    # what a receiver must refuse: a tampered body, another secret, a replayed old request
    tampered = request.body.replace(b'"score":0.8', b'"score":0.99')
    assert tampered != request.body
    assert not verify_signature(SECRET, tampered, timestamp, signature)
    assert not verify_signature("another-secret-0123456789", request.body, timestamp, signature)
    assert not verify_signature(SECRET, request.body, timestamp, signature, now=int(timestamp) + 3600)
    assert not verify_signature(SECRET, request.body, None, signature)


def matchmaker(settings, *args: str, stdin: str | None = None) -> tuple[str, str]:
    """The real `matchmaker` command; with `stdin` (a secret), its argv and environment are read from /proc
    while it waits for it, and must not hold it. Returns (stdout, stderr)."""
    env = settings_env(settings)
    env.pop("MATCHMAKER_WEBHOOK_SECRET", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if stdin is not None:
        argv = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        environment = Path(f"/proc/{process.pid}/environ").read_bytes()
        assert b"--secret-stdin" in argv and not any(stdin.encode() in arg for arg in argv)
        assert stdin.encode() not in environment
    out, err = process.communicate(stdin, timeout=120)
    assert process.returncode == 0, err
    return out, err


def test_the_subscribe_command_keeps_the_secret_off_argv_and_the_notifier_signs_with_it(settings, events, notifiers):
    piped_secret = PIPED_SECRET
    SECRETS.append(piped_secret)
    piped = receiver("cli-stdin")
    out, err = matchmaker(
        settings, "subscribe", "--company", "co-cli", "--url", piped.url, "--secret-stdin", stdin=piped_secret
    )
    assert out == "" and piped_secret not in err

    generated = receiver("cli-generated")
    out, err = matchmaker(settings, "subscribe", "--company", "co-gen", "--url", generated.url)
    secret = out.strip()
    assert out == secret + "\n" and len(secret) >= 43 and secret not in err  # printed once, alone on stdout
    SECRETS.append(secret)

    wait_notifier_drained(settings, alive=lambda: all(p.alive for p in notifiers))
    for company_id, hook, key in (("co-cli", piped, piped_secret), ("co-gen", generated, secret)):
        result = match(events, company_id, "ch-cli", 0.7)
        assert wait_until(lambda hook=hook: hook.delivered, 30), company_id
        request = hook.delivered[0]
        assert request.key == result.match_id
        headers = request.headers
        assert verify_signature(key, request.body, headers["x-matchmaker-timestamp"], headers["x-matchmaker-signature"])
        assert not verify_signature(
            SECRET, request.body, headers["x-matchmaker-timestamp"], headers["x-matchmaker-signature"]
        )


def test_rotate_and_reseal_keep_every_webhook_working_without_the_old_key(settings, events, notifiers):
    path = key_path(settings)
    (old,) = read_keys(path)
    out, _ = matchmaker(settings, "subscription-key", "rotate")
    assert "subscription-key reseal" in out
    new = read_keys(path)[0]  # the notifier re-reads the file: nothing to restart
    out, _ = matchmaker(settings, "subscription-key", "reseal")
    assert out.startswith("resealed 3 subscriptions")
    current = current_subscriptions(settings)
    for company_id in ("co-inst", "co-cli", "co-gen"):
        record = Subscription.model_validate_json(current[company_id])
        assert record.url is not None and record.sealed_secret is not None
        Sealer([new]).unseal(company_id, record.url, record.sealed_secret)  # opens with the new key alone
        with pytest.raises(UnsealError):
            Sealer([old]).unseal(company_id, record.url, record.sealed_secret)
    wait_notifier_drained(settings, alive=lambda: all(p.alive for p in notifiers))
    path.write_text(new.decode("ascii") + "\n")  # the old key retired

    hook = RECEIVERS["cli-stdin"]
    result = match(events, "co-cli", "ch-rotated", 0.7)
    assert wait_until(lambda: any(r.key == result.match_id for r in hook.delivered), 30)
    request = next(r for r in hook.delivered if r.key == result.match_id)
    headers = request.headers
    assert verify_signature(
        PIPED_SECRET, request.body, headers["x-matchmaker-timestamp"], headers["x-matchmaker-signature"]
    )  # the same secret as before the rotation: the receiver changed nothing


def test_receiver_failing_twice_then_succeeding_gets_exactly_one_delivery(settings, events, notifiers):
    hook = receiver("flaky", lambda n: 500 if n == 1 else 503 if n == 2 else 200)
    subscribe(settings, notifiers, "co-flaky", hook.url)
    result = match(events, "co-flaky", "ch-a", 0.7)
    assert wait_until(lambda: hook.delivered, 30), hook.requests
    time.sleep(2.0)
    assert [r.status for r in hook.requests] == [500, 503, 200]
    assert {r.key for r in hook.requests} == {result.match_id}  # every retry carries the same Idempotency-Key
    assert all(
        verify_signature(SECRET, r.body, r.headers["x-matchmaker-timestamp"], r.headers["x-matchmaker-signature"])
        for r in hook.requests
    )
    assert hook.stats()["delivered"] == 1


def test_dead_webhook_ends_in_dead_letters_and_blocks_nobody(settings, events, notifiers):
    dead = receiver("dead", lambda n: "hang")
    fast = receiver("fast")
    subscribe(settings, notifiers, "co-dead", dead.url)
    subscribe(settings, notifiers, "co-fast", fast.url)
    lost = match(events, "co-dead", "ch-a", 0.9)
    started = time.monotonic()
    delivered = match(events, "co-fast", "ch-a", 0.6)
    assert wait_until(lambda: fast.delivered, 20)
    fast_after = fast.delivered[0].at - started
    # three attempts of 1 s each plus backoff take the dead webhook > 3 s; the other company waits for none of it
    assert fast_after < 2.0, fast_after
    assert fast.delivered[0].key == delivered.match_id

    letter = wait_dead_letter(settings, lost.match_id)
    assert letter["company_id"] == "co-dead" and letter["attempts"] == settings.delivery.notify_attempts
    assert letter["match_ids"] == [lost.match_id] and "secret" not in json.dumps(letter)
    assert "Timeout" in letter["last_error"]
    assert len(dead.requests) == settings.delivery.notify_attempts
    assert not dead.delivered


def wait_dead_letter(settings, notification_id: str) -> dict:
    """The notification dead letter of `notification_id`, once the notifier wrote it (30 s at most)."""

    def found() -> list[dict]:
        records = read_topic(settings, settings.delivery.topic_notification_dead_letters)
        return [r for r in records if r["notification_id"] == notification_id]

    assert wait_until(found, 30, interval=0.5), f"no dead letter for {notification_id}"
    return found()[0]


def test_a_secret_sealed_with_another_key_is_dead_lettered_never_sent(settings, events, notifiers):
    hook = receiver("foreign-key")
    foreign = sealed_subscription(Sealer([generate_key()]), "co-foreign", hook.url, SECRET)
    publish_subscription(settings, foreign)
    wait_notifier_drained(settings, alive=lambda: all(p.alive for p in notifiers))
    lost = match(events, "co-foreign", "ch-a", 0.9)

    letter = wait_dead_letter(settings, lost.match_id)
    assert letter["company_id"] == "co-foreign" and "webhook secret not unsealed" in letter["last_error"]
    assert hook.requests == [] and all(p.alive for p in notifiers)
    log = notifiers[0].log.read_text(encoding="utf-8")
    assert "cannot sign" in log and "co-foreign" in log and SECRET not in log


def test_digest_gathers_the_period_and_leaves_out_closed_challenges(settings, events, notifiers):
    hook = receiver("digest")
    subscribe(settings, notifiers, "co-digest", hook.url, min_score=0.2, delivery="digest")
    period = settings.delivery.digest_period
    while not 0.2 < time.time() % period < 0.8:  # start just after a digest boundary
        time.sleep(0.05)
    first = match(events, "co-digest", "ch-d1", 0.5)
    second = match(events, "co-digest", "ch-d2", 0.9)
    match(events, "co-digest", "ch-d3", 0.7)
    match(events, "co-digest", "ch-d4", 0.1)  # below min score
    events.challenge("ch-d3", version=1, status="closed")  # closes before the digest goes out
    assert wait_until(lambda: hook.requests, period + 10), "no digest"
    time.sleep(period + 1.0)
    assert len(hook.requests) == 1, [r.key for r in hook.requests]
    request = hook.requests[0]
    assert verify_signature(
        SECRET, request.body, request.headers["x-matchmaker-timestamp"], request.headers["x-matchmaker-signature"]
    )
    digest = Notification.model_validate_json(request.body)
    assert digest.type == "digest" and request.key == digest.notification_id
    assert [m.match_id for m in digest.matches] == [second.match_id, first.match_id]  # best score first

    later = match(events, "co-digest", "ch-d5", 0.4)  # the next period's digest
    assert wait_until(lambda: len(hook.requests) >= 2, period + 10)
    time.sleep(1.0)
    assert len(hook.requests) == 2
    assert [m.match_id for m in Notification.model_validate_json(hook.requests[1].body).matches] == [later.match_id]


def test_two_notifiers_share_companies_without_duplicates(settings, events, notifiers):
    hooks = {f"co-reb-{i}": receiver(f"rebalance-{i}") for i in range(6)}
    for company_id, hook in hooks.items():
        publish_sealed(settings, company_id, hook.url, SECRET)
    wait_notifier_drained(settings)
    notifiers.append(NotifierProcess(settings, "notifier-2"))  # joins: the group rebalances
    expected = set()
    for round_ in range(10):  # matches keep coming during the rebalance
        for company_id in hooks:
            expected.add(match(events, company_id, f"ch-r{round_}", 0.5).match_id)
        time.sleep(0.4)
    wait_notifier_drained(settings, alive=lambda: all(p.alive for p in notifiers))
    notifiers.pop(0).stop()  # leaves: the other one takes all companies over
    for company_id in hooks:
        expected.add(match(events, company_id, "ch-after-leave", 0.5).match_id)

    def delivered():
        return {r.key for hook in hooks.values() for r in hook.delivered}

    assert wait_until(lambda: delivered() == expected, 60, interval=0.5), len(expected - delivered())
    time.sleep(2.0)
    assert sum(hook.stats()["duplicates"] for hook in hooks.values()) == 0
    assert sum(hook.stats()["delivered"] for hook in hooks.values()) == len(expected)


def test_replay_of_matches_from_the_beginning_sends_nothing_new(settings, events, notifiers):
    wait_notifier_drained(settings, alive=lambda: all(p.alive for p in notifiers))
    time.sleep(settings.delivery.digest_period + 1.0)
    before = {name: len(r.requests) for name, r in RECEIVERS.items()}
    while notifiers:
        notifiers.pop().stop()
    admin = clients.admin(settings, client_id="matchmaker-test")
    try:
        assert wait_until(lambda: _delete_group(admin, settings.notifier_app_id), 30, interval=1.0)
    finally:
        admin.close()
    for result in SENT:  # and every MatchResult once more: duplicates with the same match_id
        events.send_match(result)
    notifiers.append(NotifierProcess(settings, "notifier-replay"))
    wait_notifier_drained(settings, timeout=120, alive=lambda: notifiers[0].alive)
    time.sleep(settings.delivery.digest_period + 2.0)
    after = {name: len(r.requests) for name, r in RECEIVERS.items()}
    assert after == before
    fresh = match(events, "co-inst", "ch-after-replay", 0.9)  # the restarted notifier does deliver new matches
    hook = RECEIVERS["instant"]
    assert wait_until(lambda: any(r.key == fresh.match_id for r in hook.delivered), 30)
    metrics = notifiers[0].metrics()
    replayed = [line for line in metrics.splitlines() if line.startswith("matchmaker_notifier_replayed_matches_total")]
    assert replayed and float(replayed[0].split()[-1]) >= 2 * (len(SENT) - 1)


def test_no_topic_holds_a_trace_of_a_webhook_secret(settings):
    """The subscriptions topic, the notifier's subscriptions changelog and the dead letters, byte for byte."""
    topics = [
        settings.delivery.topic_subscriptions,
        f"{settings.notifier_app_id}-subscriptions-changelog",
        settings.delivery.topic_notification_dead_letters,
    ]
    records = {topic: reader.read_topic(settings, topic, client_id="matchmaker-test") for topic in topics}
    subscribed = [json.loads(r.value) for r in records[topics[0]] if r.value is not None]
    assert {s["company_id"] for s in subscribed} >= {"co-inst", "co-cli", "co-gen", "co-foreign"}
    assert all("sealed_secret" in s and "secret" not in s for s in subscribed)
    assert records[topics[1]], "the notifier's changelog is empty"
    for secret in SECRETS:
        raw = secret.encode()
        traces = [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"=")]
        for topic, topic_records in records.items():
            for record in topic_records:
                data = (record.key or b"") + (record.value or b"")
                assert not any(trace in data for trace in traces), f"{topic}@{record.offset}"
    logs = "".join(path.read_text(encoding="utf-8") for path in (ARTIFACTS / "logs").glob(f"{settings.app_id}-*.log"))
    assert logs and not any(secret in logs for secret in SECRETS)


def _delete_group(admin: KafkaAdminClient, group: str) -> bool:
    """The committed offsets go with the group: the next notifier reads `matches` from the beginning."""
    try:
        results = admin.delete_groups([group])
    except Exception:  # not empty yet (members leaving)
        return False
    pairs = results.items() if isinstance(results, dict) else results
    errors = [error for _, error in pairs if error is not None and getattr(error, "errno", 0) != 0]
    return not errors
