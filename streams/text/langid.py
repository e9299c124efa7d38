"""Tiny French/English language identification from function words and accents."""

from __future__ import annotations

import re

from streams.text._sentiment_data import FOLD, stopwords

_WORD_RE = re.compile(r"(?:qu|[cdjlmnst])['’](?=\w)|[^\W\d_]+(?:['’][^\W\d_]+)?")
_FR_CHARS_RE = re.compile(r"[éèêàçùâîôœ]")


def detect_lang(text: str) -> str:
    """Return "fr", "en" or "und" (undetermined) for a short post."""
    en, fr = stopwords()
    low = text.lower()
    s_en = s_fr = 0
    for tok in _WORD_RE.findall(low if low.isascii() else low.translate(FOLD)):
        if tok in fr:
            s_fr += 1
        elif tok in en:
            s_en += 1
    if s_fr == s_en and _FR_CHARS_RE.search(low):
        s_fr += 1  # accents break ties: "Génial !" is French
    if s_fr > s_en:
        return "fr"
    if s_en > s_fr:
        return "en"
    return "und"
