"""Each signal, the fusion, and the absolute-score property the shards rely on."""

import numpy as np
import pytest

from matcher import features, scoring
from matcher.features import (
    challenge_features,
    company_features,
    lexical_vectors,
    tag_keys,
)
from matcher.glossary import BY_LABEL, concept_counts
from tests.support.factories import make_challenge, make_company

HOME_CARE_FI = make_challenge(
    "ch-fi",
    language="fi",
    title="Ikäihmisten ravitsemuksen seuranta kotihoidossa",
    description="Kotihoidon asiakkaiden vajaaravitsemus huomataan liian myöhään. Etsimme tapaa seurata ruokahalua.",
    tags=["kotihoito", "ravitsemus"],
)
HOME_CARE_EN = make_company(
    "co-care",
    description="We help home care nurses notice malnutrition in older people early by tracking appetite and meals.",
    tags=["home care", "nutrition"],
)
BUSES_EN = make_company(
    "co-bus",
    description="Passenger counters for buses and trams, with boarding data for public transport planners.",
    tags=["public transport", "passenger counting"],
)


def test_glossary_maps_finnish_swedish_and_english_onto_one_concept():
    elderly_care = BY_LABEL["elderly care"].index
    for text in ("kotihoidon asiakkaat", "hemvården i staden", "home care clients"):
        assert elderly_care in concept_counts(text), text


def test_lexical_is_stateless_and_a_cosine():
    a, b = lexical_vectors(["electric bus charging depot"]), lexical_vectors(["electric bus charging depot"])
    assert (a != b).nnz == 0  # same text, same vector, no fitting involved
    same = float(a.multiply(b).sum())
    other = float(a.multiply(lexical_vectors(["reading assessment for pupils"])).sum())
    assert same == pytest.approx(1.0, abs=1e-5)
    assert 0.0 <= other < 0.3


def test_frozen_idf_discounts_boilerplate():
    boiler = lexical_vectors(["the city invites companies to pilot a solution"])
    topic = lexical_vectors(["malnutrition screening by dietitians"])
    idf = features.frozen_idf()
    assert idf.shape == (features.N_FEATURES,)
    # a generic n-gram weighs less than a topical one
    assert idf[boiler.indices].mean() < idf[topic.indices].mean()


def test_concept_signal_crosses_languages():
    raw = scoring.raw_signals([HOME_CARE_FI, HOME_CARE_FI], [HOME_CARE_EN, BUSES_EN], np.zeros(2))
    assert raw["concepts"][0] > 0.4
    assert raw["concepts"][1] < 0.05


def test_tags_normalise_near_synonyms_and_translations():
    assert tag_keys(["ev charging"]) & tag_keys(["electric vehicle charging"])
    assert tag_keys(["kotihoito"]) == tag_keys(["home care"])
    assert not tag_keys(["home care"]) & tag_keys(["public transport"])
    raw = scoring.raw_signals([HOME_CARE_FI], [HOME_CARE_EN], np.zeros(1))
    assert raw["tags"][0] == pytest.approx(1.0)


@pytest.mark.parametrize("value", [-1.0, 0.0, 0.5, 1.0])
def test_fusion_is_bounded(value):
    raw = {name: np.full(3, value) for name in scoring.SIGNALS}
    raw["lexical"] = np.array([0.0, 5.0, -5.0])
    fused = scoring.fuse(raw)
    assert np.all((fused >= 0.0) & (fused <= 1.0))


def test_fusion_is_monotone_in_each_signal():
    low = {name: np.array([0.1]) for name in scoring.SIGNALS}
    for name in scoring.SIGNALS:
        high = {**low, name: np.array([0.9])}
        assert scoring.fuse(high)[0] >= scoring.fuse(low)[0]


def test_score_is_absolute_whatever_the_other_candidates():
    others = [BUSES_EN, make_company("co-x", description="Accounting software for restaurants.")]
    alone = scoring.score_pairs([HOME_CARE_FI], [HOME_CARE_EN], np.array([0.4]))
    crowd = scoring.score_pairs([HOME_CARE_FI] * 3, [*others, HOME_CARE_EN], np.array([0.9, 0.1, 0.4]))
    assert crowd.score[2] == alone.score[0]
    for name, values in alone.components.items():
        assert crowd.components[name][2] == values[0]


def test_components_and_reasons():
    scored = scoring.score_pairs([HOME_CARE_FI], [HOME_CARE_EN], np.array([0.5]))
    assert set(scored.components) == {"dense", "lexical", "terms", "concepts", "domains", "tags", "fused"}
    assert scored.components["fused"][0] == scored.score[0]
    components = {k: float(v[0]) for k, v in scored.components.items()}
    reasons = scoring.reasons_for(HOME_CARE_FI, HOME_CARE_EN, components)
    assert 1 <= len(reasons) <= 3
    assert reasons[0].startswith("shared concepts:") and "elderly care" in reasons[0]
    assert any(r.startswith("bridged Finnish → English") for r in reasons)


def test_features_are_cached_per_version():
    features.CACHE.clear()
    first = company_features(HOME_CARE_EN)
    assert company_features(HOME_CARE_EN) is first
    newer = make_company("co-care", version=2, description="Now we sell bicycles.")
    assert company_features(newer) is not first
    assert challenge_features(HOME_CARE_FI).language == "fi"
    assert first.language == "en"
