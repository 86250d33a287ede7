"""The language bridge: Finnish and Swedish texts as lemmas, compound parts and English word glosses.

Built only from general, maintained resources (`matcher.morphology`: Voikko, Snowball; `matcher.lexicon`:
FreeDict), nothing fitted to evaluation texts. It serves three purposes:

- `english_gloss`: a word-by-word English gloss of a Finnish or Swedish text (first sense of each lemma,
  the compound parts when the whole word is not in the dictionary), which the English-only dense model
  can read (`matcher.text`);
- `terms`: the text as a bag of language-tagged lemma keys ("fi:jätehuolto", "fi:jäte", "fi:huolto") plus
  English keys (Snowball stems of the glosses, "en:wast"), so Finnish<->Finnish and Swedish<->Swedish pairs
  meet on lemmas and compound parts, and Finnish/Swedish<->English pairs on the glosses (`matcher.features`
  hashes them into the `terms` signal);
- `Term.display`: which words bridged a pair ("jätehuolto → garbage waste"), for the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from matcher.language import STOPWORDS, tokens
from matcher.lexicon import lexicon
from matcher.morphology import analyse, split, stem

GLOSS_WORDS = 200  # MiniLM reads 256 word pieces; a longer gloss is cut anyway
PART_WEIGHT = 0.5  # a compound part says less about a text than the whole word


@dataclass(frozen=True)
class Term:
    """One key of a text's term bag: its weight and how to show it in a reason."""

    key: str
    weight: float
    display: str


@dataclass(frozen=True)
class Word:
    surface: str
    lemma: str
    parts: tuple[str, ...]
    english: tuple[str, ...]  # first-sense translations of the lemma (or of its parts), may be empty


def preload() -> None:
    """Load Voikko and the dictionaries now: a few seconds that a worker spends at start, not on its first event."""
    from matcher.morphology import voikko

    voikko()
    for language in ("fi", "sv"):
        lexicon(language)
    _stem_index("sv")


@lru_cache(maxsize=2)
def _stem_index(language: str) -> Mapping[str, str]:
    """Stem -> headword of the language's dictionary, so a stemmed (Swedish) word finds its headword."""
    table: dict[str, str] = {}
    for headword in lexicon(language):
        if " " not in headword:
            table.setdefault(stem(headword, language), headword)
    return table


def _lookup(word: str, language: str) -> tuple[str, ...]:
    table = lexicon(language)
    found = table.get(word)
    if found is None and language != "fi":
        headword = _stem_index(language).get(stem(word, language))
        found = table.get(headword) if headword else None
    return found or ()


@lru_cache(maxsize=200_000)
def word(surface: str, language: str) -> Word:
    """The lemma, compound parts and English gloss of one lower-cased content word."""
    analysis = analyse(surface, language)
    english = _lookup(surface, language) or _lookup(analysis.lemma, language)
    parts = analysis.parts
    if not parts and language in ("fi", "sv") and not english:
        parts = split(analysis.lemma, lambda w: bool(_lookup(w, language)))
    if not english and parts:
        english = tuple(g[0] for g in (_lookup(p, language) for p in parts) if g)
    return Word(surface, analysis.lemma, parts, english)


def content_words(text: str, language: str) -> list[Word]:
    """The text's content words (no function words of any of the three languages, no numbers)."""
    stop = STOPWORDS["en"] | STOPWORDS["fi"] | STOPWORDS["sv"]
    return [word(t, language) for t in tokens(text) if t not in stop and not t.isdigit() and len(t) > 1]


def english_gloss(text: str, language: str) -> str:
    """English words for a Finnish or Swedish text, word by word (words without a gloss are left out)."""
    if language not in ("fi", "sv"):
        return text
    glossed = [w.english[0] for w in content_words(text, language) if w.english]
    return " ".join(glossed[:GLOSS_WORDS])


def _english_keys(phrase: str) -> list[str]:
    return ["en:" + stem(t, "en") for t in tokens(phrase) if t not in STOPWORDS["en"] and len(t) > 1]


def terms(text: str, language: str) -> list[Term]:
    """The text's term keys, one entry per occurrence (features.py counts and weights them)."""
    out: list[Term] = []
    for w in content_words(text, language):
        if language == "en":
            out.append(Term("en:" + w.lemma, 1.0, w.surface))
            continue
        out.append(Term(f"{language}:{w.lemma}", 1.0, w.lemma))
        out.extend(Term(f"{language}:{p}", PART_WEIGHT, p) for p in w.parts)
        if w.english:
            shown = w.lemma if language == "fi" else w.surface  # a Swedish "lemma" is a stem: show the word
            display = f"{shown} → {w.english[0]}"
            keys = dict.fromkeys(k for g in w.english for k in _english_keys(g))
            out.extend(Term(k, 1.0 / len(keys), display) for k in keys)
    return out


__all__ = ["GLOSS_WORDS", "Term", "Word", "content_words", "english_gloss", "terms", "word"]
