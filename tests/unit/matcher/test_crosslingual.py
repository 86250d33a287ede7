"""Finnish and Swedish texts find the right English counterpart, and the other way round (real model)."""

from datetime import date

import pytest

from matcher import Ranker, challenge_text, company_text
from tests.support.factories import make_challenge, make_company

TODAY = date(2027, 1, 1)

COMPANIES_EN = [
    make_company(
        "co-nutrition",
        description="We help home care nurses spot malnutrition in older people living at "
        "home: a connected scale and a weekly appetite check alert the nurse when a client eats less.",
        tags=["home care", "nutrition", "seniors"],
    ),
    make_company(
        "co-counting",
        description="Door-mounted passenger counters for buses and trams deliver boarding "
        "and alighting figures per stop to public transport planners.",
        tags=["public transport", "sensors"],
    ),
    make_company(
        "co-reading",
        description="A reading-aloud app for primary school pupils: speech recognition "
        "assesses oral reading fluency and shows teachers who needs support.",
        tags=["edtech", "literacy"],
    ),
    make_company(
        "co-charging",
        description="Load management for electric vehicle chargers in housing companies "
        "and car parks, with per-user billing.",
        tags=["ev charging", "electric vehicles"],
    ),
]

CHALLENGES = {
    "co-nutrition": make_challenge(
        "ch-fi-nutrition",
        language="fi",
        city="Oulu",
        title="Ikäihmisten vajaaravitsemuksen tunnistaminen kotihoidossa",
        description="Kotihoidon asiakkaiden laihtuminen ja ruokahalun heikkeneminen huomataan usein liian myöhään. "
        "Etsimme ratkaisua, joka välittää tiedon syömisestä kotihoidon sairaanhoitajalle ajoissa.",
        tags=["kotihoito", "ravitsemus", "ikääntyneet"],
    ),
    "co-counting": make_challenge(
        "ch-sv-counting",
        language="sv",
        city="Turku",
        title="Tillförlitlig passagerarräkning i kollektivtrafiken",
        description="Vi vill veta hur många resenärer som stiger på och av bussarna vid varje hållplats, "
        "för att kunna planera tidtabeller och linjer bättre.",
        tags=["kollektivtrafik", "bussar"],
    ),
    "co-reading": make_challenge(
        "ch-fi-reading",
        language="fi",
        city="Espoo",
        title="Lukutaidon säännöllinen arviointi alakoulussa",
        description="Opettajat huomaavat lukemisen vaikeudet liian myöhään, koska oppilaan ääneen lukemisen "
        "arviointi vie paljon aikaa. Haemme työkalua alakoulun oppilaiden lukutaidon seurantaan.",
        tags=["lukutaito", "alakoulu"],
    ),
}


@pytest.fixture(scope="module")
def ranker(embedder):
    ranker = Ranker(embedder.dimension, top_k=4)
    for company, vector in zip(COMPANIES_EN, embedder.encode([company_text(c) for c in COMPANIES_EN]), strict=True):
        ranker.upsert_company(company, vector)
    return ranker


@pytest.mark.parametrize("expected", sorted(CHALLENGES))
def test_finnish_and_swedish_challenges_find_the_english_company(embedder, ranker, expected):
    challenge = CHALLENGES[expected]
    ranked = ranker.rank_companies(challenge, embedder.encode([challenge_text(challenge)])[0], TODAY)
    assert ranked[0].company_id == expected
    language = {"fi": "Finnish", "sv": "Swedish"}[challenge.language]
    assert any(r.startswith(f"bridged {language} → English") for r in ranked[0].reasons)


def test_english_challenge_finds_the_finnish_company(embedder):
    companies = [
        make_company(
            "co-fi-charging",
            description="Toimitamme taloyhtiöille sähköautojen latauspisteitä ja "
            "kuormanhallinnan, joka jakaa liittymän tehon autojen kesken.",
            tags=["sähköautojen lataus"],
        ),
        make_company(
            "co-fi-school",
            description="Teemme alakoulun oppilaille pelillisiä lukemisharjoituksia ja opettajille seurantanäkymän.",
            tags=["alakoulu", "lukutaito"],
        ),
        *COMPANIES_EN[:2],
    ]
    ranker = Ranker(embedder.dimension, top_k=4)
    for company, vector in zip(companies, embedder.encode([company_text(c) for c in companies]), strict=True):
        ranker.upsert_company(company, vector)
    challenge = make_challenge(
        title="Smart charging of electric cars in city housing",
        description="Residents of city rental housing need charge points for electric "
        "vehicles without expensive grid connection upgrades.",
        tags=["ev charging"],
    )
    ranked = ranker.rank_companies(challenge, embedder.encode([challenge_text(challenge)])[0], TODAY)
    assert ranked[0].company_id == "co-fi-charging"
    assert any(r.startswith("bridged English → Finnish: ") for r in ranked[0].reasons)  # names the words


def test_non_english_text_is_embedded_through_its_english_concepts():
    text = challenge_text(CHALLENGES["co-nutrition"])
    assert "Concepts:" in text and "elderly care" in text and "food and nutrition" in text
    english = company_text(COMPANIES_EN[0])
    assert english.startswith("We help home care nurses") and "Concepts:" in english
