"""The project's errors: expected failures a user or client can act on, each with a message that says how.

Everything the services raise on purpose is a `MatchmakerError`. The CLI prints one as a single line
(`matchmaker: <message>`, exit code 1) and the ingest API maps each kind to one HTTP status; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class MatchmakerError(Exception):
    """Base of every expected failure."""


class BrokerError(MatchmakerError):
    """Kafka is not there: the local broker cannot run, or the cluster did not answer or acknowledge."""


class ConflictError(MatchmakerError):
    """The write conflicts with the current state: an older version, an existing entity, a request in flight."""


class ForbiddenError(MatchmakerError):
    """The principal may not do this (a city's token writing another city's challenge, ...)."""


class NotReadyError(MatchmakerError):
    """The service is still starting or catching up; retry shortly."""


class NotFoundError(MatchmakerError):
    """The entity does not exist."""


class InvalidInputError(MatchmakerError, ValueError):
    """Input that does not hold: a bad line in a file, a bad flag value, a field that contradicts the path.

    `errors` optionally holds pydantic-style error entries ({"type", "loc", "msg", "input"}) for the
    HTTP layer, which answers them as FastAPI's 422 body. Also a ValueError, as the checks were before.
    """

    def __init__(self, message: str, errors: Sequence[Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors


class MessageTooLarge(InvalidInputError):
    """An event too large for Kafka: refused before it leaves this process."""


class RefusedDestination(InvalidInputError):
    """A webhook URL the notifier must not call: not https, or a host inside a private network (SSRF)."""


class StalledError(MatchmakerError):
    """Waiting for processing gave up: the consumer exited, or its group stayed behind past the timeout."""


class ConfigurationError(MatchmakerError):
    """The settings and the cluster do not fit together (e.g. topics that must be co-partitioned are not)."""
