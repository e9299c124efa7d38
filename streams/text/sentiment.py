"""French/English sentiment of social posts: lexicon rules plus a small linear model.

`score(text, lang)` returns a float in [-1, 1]; `label(score)` maps it to
negative / neutral / positive with the thresholds used in evaluation (|s| >= 0.05).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from operator import mul

from streams.text._sentiment_core import analyse
from streams.text._sentiment_data import tables
from streams.text.langid import detect_lang

__all__ = ["NEUTRAL_BAND", "detect_lang", "label", "score"]

NEUTRAL_BAND = 0.05  # |score| below this is neutral (VADER's convention)
_SPREAD = 1.0 - NEUTRAL_BAND
_INSIDE = NEUTRAL_BAND * 0.98


def _lang(text: str, lang: str | None) -> str:
    code = (lang or "")[:2].lower()
    if code in ("en", "fr"):
        return code
    return detect_lang(text)


def score(text: str, lang: str | None = None) -> float:
    """Sentiment of one post in [-1, 1]; the language is detected when not given."""
    t = tables(lang if lang == "en" or lang == "fr" else _lang(text, lang))
    feats, z = analyse(text, t)
    if not t.trained:
        return feats[2]
    # complex * float, not float * complex: skips float's NotImplemented round trip
    z += t.bias + sum(map(mul, t.dense, feats), 0j)
    return from_logits(z.real, z.imag)


def from_logits(zn: float, zp: float, _exp: Callable[[float], float] = math.exp) -> float:
    """Map (negative, positive) logits relative to neutral to a score whose band gives argmax."""
    # max() and math.exp lookups cost a third of this function: plain comparisons instead
    m = zn if zn > zp else zp
    if m < 0.0:
        m = 0.0
    en = _exp(zn - m)
    ep = _exp(zp - m)
    e0 = _exp(-m)
    diff = (ep - en) / (en + ep + e0)
    if zp > 0.0 and zp >= zn:
        return NEUTRAL_BAND + _SPREAD * (diff if diff > 0.0 else 0.0)
    if zn > 0.0:
        return -NEUTRAL_BAND + _SPREAD * (diff if diff < 0.0 else 0.0)
    return _INSIDE * diff


def label(value: float) -> str:
    """negative / neutral / positive for a score, with the evaluation's neutral band."""
    if value >= NEUTRAL_BAND:
        return "positive"
    if value <= -NEUTRAL_BAND:
        return "negative"
    return "neutral"
