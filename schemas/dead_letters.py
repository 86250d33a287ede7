"""The dead-letter record: an input message the worker could not accept, and why.

Topic `dead-letters`, key = the source message's key. Written by the worker (services/kafka/codec.py),
read by the monitor and by platform operators in any language, hence a published contract.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.events import _Event


class DeadLetter(_Event):
    """A message of `challenges` or `companies` that was refused, with where it was and why."""

    source_topic: str = Field(description="The topic the message was read from.")
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key: str | None = Field(description="The message key: UTF-8 text, base64 when it is not UTF-8, or null.")
    reason: str = Field(description="Why it was refused, in words a platform developer understands.")
    category: str = Field(description="A short label for metrics, e.g. `not-json`, `missing-field`, `invalid-city`.")
    seen_at: datetime = Field(description="When the worker refused it (UTC).")
    value: str | None = Field(description="The message value: UTF-8 text, base64 (see value_encoding), or null.")
    value_encoding: Literal["utf-8", "base64", "null"] = Field(
        description="`utf-8`: value is the text; `base64`: the value was not UTF-8; `null`: a null value (tombstone)."
    )
