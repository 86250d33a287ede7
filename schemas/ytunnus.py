"""Finnish business ID (Y-tunnus) validation.

A Y-tunnus is seven digits, a hyphen and a check digit. The check digit is computed with the
weights 7, 9, 10, 5, 8, 4, 2 modulo 11 (remainder 0 gives 0, remainder 1 is never issued,
otherwise 11 - remainder), as the Finnish Patent and Registration Office specifies.
"""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
_FORMAT = re.compile(r"^(\d{7})-(\d)$")


def check_digit(first_seven: str) -> int | None:
    """The check digit for seven digits, or None when no valid ID has these digits."""
    remainder = sum(int(d) * w for d, w in zip(first_seven, _WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None
    return 11 - remainder


def validate_business_id(value: str) -> str:
    """Return the ID unchanged when valid; raise ValueError saying what is wrong otherwise."""
    match = _FORMAT.match(value)
    if match is None:
        raise ValueError("business_id must look like 1234567-8 (seven digits, hyphen, check digit)")
    expected = check_digit(match.group(1))
    if expected is None:
        raise ValueError(f"business_id {value} is not a valid Y-tunnus (no check digit exists for it)")
    if expected != int(match.group(2)):
        raise ValueError(f"business_id {value} has a wrong check digit (expected {expected})")
    return value
