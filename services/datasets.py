"""Reading data sets from files: JSONL events and the labelled evaluation sets of `matchmaker eval`.

The file side of the offline commands. `matcher` is a pure library that takes objects, so the
reading lives here, at the front door, and the same reader serves the CLI, the Python SDK
(`publish_file`), the benchmarks and the tests. Deliberately light: pydantic and the schemas only.

A labelled set is a directory holding

- ``challenges.jsonl`` and ``companies.jsonl``: events in the shape of the contracts;
- ``qrels.tsv``: header ``challenge_id, company_id, relevance`` with relevance 1 (partial) to 3 (excellent);
  pairs not listed are not relevant;
- optionally ``city_excluded.tsv`` (header ``challenge_id, company_id``): pairs whose company excluded
  the challenge's city and that must therefore never appear in a top list.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from schemas import Challenge, CompanyProfile
from services.errors import InvalidInputError

if TYPE_CHECKING:  # the matcher (numpy, scikit-learn) is imported only when a set is evaluated
    from matcher.evaluate import LabelledSet

Model = TypeVar("Model", bound=BaseModel)


def load_jsonl(path: str | Path, model: type[Model]) -> list[Model]:
    """Read one validated event per non-empty line; a bad line raises InvalidInputError naming its line."""
    items: list[Model] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                items.append(model.model_validate(json.loads(line)))
            except (ValueError, TypeError) as error:
                raise InvalidInputError(f"{path}:{number}: {error}") from error
    return items


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Judgements: challenge id -> company id -> relevance (only relevances above 0 are kept)."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            try:
                relevance = int(row["relevance"])
            except (KeyError, TypeError, ValueError) as error:
                raise InvalidInputError(f"{path}: a row without an integer relevance: {row}") from error
            if relevance > 0:
                qrels.setdefault(row["challenge_id"].strip(), {})[row["company_id"].strip()] = relevance
    return qrels


def load_pairs(path: str | Path) -> set[tuple[str, str]]:
    """(challenge id, company id) pairs of a two-column TSV; no file means no pairs."""
    path = Path(path)
    if not path.exists():
        return set()
    with open(path, encoding="utf-8", newline="") as handle:
        return {
            (row["challenge_id"].strip(), row["company_id"].strip()) for row in csv.DictReader(handle, delimiter="\t")
        }


def load_labelled_set(directory: str | Path) -> LabelledSet:
    """The labelled set in `directory`, ready for `matcher.evaluate.evaluate`."""
    from matcher.evaluate import LabelledSet

    directory = Path(directory)
    return LabelledSet(
        name=str(directory),
        challenges=load_jsonl(directory / "challenges.jsonl", Challenge),
        companies=load_jsonl(directory / "companies.jsonl", CompanyProfile),
        qrels=load_qrels(directory / "qrels.tsv"),
        city_excluded=load_pairs(directory / "city_excluded.tsv"),
    )


__all__ = ["load_jsonl", "load_labelled_set", "load_pairs", "load_qrels"]
