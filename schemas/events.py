"""Event contracts: the messages on the `challenges`, `companies` and `matches` topics.

Every message is UTF-8 JSON. Producers may add fields we do not know: they are accepted and
ignored (so a platform can send richer records without waiting for us), but every known field
is validated strictly. A null value (tombstone) on `challenges`/`companies` deletes the entity.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from schemas.ytunnus import validate_business_id

MAX_TITLE_CHARS = 300
MAX_TEXT_CHARS = 8000
MAX_LIST_ITEMS = 50
MAX_ITEM_CHARS = 200


class City(str, Enum):
    """The six cities of the Six City Strategy."""

    HELSINKI = "Helsinki"
    ESPOO = "Espoo"
    TAMPERE = "Tampere"
    VANTAA = "Vantaa"
    OULU = "Oulu"
    TURKU = "Turku"


Language = Literal["fi", "sv", "en"]
LanguageCode = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2,3}$")]


def _reject_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain text, not only whitespace")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_reject_blank)]
Title = Annotated[Text, StringConstraints(max_length=MAX_TITLE_CHARS)]
LongText = Annotated[Text, StringConstraints(max_length=MAX_TEXT_CHARS)]
Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ITEM_CHARS)]
# challenge and company ids, everywhere (events, API paths, token owners): the one definition
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
ID_MAX_LENGTH = 128
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)
]


def is_identifier(value: str) -> bool:
    """Whether `value` is a valid challenge or company id exactly as given (no whitespace stripped)."""
    return len(value) <= ID_MAX_LENGTH and re.fullmatch(ID_PATTERN, value) is not None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, use_enum_values=True)


def _normalise_tags(tags: list[str]) -> list[str]:
    """Lower-case, de-duplicated, in first-seen order: tags come from free-form CMS fields."""
    seen: dict[str, None] = {}
    for tag in tags:
        seen.setdefault(" ".join(tag.lower().split()), None)
    return list(seen)


Tags = Annotated[list[Item], AfterValidator(_normalise_tags)]


class Challenge(_Event):
    """A problem a city wants piloted or co-created. Topic `challenges`, key = challenge_id."""

    challenge_id: Identifier
    version: int = Field(ge=1, description="Increases with every change; lower versions are ignored.")
    city: City
    title: Title
    description: LongText
    language: Language | None = Field(default=None, description="Language of title and description.")
    tags: Tags = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    status: Literal["open", "closed"] = "open"
    deadline: date | None = Field(default=None, description="Last day to respond (ISO date).")
    budget_eur: float | None = Field(default=None, ge=0)

    @property
    def key(self) -> str:
        return self.challenge_id


class CompanyProfile(_Event):
    """A company's profile. Topic `companies`, key = company_id."""

    company_id: Identifier
    version: int = Field(ge=1, description="Increases with every change; lower versions are ignored.")
    name: Title
    business_id: Annotated[str, AfterValidator(validate_business_id)] = Field(
        description="Finnish Y-tunnus, e.g. 2617416-4; the check digit is validated."
    )
    description: LongText
    offerings: list[Item] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    tags: Tags = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    cities_of_interest: list[City] = Field(
        default_factory=list, description="Cities the company wants to work with; empty means all six."
    )
    employees: int | None = Field(default=None, ge=0)
    languages: list[LanguageCode] = Field(
        default_factory=list,
        max_length=MAX_LIST_ITEMS,
        description="ISO 639-1 codes of the languages the company works in.",
    )
    status: Literal["active", "withdrawn"] = "active"

    @property
    def key(self) -> str:
        return self.company_id


# challenge: the city's shortlist (top k) of a challenge; company: a company's top open challenges after its
# profile changed; alert: a subscribed company whose score reaches its own threshold, outside the shortlist
Trigger = Literal["challenge", "company", "alert"]


def match_id_for(challenge_id: str, challenge_version: int, company_id: str, company_version: int) -> str:
    """Deterministic ID of one (challenge version, company version) pair, for downstream de-duplication.

    The trigger is not part of it: the same pair reached from either side is the same match.
    """
    raw = f"{challenge_id}\x1f{challenge_version}\x1f{company_id}\x1f{company_version}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class MatchResult(_Event):
    """One ranked pairing. Topic `matches`, key = company_id (so a company's matches stay in order)."""

    match_id: str
    challenge_id: str
    company_id: str
    challenge_version: int = Field(ge=1)
    company_version: int = Field(ge=1)
    rank: int = Field(
        ge=1,
        description="Position in the trigger's list: among companies or among challenges; for an alert, "
        "top k + its position among the alerts sent with it (alerts are not ranked globally: compare scores).",
    )
    score: float = Field(ge=0.0, le=1.0)
    components: dict[str, float] = Field(description="Per-signal scores that make up the score.")
    reasons: list[str] = Field(description="Short human-readable reasons.")
    trigger: Trigger
    model: str = Field(description="Embedding model that produced the dense signal.")
    produced_at: datetime

    @classmethod
    def create(cls, **fields: Any) -> MatchResult:
        """Build a result, deriving match_id and stamping produced_at (UTC)."""
        fields.setdefault(
            "match_id",
            match_id_for(
                str(fields["challenge_id"]),
                int(fields["challenge_version"]),
                str(fields["company_id"]),
                int(fields["company_version"]),
            ),
        )
        fields.setdefault("produced_at", datetime.now(UTC))
        return cls(**fields)
