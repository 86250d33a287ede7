"""The ingest service behind the HTTP routes: version checks, ownership, idempotency, publishing to Kafka.

No HTTP here: every refusal is a domain error from services/errors.py, which the app maps to a status
(services/ingest/errors.py), and a write answers an `Answer` the routes turn into a response. Methods
block (Kafka acknowledgements, file locks) and are called from the threadpool.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from schemas import Challenge, CompanyProfile, Subscription
from services import versioning
from services.errors import (
    BrokerError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    NotReadyError,
)
from services.ingest.idempotency import IdempotencyStore, fingerprint
from services.ingest.models import Accepted, ChallengeRequest, CompanyProfileRequest, SubscriptionRequest
from services.ingest.tokens import Principal, TokenStore
from services.ingest.versions import Entry, SubscriptionView, TopicFollower, VersionView
from services.kafka.codec import Kind
from services.settings import Settings

if TYPE_CHECKING:
    from kafka import KafkaProducer

log = logging.getLogger("matchmaker.api")

CITY_CODES = {"Helsinki": "hel", "Espoo": "esp", "Tampere": "tre", "Vantaa": "van", "Oulu": "oul", "Turku": "tku"}


@dataclass(frozen=True)
class Answer:
    """What a write answers: its status and JSON body, and whether it is the stored answer to an earlier
    request with the same Idempotency-Key (None: the request carried no key)."""

    status: int
    body: Any
    replayed: bool | None = None


def _field_error(loc: tuple, msg: str, value: Any) -> InvalidInputError:
    return InvalidInputError(msg, errors=[{"type": "value_error", "loc": loc, "msg": msg, "input": value}])


class Ingest:
    """The write side of the API, one per process: started and stopped by the app's lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings = settings.as_principal("api")
        self.api = api = settings.api
        self.tokens = TokenStore(api.tokens_path(settings.home))
        self.idempotency = IdempotencyStore(api.idempotency_path(settings.home), api.idempotency_ttl_seconds)
        self.view = VersionView()
        self.subscriptions = SubscriptionView()
        self.follower: TopicFollower | None = None
        self.producer: KafkaProducer | None = None
        self._stripes = [threading.Lock() for _ in range(256)]
        self.topics = {
            "challenge": settings.topic_challenges,
            "company": settings.topic_companies,
            "subscription": settings.delivery.topic_subscriptions,
        }

    def start(self) -> None:
        from services.kafka import clients

        # the subscriptions topic (the companies' alert thresholds) is followed too; like the sources, the
        # operator creates it (`matchmaker access sync`), and the follower waits for it
        self.producer = clients.producer(self.settings, client_id="matchmaker-api", linger_ms=0, retries=5)
        self.follower = TopicFollower(
            self.view,
            self.settings,
            {**dict.fromkeys(self.settings.challenge_topics, "challenge"), self.settings.topic_companies: "company"},
            subscriptions=self.subscriptions,
        )
        self.follower.start()
        if not self.follower.ready.wait(self.api.startup_timeout):
            log.warning("version view not ready after %.0fs; writes answer 503 until it is", self.api.startup_timeout)

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.stop()
            self.follower.join(timeout=5)
        if self.producer is not None:
            self.producer.close(timeout=5)

    @property
    def ready(self) -> bool:
        return self.follower is not None and self.follower.ready.is_set() and self.follower.failed is None

    def _lock(self, kind: Kind, key: str) -> threading.Lock:
        return self._stripes[hash((kind, key)) % len(self._stripes)]

    # -- idempotency wrapper ------------------------------------------------------------------
    def write(
        self,
        principal: Principal,
        idempotency_key: str | None,
        method: str,
        path: str,
        body: bytes,
        action: Callable[[], tuple[int, Accepted]],
    ) -> Answer:
        """Run `action` once per Idempotency-Key of this publisher; a repeat gets the stored answer."""
        if not self.ready:
            raise NotReadyError("the API is starting: reading the current versions from Kafka")
        if idempotency_key is None:
            status, accepted = action()
            return Answer(status, accepted.model_dump(mode="json"))
        scope = principal.scope
        begin = self.idempotency.begin(scope, idempotency_key, fingerprint(method, path, body))
        if begin.outcome == "replay":
            return Answer(begin.status or 200, json.loads(begin.body or "{}"), replayed=True)
        if begin.outcome == "mismatch":
            raise _field_error(
                ("header", "Idempotency-Key"), "this Idempotency-Key was used for a different request", idempotency_key
            )
        if begin.outcome == "in_progress":
            raise ConflictError("a request with this Idempotency-Key is still being processed; retry later")
        try:
            status, accepted = action()
        except BaseException:
            self.idempotency.release(scope, idempotency_key)
            raise
        payload = accepted.model_dump(mode="json")
        self.idempotency.complete(scope, idempotency_key, status, json.dumps(payload))
        return Answer(status, payload, replayed=False)

    # -- Kafka ---------------------------------------------------------------------------------
    def _send(self, kind: Kind | Literal["subscription"], key: str, value: bytes | None):
        from kafka.errors import KafkaError

        if self.producer is None:
            raise NotReadyError("the API is starting: its Kafka producer is not connected yet")
        try:
            return self.producer.send(self.topics[kind], key=key.encode("utf-8"), value=value).get(
                timeout=self.api.publish_timeout
            )
        except KafkaError as error:
            log.warning("publish of %s %s failed: %r", kind, key, error)
            raise BrokerError(f"the broker did not acknowledge the event ({type(error).__name__}); retry") from error

    @staticmethod
    def _encode(event: Challenge | CompanyProfile) -> bytes:
        try:
            return event.model_dump_json().encode("utf-8")
        except (PydanticSerializationError, UnicodeEncodeError) as error:  # e.g. a lone UTF-16 surrogate
            raise _field_error(("body",), f"the event cannot be encoded as UTF-8 JSON: {error}", None) from error

    @staticmethod
    def _next_version(kind: Kind, key: str, entry: Entry | None, requested: int | None) -> int:
        current = entry.version if entry else None
        if requested is None:
            return (current or 0) + 1
        if not versioning.decide(current, requested).wins:  # stale or the same version
            raise ConflictError(
                f"version {requested} of {kind} {key!r} is not newer than its current version {current}"
            )
        return requested

    def _accepted(
        self,
        kind: Kind | Literal["subscription"],
        key: str,
        version: int | None,
        metadata,
        status: int = 202,
        tombstone: bool = False,
    ) -> tuple[int, Accepted]:
        return status, Accepted(
            kind=kind,
            key=key,
            version=version,
            tombstone=tombstone,
            topic=metadata.topic,
            partition=metadata.partition,
            offset=metadata.offset,
        )

    # -- challenges ----------------------------------------------------------------------------
    @staticmethod
    def _city_of(principal: Principal) -> str:
        if principal.city is None:
            raise ForbiddenError(f"a token of {principal.describe()} may not publish challenges")
        return principal.city

    def _publish_challenge(
        self, challenge_id: str, request: ChallengeRequest, entry: Entry | None
    ) -> tuple[int, Accepted]:
        version = self._next_version("challenge", challenge_id, entry, request.version)
        try:
            event = Challenge.model_validate({**request.model_dump(), "challenge_id": challenge_id, "version": version})
        except ValidationError as error:
            raise InvalidInputError(str(error), errors=error.errors(include_url=False)) from error
        metadata = self._send("challenge", challenge_id, self._encode(event))
        self.view.apply("challenge", challenge_id, event, metadata.partition, metadata.offset, metadata.topic)
        return self._accepted("challenge", challenge_id, version, metadata)

    def create_challenge(self, principal: Principal, request: ChallengeRequest) -> tuple[int, Accepted]:
        city = self._city_of(principal)
        if request.city != city:
            raise ForbiddenError(f"a token of {principal.describe()} may not publish a challenge of {request.city}")
        challenge_id = request.challenge_id or f"ch-{CITY_CODES[city]}-{uuid.uuid4().hex[:12]}"
        with self._lock("challenge", challenge_id):
            entry = self.view.get("challenge", challenge_id)
            if entry is not None and not entry.deleted:
                raise ConflictError(
                    f"challenge {challenge_id!r} already exists (version {entry.version}): "
                    f"use PUT /v1/challenges/{challenge_id}"
                )
            return self._publish_challenge(challenge_id, request, entry)

    def put_challenge(self, principal: Principal, challenge_id: str, request: ChallengeRequest) -> tuple[int, Accepted]:
        city = self._city_of(principal)
        if request.challenge_id is not None and request.challenge_id != challenge_id:
            raise _field_error(
                ("body", "challenge_id"), f"must equal the id in the path ({challenge_id})", request.challenge_id
            )
        if request.city != city:
            raise ForbiddenError(f"a token of {principal.describe()} may not publish a challenge of {request.city}")
        with self._lock("challenge", challenge_id):
            entry = self.view.get("challenge", challenge_id)
            if entry is not None and entry.challenge is not None and not entry.deleted and entry.challenge.city != city:
                raise ForbiddenError(f"challenge {challenge_id!r} belongs to {entry.challenge.city}")
            return self._publish_challenge(challenge_id, request, entry)

    def close_challenge(self, principal: Principal, challenge_id: str) -> tuple[int, Accepted]:
        city = self._city_of(principal)
        with self._lock("challenge", challenge_id):
            entry = self.view.get("challenge", challenge_id)
            if entry is None or entry.deleted or entry.challenge is None:
                raise NotFoundError(f"no challenge {challenge_id!r}")
            current = entry.challenge
            if current.city != city:
                raise ForbiddenError(f"challenge {challenge_id!r} belongs to {current.city}")
            if current.status == "closed":
                return 200, Accepted(
                    kind="challenge",
                    key=challenge_id,
                    version=entry.version,
                    published=False,
                    topic=self.topics["challenge"],
                    partition=entry.partition,
                    offset=entry.offset,
                )
            event = Challenge.model_validate(
                {**current.model_dump(), "status": "closed", "version": (entry.version or 0) + 1}
            )
            metadata = self._send("challenge", challenge_id, self._encode(event))
            self.view.apply("challenge", challenge_id, event, metadata.partition, metadata.offset, metadata.topic)
            return self._accepted("challenge", challenge_id, event.version, metadata)

    # -- companies -----------------------------------------------------------------------------
    @staticmethod
    def _own_company(principal: Principal, company_id: str) -> None:
        if principal.company_id != company_id:
            raise ForbiddenError(f"a token of {principal.describe()} may not write company {company_id!r}")

    def put_company(
        self, principal: Principal, company_id: str, request: CompanyProfileRequest
    ) -> tuple[int, Accepted]:
        self._own_company(principal, company_id)
        if request.company_id is not None and request.company_id != company_id:
            raise _field_error(
                ("body", "company_id"), f"must equal the id in the path ({company_id})", request.company_id
            )
        with self._lock("company", company_id):
            entry = self.view.get("company", company_id)
            version = self._next_version("company", company_id, entry, request.version)
            try:
                event = CompanyProfile.model_validate(
                    {**request.model_dump(), "company_id": company_id, "version": version}
                )
            except ValidationError as error:
                raise InvalidInputError(str(error), errors=error.errors(include_url=False)) from error
            metadata = self._send("company", company_id, self._encode(event))
            self.view.apply("company", company_id, event, metadata.partition, metadata.offset, metadata.topic)
            return self._accepted("company", company_id, version, metadata)

    def delete_company(self, principal: Principal, company_id: str) -> tuple[int, Accepted]:
        self._own_company(principal, company_id)
        with self._lock("company", company_id):
            entry = self.view.get("company", company_id)
            metadata = self._send("company", company_id, None)
            self.view.apply("company", company_id, None, metadata.partition, metadata.offset, metadata.topic)
            return self._accepted("company", company_id, entry.version if entry else None, metadata, tombstone=True)

    # -- a company's subscription --------------------------------------------------------------
    def put_subscription(
        self, principal: Principal, company_id: str, request: SubscriptionRequest
    ) -> tuple[int, Accepted]:
        """Set the company's alert threshold; a webhook the operator registered for it is kept (its URL, sealed
        secret and delivery), so the company changes its threshold without ever holding the secret's key."""
        self._own_company(principal, company_id)
        with self._lock("company", f"subscription/{company_id}"):
            current = self.subscriptions.get(company_id)
            if current is None:
                subscription = Subscription(company_id=company_id, min_score=request.min_score)
            else:  # (min_score was validated by the request model)
                subscription = current.model_copy(
                    update={"min_score": request.min_score, "updated_at": datetime.now(UTC)}
                )
            metadata = self._send("subscription", company_id, subscription.model_dump_json().encode("utf-8"))
            self.subscriptions.apply(company_id, subscription, metadata.partition, metadata.offset)
            return self._accepted("subscription", company_id, None, metadata)

    def delete_subscription(self, principal: Principal, company_id: str) -> tuple[int, Accepted]:
        """Unsubscribe (a tombstone): no alerts, no webhook."""
        self._own_company(principal, company_id)
        with self._lock("company", f"subscription/{company_id}"):
            metadata = self._send("subscription", company_id, None)
            self.subscriptions.apply(company_id, None, metadata.partition, metadata.offset)
            return self._accepted("subscription", company_id, None, metadata, tombstone=True)


__all__ = ["CITY_CODES", "Answer", "Ingest"]
