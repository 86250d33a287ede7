"""Lemmas and compound parts of words: Voikko for Finnish, Snowball stems for Swedish and English.

Finnish inflects and compounds freely (`asukastilaisuuksissa` is *asukas* + *tilaisuus* in the inessive
plural), so neither surface words nor character n-grams meet across two texts that use different forms
of one word. Voikko (Debian `voikko-fi` + `libvoikko1`, Python binding PyPI `libvoikko`) gives the lemma
(BASEFORM) and the compound parts (WORDBASES). Swedish and English are reduced to Snowball stems (PyPI
`snowballstemmer`, BSD); Swedish compounds are split where both halves are known words (see `split`).

Resources are loaded lazily, once per process, and never change afterwards. Without Voikko the matcher
still runs: a warning is logged once and Finnish words fall back to Snowball stems (no compound parts).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from threading import Lock

log = logging.getLogger(__name__)

_WORDBASE = re.compile(r"\+?([^+(]*)\(([^)]*)\)")
_VOIKKO_LOCK = Lock()  # one libvoikko handle is not safe to share between threads
_SNOWBALL_LOCK = Lock()
MIN_PART = 3  # shorter compound parts ("s", "o") are linking letters and suffixes, not words


@dataclass(frozen=True)
class Analysis:
    """A word's lemma and, for a compound, the lemmas of its parts (empty for a simple word)."""

    lemma: str
    parts: tuple[str, ...] = ()


def _voikko_error() -> type[Exception]:
    try:
        from libvoikko import VoikkoException
    except ImportError:
        return OSError
    return VoikkoException


@lru_cache(maxsize=1)
def voikko():
    """The Finnish Voikko analyser, or None (logged once) when the library or its dictionary is missing."""
    try:
        import libvoikko

        return libvoikko.Voikko("fi")
    except (ImportError, OSError, _voikko_error()) as exc:  # no binding, no libvoikko.so, no dictionary
        log.warning(
            "Finnish morphology unavailable (%s): Finnish words fall back to Snowball stems without compound "
            "splitting; install Debian voikko-fi and libvoikko1 (make system-deps) and PyPI libvoikko",
            exc,
        )
        return None


@lru_cache(maxsize=4)
def _snowball(language: str):
    import snowballstemmer

    return snowballstemmer.stemmer(language)


_SNOWBALL_NAMES = {"fi": "finnish", "sv": "swedish", "en": "english"}


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """The Snowball stem of a lower-cased word."""
    with _SNOWBALL_LOCK:  # a Snowball stemmer object keeps its state between calls
        return _snowball(_SNOWBALL_NAMES[language]).stemWord(word)


def _parts_of(wordbases: str) -> tuple[str, ...]:
    """Compound parts from Voikko's WORDBASES ("+koti(koti)+hoi(hoitaa)+to(+to)" -> koti, hoito)."""
    components: list[list[str]] = []  # [surface, lemma]: a suffix joins the surface and voids the lemma
    for surface, base in _WORDBASE.findall(wordbases):
        if base.startswith("+") and components:
            components[-1] = [components[-1][0] + surface, ""]
        else:
            components.append([surface, "" if base.startswith("+") else base])
    parts = [lemma or surface for surface, lemma in components]
    return tuple(p.lower() for p in parts)


@lru_cache(maxsize=200_000)
def analyse_finnish(word: str) -> Analysis:
    """Lemma and compound parts of a lower-cased Finnish word (Snowball stem when Voikko does not know it)."""
    analyser = voikko()
    if analyser is None:
        return Analysis(stem(word, "fi"))
    with _VOIKKO_LOCK:
        found = analyser.analyze(word)
    if not found:
        return Analysis(word)
    first = found[0]
    lemma = (first.get("BASEFORM") or word).lower()
    parts = _parts_of(first.get("WORDBASES", ""))
    parts = tuple(p for p in parts if len(p) >= MIN_PART)
    return Analysis(lemma, parts if len(parts) > 1 else ())


def split(word: str, known: Callable[[str], bool], min_part: int = 4) -> tuple[str, ...]:
    """Two known words that make up `word` (longest head first, a linking -s- allowed), else ()."""
    for cut in range(len(word) - min_part, min_part - 1, -1):
        head, tail = word[:cut], word[cut:]
        if not known(tail):
            continue
        if known(head):
            return head, tail
        if head.endswith("s") and len(head) > min_part and known(head[:-1]):
            return head[:-1], tail
    return ()


def analyse(word: str, language: str) -> Analysis:
    """Lemma (Finnish) or stem (Swedish, English) of a lower-cased word, with compound parts for Finnish."""
    if language == "fi":
        return analyse_finnish(word)
    return Analysis(stem(word, language if language in _SNOWBALL_NAMES else "en"))


__all__ = ["Analysis", "analyse", "analyse_finnish", "split", "stem", "voikko"]
