"""Finnish->English and Swedish->English word glosses, read from the installed FreeDict dictionaries.

The dictionaries are the Debian packages `dict-freedict-fin-eng` (FreeDict/WikDict, built from Wiktionary,
CC BY-SA 3.0, about 38,600 headwords) and `dict-freedict-swe-eng` (FreeDict, GPL-2+, about 5,200
headwords), in dictd format under /usr/share/dictd. They are read at run time from the installed package,
never copied into the project (FreeDict data, (c) its authors, see /usr/share/doc/dict-freedict-*/).

Only the first sense of each headword is kept, and of it the first `TRANSLATIONS` translations: a crude,
general word gloss that is not fitted to any text. Loaded lazily, once per language, read-only afterwards.
A missing dictionary logs one warning and yields an empty lexicon (texts are then embedded without a gloss).
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

log = logging.getLogger(__name__)

DICT_DIR = Path("/usr/share/dictd")
DICTIONARIES = {"fi": "freedict-fin-eng", "sv": "freedict-swe-eng"}
PACKAGES = {"fi": "dict-freedict-fin-eng", "sv": "dict-freedict-swe-eng"}
TRANSLATIONS = 2
_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_SENSE_NUMBER = re.compile(r"^\d+\.\s*|\s+\d+\.$")
_MAX_WORDS = 3  # longer "translations" are explanations, not glosses


def _number(text: str) -> int:
    value = 0
    for ch in text:
        value = value * 64 + _B64[ch]
    return value


def first_sense(entry: str) -> tuple[str, ...]:
    """The first translations of a dictd entry ("hoito /hˈoito/ <n>\\ncare, treatment, nursing\\n...")."""
    lines = entry.split("\n")
    if len(lines) < 2:
        return ()
    sense = _SENSE_NUMBER.sub("", lines[1].strip())
    found: list[str] = []
    for item in sense.split(","):
        item = re.sub(r"\([^)]*\)", "", item).strip().lower()
        if item and len(item.split()) <= _MAX_WORDS and item not in found:
            found.append(item)
    return tuple(found[:TRANSLATIONS])


def read_dictd(index: Path, data: Path) -> dict[str, tuple[str, ...]]:
    """Headword (lower-cased) -> first-sense translations, from a dictd .index and .dict.dz pair."""
    with gzip.open(data) as stream:  # dictzip is gzip with a random-access table: gzip reads it whole
        raw = stream.read()
    lexicon: dict[str, tuple[str, ...]] = {}
    for line in index.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or fields[0].startswith("00database"):
            continue
        word = fields[0].lower()
        if word in lexicon:  # homographs: the first entry is the main sense
            continue
        offset, length = _number(fields[1]), _number(fields[2])
        translations = first_sense(raw[offset : offset + length].decode("utf-8", errors="replace"))
        if translations:
            lexicon[word] = translations
    return lexicon


@lru_cache(maxsize=2)
def lexicon(language: str, directory: Path = DICT_DIR) -> Mapping[str, tuple[str, ...]]:
    """The read-only gloss table of `language` ("fi" or "sv"); empty, with one logged warning, when missing."""
    name = DICTIONARIES.get(language)
    if name is None:
        return MappingProxyType({})
    index, data = directory / f"{name}.index", directory / f"{name}.dict.dz"
    if not index.exists() or not data.exists():
        log.warning(
            "%s-English dictionary not found at %s: %s texts are embedded without an English gloss; install "
            "Debian %s (make system-deps)",
            language,
            index,
            language,
            PACKAGES[language],
        )
        return MappingProxyType({})
    return MappingProxyType(read_dictd(index, data))


__all__ = ["DICT_DIR", "PACKAGES", "first_sense", "lexicon", "read_dictd"]
