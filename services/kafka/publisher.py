"""Publishing challenges and company profiles to Kafka with kafka-python (the Python SDK).

    from services.kafka.publisher import Publisher
    with Publisher.from_settings(Settings()) as publisher:    # or Publisher.from_config(granted_json)
        publisher.publish_challenge(Challenge(...))

Events are validated with the same `schemas` models as the worker before they are sent, and each
send waits for the broker's acknowledgement from all in-sync replicas.
"""

from __future__ import annotations

from pathlib import Path

from kafka.errors import MessageSizeTooLargeError
from pydantic import SecretStr

from schemas import Challenge, CompanyProfile
from services.datasets import load_jsonl
from services.errors import InvalidInputError, MessageTooLarge
from services.kafka import clients
from services.settings import Settings

DEFAULT_MAX_REQUEST_SIZE = 1_048_576  # kafka-python's default, and about the broker's message.max.bytes


class Publisher:
    """Validates and sends events; one producer (acks=all, linger 5 ms) from `services.kafka.clients`."""

    def __init__(
        self,
        bootstrap_servers: str,
        challenges_topic: str = "challenges",
        companies_topic: str = "companies",
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
    ) -> None:
        # everything but the servers (security protocol, credential, CA) comes from the environment
        settings = Settings().model_copy(update={"kafka_bootstrap_servers": bootstrap_servers})
        self._setup(settings, challenges_topic, companies_topic, max_request_size)

    @classmethod
    def from_config(cls, config: dict, max_request_size: int = DEFAULT_MAX_REQUEST_SIZE) -> Publisher:
        """A Publisher from the JSON `matchmaker access grant --city NAME --json` prints (kafka-python names).

        A city's principal may write only its `challenges_topic`; a platform's only its `companies_topic`.
        """
        settings = Settings().model_copy(
            update={
                "kafka_bootstrap_servers": config["bootstrap_servers"],
                "kafka_security_protocol": config.get("security_protocol", "SASL_SSL"),
                "kafka_sasl_mechanism": config.get("sasl_mechanism", "SCRAM-SHA-512"),
                "kafka_username": config.get("sasl_plain_username"),
                "kafka_password": SecretStr(config["sasl_plain_password"])
                if config.get("sasl_plain_password")
                else None,
                "kafka_ca_file": Path(config["ssl_cafile"]) if config.get("ssl_cafile") else None,
            }
        )
        publisher = cls.__new__(cls)
        publisher._setup(
            settings,
            config.get("challenges_topic", "challenges"),
            config.get("companies_topic", "companies"),
            max_request_size,
        )
        return publisher

    @classmethod
    def from_settings(cls, settings: Settings, max_request_size: int = DEFAULT_MAX_REQUEST_SIZE) -> Publisher:
        """A Publisher to the cluster and topics of `settings`."""
        publisher = cls.__new__(cls)
        publisher._setup(settings, settings.topic_challenges, settings.topic_companies, max_request_size)
        return publisher

    def _setup(self, settings: Settings, challenges_topic: str, companies_topic: str, max_request_size: int) -> None:
        self.challenges_topic = challenges_topic
        self.companies_topic = companies_topic
        self.max_request_size = max_request_size
        self._producer = clients.producer(
            settings, client_id="matchmaker-publisher", linger_ms=5, max_request_size=max_request_size
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

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def publish_file(publisher: Publisher, kind: str, path: str | Path) -> int:
    """Validate every line of a JSONL file first, then publish them all. Returns the count."""
    # a bad line raises InvalidInputError naming its file and line, before anything is sent
    if kind == "challenges":
        for challenge in load_jsonl(path, Challenge):
            publisher.publish_challenge(challenge)
    elif kind == "companies":
        for company in load_jsonl(path, CompanyProfile):
            publisher.publish_company(company)
    else:
        raise InvalidInputError(f"unknown kind {kind!r}: use challenges or companies")
    return publisher.flush()
