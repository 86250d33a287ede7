"""Event contracts of the Six Cities Matchmaker (pydantic v2 models + exported JSON Schemas)."""

from schemas.events import (
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    Challenge,
    City,
    CompanyProfile,
    MatchResult,
    match_id_for,
)
from schemas.ytunnus import validate_business_id

CONTRACTS = {"challenge": Challenge, "company-profile": CompanyProfile, "match-result": MatchResult}

__all__ = [
    "CONTRACTS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "Challenge",
    "City",
    "CompanyProfile",
    "MatchResult",
    "match_id_for",
    "validate_business_id",
]
