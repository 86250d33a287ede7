"""Publishing challenges and company profiles to Kafka with kafka-python (the Python SDK).

    from services.kafka.publisher import Publisher
    with Publisher("127.0.0.1:9092") as publisher:
        publisher.publish_challenge(Challenge(...))

Events are validated with the same `schemas` models as the worker before they are sent, and each
send waits for the broker's acknowledgement from all in-sync replicas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from kafka import KafkaProducer
from kafka.errors import MessageSizeTooLargeError

from schemas import Challenge, CompanyProfile
from services.datasets import load_jsonl
from services.errors import InvalidInputError, MessageTooLarge


class Publisher:
    def __init__(
        self,
        bootstrap_servers: str,
        challenges_topic: str = "challenges",
        companies_topic: str = "companies",
        max_request_size: int = 1_048_576,
    ) -> None:
        self.challenges_topic = challenges_topic
        self.companies_topic = companies_topic
        self.max_request_size = max_request_size
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            linger_ms=5,
            max_request_size=max_request_size,
            client_id="matchmaker-publisher",
        )
        self._pending: list = []

    def publish_challenge(self, challenge: Challenge) -> None:
        challenge = Challenge.model_validate(challenge.model_dump())
        self._send(self.challenges_topic, challenge.challenge_id, challenge.model_dump_json().encode("utf-8"))

    def publish_company(self, company: CompanyProfile) -> None:
        company = CompanyProfile.model_validate(company.model_dump())
        self._send(self.companies_topic, company.company_id, company.model_dump_json().encode("utf-8"))

    def delete_company(self, company_id: str) -> None:
        """Erase a company: a tombstone (null value) under its key."""
        self._send(self.companies_topic, company_id, None)

    def send_raw(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        """Send bytes as they are (for tests of bad input and for bridges)."""
        try:
            self._pending.append(self._producer.send(topic, key=key, value=value))
        except MessageSizeTooLargeError as error:
            size = len(value or b"") + len(key or b"")
            raise MessageTooLarge(
                f"the message for key {key!r} is {size} bytes, over this producer's limit of {self.max_request_size} "
                "bytes (and the broker's message.max.bytes, about 1 MB by default); shorten the texts"
            ) from error

    def _send(self, topic: str, key: str, value: bytes | None) -> None:
        self.send_raw(topic, key.encode("utf-8"), value)

    def flush(self, timeout: float = 30.0) -> int:
        """Wait for every acknowledgement; raise on the first failed send. Returns how many were sent."""
        self._producer.flush(timeout=timeout)
        pending, self._pending = self._pending, []
        for future in pending:
            future.get(timeout=timeout)
        return len(pending)

    def close(self) -> None:
        self.flush()
        self._producer.close()

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def publish_file(publisher: Publisher, kind: str, path: str | Path) -> int:
    """Validate every line of a JSONL file first, then publish them all. Returns the count."""
    if kind == "challenges":
        model: type[Challenge | CompanyProfile] = Challenge
        send = publisher.publish_challenge
    elif kind == "companies":
        model = CompanyProfile
        send = publisher.publish_company
    else:
        raise InvalidInputError(f"unknown kind {kind!r}: use challenges or companies")
    try:
        items: Iterable = load_jsonl(path, model)
    except ValueError as error:  # a bad line, named with its file and number
        raise InvalidInputError(str(error)) from error
    for item in items:
        send(item)
    return publisher.flush()
