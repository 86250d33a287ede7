"""The ingest API's request and response bodies: the event contracts with id and version optional.

Plain pydantic models (no FastAPI): the service builds `Accepted` answers, the routes declare them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas import Challenge, CompanyProfile
from schemas.events import Identifier


# Request bodies may leave out what the event requires (the id, the version): the API fills them in
# before it validates the event, so these fields deliberately widen the event's types.
class ChallengeRequest(Challenge):
    """A Challenge as a request body: `challenge_id` comes from the path (or is assigned by POST), and
    `version` may be omitted, in which case the API assigns the next one."""

    challenge_id: Identifier | None = Field(default=None, description="Optional; must equal the path id when given.")  # type: ignore[assignment]
    version: int | None = Field(default=None, ge=1, description="Optional; default: the current version + 1.")  # type: ignore[assignment]


class CompanyProfileRequest(CompanyProfile):
    """A CompanyProfile as a request body: `company_id` comes from the path, `version` is optional."""

    company_id: Identifier | None = Field(default=None, description="Optional; must equal the path id when given.")  # type: ignore[assignment]
    version: int | None = Field(default=None, ge=1, description="Optional; default: the current version + 1.")  # type: ignore[assignment]


class SubscriptionRequest(BaseModel):
    """A company's alert threshold: it hears of every open challenge scoring at least `min_score`."""

    model_config = ConfigDict(extra="forbid")

    min_score: float = Field(
        ge=0.0,
        le=1.0,
        description="Alert threshold: every challenge published, changed or re-opened that scores at least this "
        "much for the company is announced (trigger alert), whatever the challenge's shortlist. Alerts reach "
        "the inbox; a webhook registered by the operator (`matchmaker subscribe --url`) is kept.",
    )


class Accepted(BaseModel):
    """Where the event now is in Kafka."""

    kind: Literal["challenge", "company", "subscription"]
    key: str = Field(description="The message key: challenge_id or company_id.")
    version: int | None = Field(description="Version of the published event (for a tombstone: the last known version).")
    tombstone: bool = Field(default=False, description="True when a null value (erasure) was published.")
    published: bool = Field(
        default=True, description="False when nothing needed publishing (closing a closed challenge)."
    )
    topic: str
    partition: int
    offset: int


class Problem(BaseModel):
    detail: str


__all__ = ["Accepted", "ChallengeRequest", "CompanyProfileRequest", "Problem", "SubscriptionRequest"]
