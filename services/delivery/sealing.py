"""Webhook secrets at rest: sealed with the subscriptions key ring, unsealed only to sign.

A subscription record on the compacted `subscriptions` topic carries `sealed_secret`, a Fernet token
(AES-128-CBC and HMAC-SHA256: authenticated encryption) of `{"company_id", "url", "secret"}`. Whoever
can read the topic learns nothing about the secret; whoever can write it (the ingest API does, to set a
company's alert threshold) cannot make a token the notifier accepts, nor move one company's sealed
secret into another company's record, nor point a record's sealed secret at another URL: the company
id and the webhook URL are sealed with it and checked on unsealing.

The key ring is a list of Fernet keys (MultiFernet): the first seals, every one unseals, so a record
sealed with an older key still works after a new key was put in front (rotation, docs/operators.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from services.errors import InvalidInputError, MatchmakerError

MIN_SECRET_CHARS = 16
MAX_SECRET_CHARS = 256


class UnsealError(MatchmakerError):
    """A sealed secret that this key ring cannot open: another key, a tampered token, another company's."""


def generate_key() -> bytes:
    """A new random Fernet key (32 bytes, url-safe base64)."""
    return Fernet.generate_key()


def check_secret(secret: str) -> str:
    """The rule for a webhook secret: one line of 16 to 256 printable characters (a receiver keeps it in a
    config file or variable). The message never repeats the secret."""
    if not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS:
        raise InvalidInputError(
            f"the webhook secret must have {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters (it has {len(secret)})"
        )
    if not secret.isprintable():
        raise InvalidInputError("the webhook secret must be one line of printable characters")
    return secret


class Sealer:
    """Seals and unseals webhook secrets with a key ring: the first key seals, every key unseals."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._ring = MultiFernet([Fernet(key) for key in keys])

    def seal(self, company_id: str, url: str, secret: str) -> str:
        """The secret sealed for the webhook `url` of `company_id`: it unseals for that pair only."""
        payload = {"company_id": company_id, "url": url, "secret": check_secret(secret)}
        return self._ring.encrypt(json.dumps(payload, separators=(",", ":")).encode("utf-8")).decode("ascii")

    def unseal(self, company_id: str, url: str, sealed: str) -> str:
        """The secret sealed for `company_id` and its webhook `url`; UnsealError for anything else (never a
        secret in its message)."""
        try:
            plain = self._ring.decrypt(sealed.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise UnsealError(
                f"the sealed webhook secret of {company_id} does not open with the subscriptions key "
                "(sealed with another key, or altered)"
            ) from None
        try:
            payload = json.loads(plain)
        except ValueError:
            raise UnsealError(f"the sealed webhook secret of {company_id} is not a sealed subscription") from None
        if not isinstance(payload, dict) or payload.get("company_id") != company_id:
            raise UnsealError(f"the sealed webhook secret in the record of {company_id} was sealed for another company")
        if "url" not in payload:
            raise UnsealError(
                f"the sealed webhook secret of {company_id} names no webhook URL (sealed before URLs were bound "
                "to their secrets): subscribe again"
            )
        if payload["url"] != url:
            raise UnsealError(f"the sealed webhook secret of {company_id} was sealed for another webhook URL")
        secret = payload.get("secret")
        if not isinstance(secret, str):
            raise UnsealError(f"the sealed webhook secret of {company_id} holds no secret")
        return secret

    def reseal(self, sealed: str) -> str:
        """The same token's content sealed with the first key (rotation); UnsealError if no key opens it."""
        try:
            return self._ring.rotate(sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise UnsealError("a sealed webhook secret does not open with the subscriptions key") from None
