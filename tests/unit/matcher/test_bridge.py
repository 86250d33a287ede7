"""The language bridge: Finnish lemmas and compound parts, Swedish stems, FreeDict glosses, missing resources.

Voikko and FreeDict are Debian packages (`make system-deps` installs them); without them these tests skip
and say which package is missing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from matcher import bridge, lexicon, morphology

needs_voikko = pytest.mark.skipif(
    morphology.voikko() is None, reason="Voikko missing: Debian voikko-fi + libvoikko1, PyPI libvoikko"
)
needs_fin_eng = pytest.mark.skipif(
    not (lexicon.DICT_DIR / "freedict-fin-eng.index").exists(), reason="FreeDict missing: Debian dict-freedict-fin-eng"
)
needs_swe_eng = pytest.mark.skipif(
    not (lexicon.DICT_DIR / "freedict-swe-eng.index").exists(), reason="FreeDict missing: Debian dict-freedict-swe-eng"
)


@needs_voikko
def test_finnish_compounds_split_into_their_parts():
    assert morphology.analyse("nuorisotyö", "fi") == morphology.Analysis("nuorisotyö", ("nuoriso", "työ"))
    assert morphology.analyse("asukastilaisuuksissa", "fi").parts == ("asukas", "tilaisuus")


@needs_voikko
def test_inflected_finnish_forms_map_to_their_lemma():
    assert {morphology.analyse(w, "fi").lemma for w in ["koulu", "koulussa", "kouluihin", "koulujen"]} == {"koulu"}
    assert morphology.analyse("jätehuollon", "fi").lemma == "jätehuolto"


@needs_voikko
def test_finnish_texts_share_terms_across_inflection_and_compounding():
    one = {t.key for t in bridge.terms("Nuorisotyön tiloissa", "fi")}
    other = {t.key for t in bridge.terms("nuoriso ja työ tila", "fi")}
    assert {"fi:nuoriso", "fi:työ", "fi:tila"} <= one & other


@needs_voikko
@needs_fin_eng
def test_finnish_word_glossed_in_english():
    assert bridge.word("nuorisolle", "fi").english[0] == "youth"
    assert "youth" in bridge.english_gloss("Nuorisotyötä kouluissa", "fi")
    # a compound missing from the dictionary is glossed through its parts
    assert bridge.word("jätehuollon", "fi").english == ("garbage waste", "care")


def test_swedish_words_reduce_to_one_stem():
    assert morphology.analyse("lösningar", "sv").lemma == morphology.analyse("lösningen", "sv").lemma == "lösning"


@needs_swe_eng
def test_swedish_word_glossed_through_its_stem():
    assert bridge.word("skolor", "sv").english[0] == "school"


def test_missing_dictionary_is_logged_and_yields_no_gloss(tmp_path: Path, caplog):
    lexicon.lexicon.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="matcher.lexicon"):
            assert len(lexicon.lexicon("fi", tmp_path)) == 0
        assert "dict-freedict-fin-eng" in caplog.text and "make system-deps" in caplog.text
        assert len(caplog.records) == 1 and "\n" not in caplog.records[0].getMessage()
    finally:
        lexicon.lexicon.cache_clear()


def test_missing_voikko_falls_back_to_stems_with_a_warning(monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_voikko(name, *args, **kwargs):
        if name == "libvoikko":
            raise ImportError("No module named 'libvoikko'")
        return real_import(name, *args, **kwargs)

    morphology.voikko.cache_clear()
    morphology.analyse_finnish.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_voikko)
    try:
        with caplog.at_level(logging.WARNING, logger="matcher.morphology"):
            analysis = morphology.analyse("kouluissa", "fi")
        assert analysis.parts == () and analysis.lemma == morphology.stem("kouluissa", "fi")
        assert "voikko-fi" in caplog.text and "make system-deps" in caplog.text
    finally:
        monkeypatch.undo()
        morphology.voikko.cache_clear()
        morphology.analyse_finnish.cache_clear()


def test_dictd_entry_first_sense():
    assert lexicon.first_sense("tila /tˈila/ <n>\n1. farm, stead\nkiinteistö\n2. space\n") == ("farm", "stead")
    assert lexicon.first_sense("fantasi /fˈantasˌiː/\nfantasy\n") == ("fantasy",)
