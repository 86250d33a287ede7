"""The text of each side that the dense model reads.

`challenge_text`/`company_text` are what the dense model embeds (the streaming worker calls them
too, so all text preparation lives here). The preparation is language-aware:

- an English text is embedded as written, followed by a line of English glossary concepts
  ("Concepts: ev charging, demand response."), which pulls near-synonyms onto one wording;
- a Finnish or Swedish text is embedded as its English word gloss (`matcher.bridge.english_gloss`:
  lemmas looked up in FreeDict, word by word) followed by its English concept line. all-MiniLM-L6-v2
  was trained on English: on Finnish words it mostly encodes "this is Finnish", so two unrelated
  Finnish texts look alike (cosine ~0.7) and a Finnish text looks unlike its English counterpart
  (~0.1). The gloss and the concepts are the part of such a text the model can read. When neither
  finds anything (no dictionary installed, no concept), the text is embedded as written.

The language is the challenge's `language` field, else guessed from the description.
"""

from __future__ import annotations

from matcher.bridge import english_gloss
from matcher.features import Features, challenge_features, company_features
from matcher.glossary import labels_by_salience
from schemas import Challenge, CompanyProfile

CONCEPT_LABELS = 12


def concepts_line(features: Features) -> str:
    """'Concepts: a, b, c.' with the most salient specific concepts (title/offerings and tags count twice).

    Read off the entity's cached features, so the worker finds an entity's concepts once for both the
    text it embeds and the signals it scores.
    """
    labels = labels_by_salience(features.concepts, limit=CONCEPT_LABELS)
    return ("Concepts: " + ", ".join(labels) + ".") if labels else ""


def _prepare(original: list[str], features: Features) -> str:
    concepts = concepts_line(features)
    if features.language != "en":
        gloss = english_gloss(" ".join(original), features.language)
        bridged = " ".join(p for p in [gloss + "." if gloss else "", concepts] if p)
        if bridged:
            return bridged
    return " ".join(p for p in [*original, concepts] if p)


def challenge_text(challenge: Challenge) -> str:
    parts = [challenge.title + ".", challenge.description]
    if challenge.tags:
        parts.append("Topics: " + ", ".join(challenge.tags) + ".")
    return _prepare(parts, challenge_features(challenge))


def company_text(company: CompanyProfile) -> str:
    parts = [company.description]
    if company.offerings:
        parts.append("Offerings: " + "; ".join(company.offerings) + ".")
    if company.tags:
        parts.append("Topics: " + ", ".join(company.tags) + ".")
    return _prepare(parts, company_features(company))
