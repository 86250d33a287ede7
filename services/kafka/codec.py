"""Bytes on the wire <-> validated events, and the dead-letter record for what cannot be accepted."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from pydantic import ValidationError

from schemas import Challenge, CompanyProfile, DeadLetter, Subscription

Kind = Literal["challenge", "company"]
MODELS: dict[str, type[Challenge] | type[CompanyProfile]] = {"challenge": Challenge, "company": CompanyProfile}
ID_FIELD = {"challenge": "challenge_id", "company": "company_id"}


@dataclass(frozen=True)
class Tombstone:
    """A null value: delete the entity with this key (for a subscription: unsubscribe this company)."""

    kind: Kind | Literal["subscription"]
    key: str


@dataclass(frozen=True)
class Rejected:
    """Why a message cannot be accepted, in words a platform developer understands."""

    reason: str
    category: str


Decoded = Challenge | CompanyProfile | Tombstone | Rejected


def decode(kind: Kind, key: bytes | None, value: bytes | None) -> Decoded:
    """Validate one message of the `challenges` or `companies` topic."""
    key_text = key.decode("utf-8", errors="replace") if key is not None else None
    if value is None:
        if not key_text:
            return Rejected("a tombstone (null value) needs the entity id as its key", "tombstone-without-key")
        return Tombstone(kind, key_text)
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejected(f"the message is not UTF-8 text (byte {error.start} is invalid)", "not-utf8")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        return Rejected(f"the message is not JSON: {error.msg} at line {error.lineno} column {error.colno}", "not-json")
    if not isinstance(payload, dict):
        return Rejected(f"the message must be a JSON object, not a JSON {type(payload).__name__}", "not-an-object")
    try:
        event = MODELS[kind].model_validate(payload)
    except ValidationError as error:
        return Rejected(describe_validation_error(error), _category(error))
    event_id = getattr(event, ID_FIELD[kind])
    if key_text is not None and key_text != event_id:
        return Rejected(f"the message key {key_text!r} differs from {ID_FIELD[kind]} {event_id!r}", "key-mismatch")
    return event


def decode_subscription(key: bytes | None, value: bytes | None) -> Subscription | Tombstone | Rejected:
    """One record of the `subscriptions` topic (key company_id; a null value unsubscribes), read alike by
    the notifier, the worker and the ingest API's view: a Rejected one is ignored by all three."""
    key_text = key.decode("utf-8", errors="replace") if key else None
    if value is None:
        if not key_text:
            return Rejected("a tombstone (null value) needs the company id as its key", "tombstone-without-key")
        return Tombstone("subscription", key_text)
    try:
        subscription = Subscription.model_validate_json(value)
    except ValidationError as error:
        return Rejected(describe_validation_error(error), _category(error))
    if key_text is not None and key_text != subscription.company_id:
        return Rejected(f"the key {key_text!r} differs from company_id {subscription.company_id!r}", "key-mismatch")
    return subscription


def from_city(city: str | None, decoded: Decoded) -> Decoded:
    """A message of a city's own topic (`city`; None for the trusted topics): that city's challenges only.

    A city cannot delete through its topic: a tombstone carries no city, so it could erase another
    city's challenge; it closes its own by publishing it with status "closed" and a higher version.
    """
    if city is None or isinstance(decoded, Rejected):
        return decoded
    if isinstance(decoded, Tombstone):
        return Rejected(
            f"a city's topic cannot delete (tombstone of {decoded.key!r}); publish the challenge with status "
            '"closed" and a higher version instead',
            "city-tombstone",
        )
    if isinstance(decoded, Challenge) and decoded.city != city:
        return Rejected(
            f"the topic of {city} carries a challenge of {decoded.city}: a city publishes only its own",
            "city-mismatch",
        )
    return decoded


def describe_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        field = ".".join(str(p) for p in item["loc"]) or "message"
        parts.append(f"{field}: {item['msg']}")
    return "; ".join(parts)


def _category(error: ValidationError) -> str:
    """A short label for metrics: `missing-field`, or `invalid-<first bad field>`."""
    first = error.errors(include_url=False)[0]
    if first["type"] == "missing":
        return "missing-field"
    field = str(first["loc"][0]) if first["loc"] else "message"
    return "invalid-" + field.replace("_", "-")


def dead_letter(
    topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, rejected: Rejected
) -> bytes:
    """The JSON record written to the dead-letter topic (contract: schemas.DeadLetter)."""
    value_text, value_encoding = _as_text(value)
    record = DeadLetter(
        source_topic=topic,
        partition=partition,
        offset=offset,
        key=_as_text(key)[0],
        reason=rejected.reason,
        category=rejected.category,
        seen_at=datetime.now(UTC),
        value=value_text,
        value_encoding=value_encoding,
    )
    return record.model_dump_json().encode("utf-8")


def _as_text(raw: bytes | None) -> tuple[str | None, Literal["utf-8", "base64", "null"]]:
    if raw is None:
        return None, "null"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def encode_vector(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def decode_vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32)


def to_json_bytes(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
