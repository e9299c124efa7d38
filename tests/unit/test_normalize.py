"""Unit tests for streams.text.normalize."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.text.normalize import (
    extract_hashtags,
    extract_mentions,
    extract_urls,
    fold,
    fold_tag,
    strip_urls,
    tokens,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Société Générale", "societe generale"),
        ("ÉCOLE", "ecole"),
        ("SOCIETE GÉNÉRALE", "societe generale"),
        ("Grève à la SNCF, où est le TGV ?", "greve a la sncf, ou est le tgv ?"),
        ("Straße", "strasse"),
        ("cœur ŒUVRE Æsir", "coeur oeuvre aesir"),
        ("Łódź Øresund", "lodz oresund"),
        ("ﬁnance ＳＧ", "finance sg"),  # compatibility forms: ligature, full-width
        ("Socie\u0301te\u0301", "societe"),  # already decomposed input
        ("Hello World", "hello world"),
    ],
)
def test_fold_examples(raw: str, folded: str) -> None:
    assert fold(raw) == folded


@pytest.mark.parametrize(
    "text",
    ["東京 テスト が ぱ", "한국어", "नमस्ते", "مَرْحَبًا", "Москва", "😡👍🏽 1️⃣ 👨‍👩‍👧"],
)
def test_fold_keeps_non_latin_scripts_and_emoji(text: str) -> None:
    assert fold(text) == unicodedata.normalize("NFC", text).casefold()


def test_fold_strips_greek_and_cyrillic_accents_but_keeps_letters() -> None:
    assert fold("Αθήνα") == "αθηνα"
    assert fold("Ёлка") == "елка"


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(st.text(alphabet=st.characters(codec="latin-1")))
def test_fold_leaves_no_latin_diacritic(text: str) -> None:
    folded = unicodedata.normalize("NFD", fold(text))
    assert not any("\u0300" <= ch <= "\u036f" for ch in folded)


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_fold_ascii_is_casefold(text: str) -> None:
    assert fold(text) == text.casefold()


def test_fold_tag() -> None:
    assert fold_tag("#BecauseWeLoveSG") == "becauseweloveSG".casefold()
    assert fold_tag("#becauseweloveSG") == fold_tag("#BecauseWeLoveSG")
    assert fold_tag("@SG_Presse") == "sg_presse"
    assert fold_tag("#SociétéGénérale") == "societegenerale"
    assert fold_tag("SocieteGenerale") == "societegenerale"


def test_tokens_split_apostrophes_hyphens_and_punctuation() -> None:
    assert tokens(fold("L'entreprise Société-Générale, c’est 100% ok!")) == [
        "l",
        "entreprise",
        "societe",
        "generale",
        "c",
        "est",
        "100",
        "ok",
    ]
    assert tokens(fold("Grève 東京")) == ["greve", "東京"]


def test_extract_hashtags_original_case_dedup_and_unicode() -> None:
    text = "#BecauseWeLoveSG bravo #Société #becauseweloveSG #日本 #SG_2024 fin#pas #123 #_"
    assert extract_hashtags(text) == ("BecauseWeLoveSG", "Société", "日本", "SG_2024")


def test_extract_hashtags_ignores_urls_and_html_entities() -> None:
    text = "lien https://example.com/page#section www.sg.fr/#/x &#39; et #Vrai."
    assert extract_hashtags(text) == ("Vrai",)
    assert extract_hashtags("pas de tag") == ()


def test_extract_mentions() -> None:
    text = "Merci @SocieteGenerale et @SG_Presse, @societegenerale ! mail: moi@sg.fr"
    assert extract_mentions(text) == ("SocieteGenerale", "SG_Presse")
    assert extract_mentions("voir https://medium.com/@auteur/post") == ()


def test_extract_urls_strips_trailing_punctuation() -> None:
    text = "Voir https://t.co/AbC123. Et (www.sncf.com/fr) puis http://x.fr/a?b=1, fin"
    assert extract_urls(text) == ("https://t.co/AbC123", "www.sncf.com/fr", "http://x.fr/a?b=1")
    assert extract_urls("no link here") == ()


def test_strip_urls() -> None:
    assert strip_urls("a https://sg.fr/sg b") == "a   b"
    text = "aucun lien"
    assert strip_urls(text) is text
