"""Language identification (Finnish, Swedish, English) and function-word lists, no model needed.

Challenges carry a `language` field; company profiles do not (their `languages` list says which
languages the company works in, not which one the profile is written in), so the matcher guesses the
language of a text from function words and letters typical of each language. On a few sentences of
text this is reliable; on a few words it falls back to English.
"""

from __future__ import annotations

import regex

TOKEN = regex.compile(r"\p{L}[\p{L}\p{M}\p{N}]*", regex.UNICODE)

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """a about above after again against all also am an and any are as at be because been before being
        below between both but by can could did do does doing down during each every few for from further had
        has have having he her here hers him his how however i if in into is it its itself just may might more
        most must no nor not now of off on once only or other our ours out over own per same she should so
        some such than that the their theirs them then there these they this those through to too under until
        up us very via was we were what when where which while who whom why will with within without would
        you your yours one two three four five six many much well able like want wants need needs use used
        using also including include includes e.g etc""".split()
    ),
    "fi": frozenset(
        """ja tai sekä että eli mutta vaan kuin kun jos jotta koska vaikka niin myös vain jo vielä sitten
        nyt aina usein ei en et emme ette eivät ole on ovat oli olivat olla ollut olleet olisi ovat olemme
        se sen sitä siinä siitä siihen ne niiden niitä niissä niistä niihin he heidän heitä hän hänen häntä
        me meidän meitä te teidän tämä tämän tätä tässä tästä tähän nämä näiden näitä noin tuo tuon ja joka
        jonka jota jossa josta johon jotka joiden joita joissa joista joihin mikä minkä mitä missä mistä mihin
        mitkä miten miksi kuka ketkä kanssa ilman mukaan kautta aikana jälkeen ennen yli alle asti saakka
        lisäksi esimerkiksi mm yhä kuitenkin sekä eri muun muiden muita moni monta monet kaikki kaikkien
        jokainen joku jotain itse oma oman omat omien voi voivat voidaan tulee tulisi pitää täytyy halutaan
        haluamme etsimme ovat vuoden vuonna myös noin yhdessä""".split()
    ),
    "sv": frozenset(
        """och eller samt att men utan som när om för så också bara redan ännu sedan nu alltid ofta inte ej
        är var vara varit blir blev bli har hade haft ska skall skulle kan kunde måste får fick vill ville
        den det de dem denna detta dessa deras dess hans hennes han hon vi ni jag du oss er min mitt mina
        din ditt dina sin sitt sina en ett i på av till från med vid över under efter före mellan genom
        hos mot kring inom utom vilken vilket vilka vars där dit här hit hur varför vad vem också t.ex
        till exempel alla allt andra annan annat många mycket flera några någon något varje själv egen eget
        egna""".split()
    ),
}

_MARKERS = {
    # letters and endings much more frequent in one language than the others
    "fi": regex.compile(r"(?:ää|öö|yy|ssa\b|ssä\b|sta\b|stä\b|lla\b|llä\b|lle\b|nen\b|ksi\b|uu|ii|aa)"),
    "sv": regex.compile(r"(?:å|\boch\b|\batt\b|\bför\b|\bsom\b|tion\b|\bmed\b|\bav\b|skap\b|ning\b|ningar\b)"),
}


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters, then letters or digits)."""
    return TOKEN.findall(text.lower())


def detect_language(text: str) -> str:
    """'fi', 'sv' or 'en': the language whose function words (plus typical letter patterns) dominate."""
    words = tokens(text)
    if not words:
        return "en"
    scores: dict[str, float] = {lang: sum(1 for w in words if w in stop) for lang, stop in STOPWORDS.items()}
    lowered = text.lower()
    # markers only break near ties and help on short texts; function words decide long ones
    scores["fi"] += 0.25 * len(_MARKERS["fi"].findall(lowered))
    scores["sv"] += 0.25 * len(_MARKERS["sv"].findall(lowered))
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] > 0 else "en"


LANGUAGE_NAMES = {"fi": "Finnish", "sv": "Swedish", "en": "English"}

__all__ = ["LANGUAGE_NAMES", "STOPWORDS", "detect_language", "tokens"]
