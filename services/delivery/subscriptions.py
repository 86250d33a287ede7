"""Publishing subscriptions and inbox tokens, and creating the delivery side's topics.

matchmaker subscribe --company co-0023 --url https://example.fi/hook --secret-file F --min-score 0.5
matchmaker subscribe --company co-0023 --min-score 0.5    # inbox only: alerts and matches, no webhook
    (the URL must pass the outbound policy, services/delivery/outbound.py: https, public addresses only)
matchmaker unsubscribe --company co-0023
matchmaker subscription-key reseal                 # every subscription sealed again with the current key
matchmaker inbox-token issue --company co-0023     # prints the token once; only its SHA-256 is published
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import httpx
from pydantic import ValidationError

from schemas import InboxToken, Subscription
from schemas.subscriptions import Delivery
from services.bearer import hash_token
from services.delivery import outbound
from services.delivery.sealing import Sealer, UnsealError
from services.errors import InvalidInputError
from services.kafka import clients, reader
from services.kafka.topics import create_missing, delivery_topic_specs, topic_specs
from services.settings import Settings

log = logging.getLogger("matchmaker.delivery")

TOKEN_PREFIX = "mmi_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def ensure_notifier_topics(settings: Settings) -> None:
    """The project's topics plus subscriptions, inbox-tokens and notification-dead-letters (idempotent)."""
    create_missing(settings, {**topic_specs(settings), **delivery_topic_specs(settings)})


def partition_counts(settings: Settings, topics: list[str]) -> dict[str, int]:
    admin = clients.admin(settings, client_id="matchmaker-admin")
    try:
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(topics)}
    finally:
        admin.close()


def _send(settings: Settings, topic: str, key: str, value: bytes | None) -> None:
    """Send one record and wait for its acknowledgement (the CLI commands send one record each)."""
    _send_all(settings, topic, [(key, value)])


def _send_all(settings: Settings, topic: str, records: list[tuple[str, bytes | None]]) -> None:
    """Send records through one producer and wait for every acknowledgement."""
    producer = clients.producer(settings, client_id="matchmaker-cli")
    try:
        sent = [producer.send(topic, key=key.encode("utf-8"), value=value) for key, value in records]
        for future in sent:
            future.get(timeout=30)
    finally:
        producer.close()


def check_webhook_url(settings: Settings, url: str, resolve: outbound.Resolver = outbound.system_resolver) -> None:
    """Refuse, when subscribing, a webhook the notifier would refuse to call (services/delivery/outbound.py):
    the company hears it now rather than finding its notifications dead-lettered."""
    try:
        outbound.check_url(url, settings.delivery.notify_allow_loopback_http, resolve)
    except OSError as error:
        raise InvalidInputError(f"webhook host {httpx.URL(url).host} does not resolve: {error}") from error


def sealed_subscription(
    sealer: Sealer,
    company_id: str,
    url: str,
    secret: str,
    min_score: float = 0.0,
    delivery: Delivery = "instant",
) -> Subscription:
    """The subscription record, its secret sealed for its URL: the plain secret goes no further than this call."""
    url = url.strip()  # as the record keeps it (schemas.subscriptions.WebhookUrl)
    try:
        return Subscription(
            company_id=company_id,
            url=url,
            sealed_secret=sealer.seal(company_id, url, secret),
            min_score=min_score,
            delivery=delivery,
        )
    except ValidationError as error:  # about the URL, score or id: the plain secret is in none of them
        raise InvalidInputError(str(error)) from error


def inbox_subscription(company_id: str, min_score: float = 0.0) -> Subscription:
    """A subscription without a webhook: the company's alert threshold; its matches reach the inbox only."""
    try:
        return Subscription(company_id=company_id, min_score=min_score)
    except ValidationError as error:  # about the URL, score or id: the plain secret is in none of them
        raise InvalidInputError(str(error)) from error


def publish_subscription(settings: Settings, subscription: Subscription) -> None:
    """Publish (or replace) a subscription: the one place subscriptions are written, so the URL is checked here."""
    subscription = Subscription.model_validate(subscription.model_dump())
    if subscription.url is not None:
        check_webhook_url(settings, subscription.url)
    _send(
        settings,
        settings.delivery.topic_subscriptions,
        subscription.company_id,
        subscription.model_dump_json().encode("utf-8"),
    )


def unsubscribe(settings: Settings, company_id: str) -> None:
    _send(settings, settings.delivery.topic_subscriptions, company_id, None)


def current_subscriptions(settings: Settings) -> dict[str, bytes]:
    """The latest record of every subscribed company on the compacted topic (tombstoned ones left out)."""
    latest: dict[str, bytes | None] = {}
    for record in reader.read_topic(settings, settings.delivery.topic_subscriptions, client_id="matchmaker-admin"):
        if record.key is not None:
            latest[record.key.decode("utf-8", errors="replace")] = record.value
    return {key: value for key, value in latest.items() if value is not None}


@dataclass(frozen=True)
class Resealed:
    resealed: list[str]  # company ids whose record was published again, sealed with the current key
    failed: list[str]  # records no key of the ring opens, or not subscriptions at all: left as they are


def reseal_subscriptions(settings: Settings, sealer: Sealer) -> Resealed:
    """Seal every current subscription's secret again with the ring's first key (after a rotation), so the
    older keys can be dropped. A subscribe published meanwhile may be overwritten: run it alone."""
    records: list[tuple[str, bytes | None]] = []
    failed = []
    for company_id, value in sorted(current_subscriptions(settings).items()):
        try:
            subscription = Subscription.model_validate_json(value)
            if subscription.sealed_secret is None:
                continue  # inbox only: no secret to reseal
            resealed = subscription.model_copy(update={"sealed_secret": sealer.reseal(subscription.sealed_secret)})
        except (ValidationError, UnsealError) as error:
            log.warning("left the subscription of %s as it is: %s", company_id, type(error).__name__)
            failed.append(company_id)
            continue
        records.append((company_id, resealed.model_dump_json().encode("utf-8")))
    _send_all(settings, settings.delivery.topic_subscriptions, records)
    return Resealed([key for key, _ in records], failed)


def issue_token(settings: Settings, company_id: str) -> str:
    """A new inbox token for the company (it replaces the previous one). Returns the token: shown once."""
    token = new_token()
    try:
        record = InboxToken(company_id=company_id, token_sha256=hash_token(token))
    except ValidationError as error:  # e.g. a company id with spaces
        raise InvalidInputError(str(error)) from error
    _send(settings, settings.delivery.topic_inbox_tokens, record.company_id, record.model_dump_json().encode("utf-8"))
    return token


def revoke_token(settings: Settings, company_id: str) -> None:
    _send(settings, settings.delivery.topic_inbox_tokens, company_id, None)
