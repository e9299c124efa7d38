"""Language identification on clear French and English posts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.text.langid import detect_lang
from streams.text.sentiment import detect_lang as reexported


@pytest.mark.parametrize(
    "text",
    [
        "Je ne comprends pas pourquoi le service client ne répond jamais",
        "C'est une honte, la livraison est encore en retard",
        "Merci pour votre aide, tout est réglé maintenant",
        "Génial !",
        "Les éoliennes à côté de chez moi ne tournent pas depuis 5 jours http",
    ],
)
def test_french(text: str) -> None:
    assert detect_lang(text) == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "I don't understand why customer service never answers",
        "This is a disgrace, the delivery is late again",
        "Thanks for your help, everything is fixed now",
        "What a great day at the beach with my friends",
        "@user the DC comics site has Batman 44 releases on the 9th but its out now?",
    ],
)
def test_english(text: str) -> None:
    assert detect_lang(text) == "en"


@pytest.mark.parametrize("text", ["", "12345 !!!", "😀😀", "#hashtag @user http"])
def test_undetermined(text: str) -> None:
    assert detect_lang(text) == "und"


@given(st.text(max_size=200))
def test_always_one_of_three_codes(text: str) -> None:
    assert detect_lang(text) in ("fr", "en", "und")


def test_sentiment_reexports_detect_lang() -> None:
    assert reexported is detect_lang
