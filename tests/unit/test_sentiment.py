"""Behaviour of the sentiment scorer: rules, emphasis, emoji, hashtags, accents, range."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.text.sentiment import NEUTRAL_BAND, label, score


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@pytest.mark.parametrize(
    ("positive", "negated", "lang"),
    [
        ("I love this phone", "I do not love this phone", "en"),
        ("This service is good", "This service is never good", "en"),
        ("The update is great", "The update isn't great", "en"),
        ("J'aime ce téléphone", "Je n'aime pas ce téléphone", "fr"),
        ("Ce service est génial", "Ce service n'est pas génial", "fr"),
        ("J'aime ce film", "J'aime pas ce film", "fr"),
        ("Je suis très content", "Je ne suis plus très content", "fr"),
        ("Le service est super", "Le service est jamais super", "fr"),
    ],
)
def test_negation_flips_polarity(positive: str, negated: str, lang: str) -> None:
    assert score(positive, lang) > NEUTRAL_BAND
    assert score(negated, lang) < score(positive, lang) - 0.3
    assert label(score(negated, lang)) != "positive"


def test_negating_a_negative_word_lifts_the_score() -> None:
    assert score("c'est pas nul", "fr") > score("c'est nul", "fr") + 0.3
    assert score("not bad at all", "en") > score("bad", "en") + 0.3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("j'adore", "positive"),
        ("J’adore ce resto", "positive"),
        ("c'est nul", "negative"),
        ("C’est nul", "negative"),
        ("je n'aime pas du tout", "negative"),
        ("quelle arnaque, c'est une honte", "negative"),
        ("Service client au top, merci !", "positive"),
    ],
)
def test_french_elisions_and_words(text: str, expected: str) -> None:
    assert label(score(text, "fr")) == expected


@pytest.mark.parametrize(
    ("plain", "emphatic", "lang"),
    [
        ("this is good", "this is very good", "en"),
        ("this is good", "this is GOOD", "en"),
        ("this is good", "this is good!!!", "en"),
        ("this is bad", "this is extremely bad", "en"),
        ("this is bad", "this is BAD!!!", "en"),
        ("c'est bon", "c'est très bon", "fr"),
        ("c'est nul", "c'est vraiment nul !!!", "fr"),
    ],
)
def test_intensifiers_caps_and_exclamations_increase_magnitude(
    plain: str, emphatic: str, lang: str
) -> None:
    assert abs(score(emphatic, lang)) > abs(score(plain, lang))
    assert (score(emphatic, lang) > 0) == (score(plain, lang) > 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new phone 😍", "positive"),
        ("new phone 😡", "negative"),
        ("nouveau forfait 👍", "positive"),
        ("nouveau forfait 👎", "negative"),
        ("my order arrived :)", "positive"),
        ("my order arrived :-(", "negative"),
        ("livraison reçue <3", "positive"),
    ],
)
def test_emoji_and_emoticons(text: str, expected: str) -> None:
    assert label(score(text)) == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("#BoycottX", "en"),
        ("#BoycottX", "fr"),
        ("New prices announced #fail", "en"),
        ("Nouveaux tarifs annoncés #scandale", "fr"),
        ("Nouveaux tarifs annoncés #HonteA3Euros", "fr"),
        ("new prices #epicfail", "en"),
    ],
)
def test_hashtags_are_split_into_words(text: str, lang: str) -> None:
    assert label(score(text, lang)) == "negative"


def test_camel_case_hashtag_scores_like_its_words() -> None:
    assert label(score("#LoveThisBrand", "en")) == "positive"
    assert score("#BoycottX", "en") < score("#X", "en") - 0.2


@pytest.mark.parametrize(
    "text",
    [
        "C'est génial, je suis très déçu par la qualité du réseau",
        "Très décevant, le SAV est nul et la livraison a été une catastrophe",
        "Félicitations à l'équipe, un succès mérité ! Génial",
        "Les éoliennes sont une énergie prometteuse pour la région",
        "Ségolène Royal a franchi la limite, c'est inadmissible",
    ],
)
def test_accent_stripping_changes_french_scores_little(text: str) -> None:
    assert abs(score(text, "fr") - score(_strip_accents(text), "fr")) < 0.05


_ACCENTED_WORDS = (
    "génial déçu très réussite élevé été télé écologie énergie qualité sécurité problème "
    "arrêt grève dégoûté café prêt où là ça à le la les un une pas bien nul"
)
_FRENCH_WORDS = st.sampled_from(str.split(_ACCENTED_WORDS))


@settings(max_examples=200, deadline=None)
@given(st.lists(_FRENCH_WORDS, min_size=1, max_size=15))
def test_accent_insensitivity_property(words: list[str]) -> None:
    text = " ".join(words)
    assert abs(score(text, "fr") - score(_strip_accents(text), "fr")) < 0.05


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300), st.sampled_from([None, "en", "fr", "de", "", "FR-fr"]))
def test_score_is_always_in_range(text: str, lang: str | None) -> None:
    s = score(text, lang)
    assert -1.0 <= s <= 1.0
    assert label(s) in ("negative", "neutral", "positive")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=50).map(lambda s: s + "\\u2019"))
def test_escaped_unicode_never_breaks_scoring(text: str) -> None:
    assert -1.0 <= score(text) <= 1.0


def test_neutral_text_stays_neutral() -> None:
    assert label(score("The meeting is at 3pm in room 204", "en")) == "neutral"
    assert label(score("La réunion est à 15h dans la salle 204", "fr")) == "neutral"


def test_label_thresholds() -> None:
    assert label(NEUTRAL_BAND) == "positive"
    assert label(-NEUTRAL_BAND) == "negative"
    assert label(0.0) == "neutral"
    assert label(NEUTRAL_BAND * 0.99) == "neutral"


def test_language_is_detected_when_not_given() -> None:
    assert score("je n'aime pas ce service", None) == score("je n'aime pas ce service", "fr")
    assert score("I do not like this service", None) == score("I do not like this service", "en")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*str.split(_ACCENTED_WORDS), "😀", "😡", "👍", "❤️", "🔥",
                                 "‘", "`", "´", "ÉTÉ", "Ça"]), min_size=1, max_size=20))
def test_a_text_with_emoji_folds_its_accents_like_a_latin1_one(words: list[str]) -> None:
    from streams.text._sentiment_core import _FOLD_RE, _folded
    from streams.text._sentiment_data import FOLD

    low = " ".join(words).lower()
    assert _FOLD_RE.sub(_folded, low) == low.translate(FOLD)
    # the emoji keep their own weight: removing the accents changes nothing else
    assert abs(score(low, "fr") - score(_strip_accents(low), "fr")) < 0.05


def test_pair_weights_are_summed_with_the_tokens() -> None:
    """A model may carry weights for adjacent tokens (tuple keys); the scorer adds them."""
    from dataclasses import replace

    from streams.text._sentiment_core import analyse, feature_keys
    from streams.text._sentiment_data import tables

    assert list(feature_keys(["not", "bad", "at"])) == [
        "not", "bad", "at", ("not", "bad"), ("bad", "at")]
    t = tables("en")
    _, plain = analyse("not bad at all", t)
    paired = replace(t, weights={**t.weights, ("not", "bad"): 2 + 3j}, bigrams=True)
    _, z = analyse("not bad at all", paired)
    assert z == plain + (2 + 3j)
    _, ignored = analyse("not bad at all", replace(paired, bigrams=False))
    assert ignored == plain


def test_shipped_model_says_what_it_was_trained_on() -> None:
    import json
    import os

    from streams.text._sentiment_data import DATA_DIR

    with open(os.path.join(DATA_DIR, "model.json"), encoding="utf-8") as f:
        sources = json.load(f)["sources"]
    assert sources["en"]["train"] == {"semeval_a_en": 49565}
    assert sources["en"]["rows"] + sources["en"]["removed_reported"] < 49565
    assert sources["fr"]["train"] == {"fr_umsab_train": 1829}
