"""Cross-lingual concepts: find the theme taxonomy's themes in Finnish, Swedish or English text.

The taxonomy (`matcher.glossary_data`: themes from the Six City Strategy and EuroVoc, general
dictionary words only) maps words of the three languages onto English theme labels. Finding themes is
one way a Finnish challenge and an English profile meet: "kotihoidon asiakkaat" and "home care
clients" both yield the theme *elderly care*. The labels are also appended to the text the dense model
embeds (see `matcher.text`), so the English-only MiniLM model sees English words for Finnish and
Swedish texts, and normalise tags ("ev charging" and "sähköautojen lataus" both become *electric
vehicles and charging*).

Matching is on lower-cased word tokens with prefix forms (for inflection) and in-word forms (for the
parts of compounds); everything is compiled once at import, so it is the same in every process.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from matcher.glossary_data import GLOSSARY
from matcher.language import tokens

_FORM_CLEAN = re.compile(r"[^\w\*\[\]\^ ]+", re.UNICODE)


@dataclass(frozen=True)
class Concept:
    index: int
    label: str
    weight: float
    domain: str
    word: re.Pattern[str] | None  # one-word forms, matched against a single token
    phrase: re.Pattern[str] | None  # several-word forms, matched against the normalised text
    # A literal piece of every several-word form: `phrase` can only match a text that contains one of
    # them (None: some form has no literal piece). A substring test skips most regex scans.
    needles: tuple[str, ...] | None = None


def _form_regex(form: str) -> tuple[bool, str]:
    """(is one word, regex) of a glossary form."""
    form = " ".join(_FORM_CLEAN.sub(" ", form.lower()).split())
    if not form.strip("* "):
        raise ValueError(f"empty glossary form {form!r}")
    lead, trail = form.startswith("*"), form.endswith("*")
    core = form.strip("*")
    body = "".join(r"\S*" if ch == "*" else (ch if ch in "[]^" or ch.isalnum() else re.escape(ch)) for ch in core)
    if " " not in core:
        return True, (r"\S*" if lead else "") + body + (r"\S*" if trail else "")
    return False, ("" if lead else "(?<= )") + (r"\S*" if lead else "") + body + (r"\S*" if trail else "(?= )")


def _needle(form: str) -> str:
    """The longest piece of a form that its regex matches verbatim (outside wildcards and [classes])."""
    core = " ".join(_FORM_CLEAN.sub(" ", form.lower()).split()).strip("*")
    return max(re.split(r"\[[^\]]*\]|[\*\[\]\^]", core), key=len)


def _parse(source: str) -> tuple[Concept, ...]:
    concepts: list[Concept] = []
    domain = "general"
    seen: set[str] = set()
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            domain = line[1:].strip()
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 5:
            raise ValueError(f"glossary line {number}: expected 5 fields, got {len(fields)}: {line[:60]}")
        label, weight, *forms = fields
        if label in seen:
            raise ValueError(f"glossary line {number}: duplicate concept {label!r}")
        seen.add(label)
        regexes = {_form_regex(f) for group in forms for f in group.split(",") if f.strip()}
        regexes.add(_form_regex(label))  # the label itself always counts
        words = sorted(r for one, r in regexes if one)
        phrases = sorted(r for one, r in regexes if not one)
        phrase_forms = [
            f for f in [label, *(f for g in forms for f in g.split(",") if f.strip())] if not _form_regex(f)[0]
        ]
        needles = tuple(sorted({_needle(f) for f in phrase_forms}))
        concepts.append(
            Concept(
                len(concepts),
                label,
                float(weight),
                domain,
                re.compile("(?:" + "|".join(words) + ")") if words else None,
                re.compile("|".join(phrases)) if phrases else None,
                needles if needles and all(needles) else None,
            )
        )
    return tuple(concepts)


CONCEPTS: tuple[Concept, ...] = _parse(GLOSSARY)
DOMAINS: tuple[str, ...] = tuple(dict.fromkeys(c.domain for c in CONCEPTS))
BY_LABEL = {c.label: c for c in CONCEPTS}


def normalised(text: str) -> str:
    """Lower-cased tokens separated by single spaces, with a space at each end (what forms match on)."""
    return " " + " ".join(tokens(text.lower())) + " "


_WORD_CONCEPTS = [c for c in CONCEPTS if c.word is not None]
_PHRASE_CONCEPTS = [c for c in CONCEPTS if c.phrase is not None]


@lru_cache(maxsize=200_000)
def token_concepts(token: str) -> tuple[int, ...]:
    """Concepts one token names. Cached: vocabulary repeats, so most tokens cost a dict look-up."""
    return tuple(c.index for c in _WORD_CONCEPTS if c.word.fullmatch(token))  # type: ignore[union-attr]


def concept_counts(text: str) -> dict[int, int]:
    """Concept index -> number of mentions in the text (one-word forms per token, plus phrases)."""
    prepared = normalised(text)
    counts: dict[int, int] = {}
    for token in prepared.split():
        for index in token_concepts(token):
            counts[index] = counts.get(index, 0) + 1
    for concept in _PHRASE_CONCEPTS:
        if concept.needles is not None and not any(n in prepared for n in concept.needles):
            continue  # no form can match: skip the regex scan (the result is the same)
        found = len(concept.phrase.findall(prepared))  # type: ignore[union-attr]
        if found:
            counts[concept.index] = counts.get(concept.index, 0) + found
    return counts


def explain(text: str) -> dict[str, list[str]]:
    """Concept label -> the words or phrases of the text that named it (for checking the glossary)."""
    prepared = normalised(text)
    found: dict[str, list[str]] = {}
    for token in prepared.split():
        for index in token_concepts(token):
            found.setdefault(CONCEPTS[index].label, []).append(token)
    for concept in _PHRASE_CONCEPTS:
        for hit in concept.phrase.findall(prepared):  # type: ignore[union-attr]
            found.setdefault(concept.label, []).append(hit)
    return found


@lru_cache(maxsize=8192)
def tag_concepts(tag: str) -> frozenset[int]:
    """The concepts a single tag names (a tag is short, so every hit counts)."""
    return frozenset(concept_counts(tag))


def salience(counts: dict[int, int]) -> dict[int, float]:
    """Weight of each concept in a text: specificity times a damped mention count."""
    return {i: CONCEPTS[i].weight * (1.0 + math.log(n)) for i, n in counts.items()}


def labels_by_salience(weights: dict[int, float], min_weight: float = 0.5, limit: int = 16) -> list[str]:
    """Labels of the specific concepts among `weights` (concept -> salience), most salient first."""
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return [CONCEPTS[i].label for i, _ in ranked if CONCEPTS[i].weight >= min_weight][:limit]


__all__ = [
    "BY_LABEL",
    "CONCEPTS",
    "DOMAINS",
    "Concept",
    "concept_counts",
    "labels_by_salience",
    "normalised",
    "salience",
    "tag_concepts",
]
