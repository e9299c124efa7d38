"""Compiled sentiment data: lexicons, rule words and model weights, loaded once and read-only."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import Any

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "sentiment")

# Entry flags (bit set) carried by each known token.
NEG = 1  # forward negator: not, never, jamais, sans
NE = 2  # French "ne"/"n'": opens a negation that a following "pas" confirms
POSTNEG = 4  # French pas/jamais/rien: may also negate the word just before ("j'aime pas")
BOOST = 8  # intensifier or dampener (value in the entry's boost slot)
CONTRAST = 16  # but / mais: what follows weighs more
EMO = 32  # emoji or emoticon
PLUS = 64  # French "plus": a negator only after "ne"

# (flags, valence, boost) of a word that a rule or the lexicon knows.
Entry = tuple[int, float, float]

# Emoji and emoticons are rare in the training tweets, so the model cannot learn their weight;
# they act through the lexicon sums only, made stronger than a word: they are seldom ironic.
EMO_SCALE = 2.0

DENSE_NAMES = (
    "pos_sum", "neg_sum", "compound", "n_pos", "n_neg", "question", "url", "mention",
    "hashtags", "negations", "length",
)

# Accents and typographic apostrophes, folded once per text.
# One character for one, so that folded text keeps the original's offsets.
_ACCENTED, _PLAIN = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ", "aaaaaaceeeeiiiinooooouuuuyy"
BYTE_FOLD = bytes.maketrans(_ACCENTED.encode("latin-1"), _PLAIN.encode("latin-1"))
FOLD = str.maketrans("àáâãäåçèéêëìíîïñòóôõöùúûüýÿ’‘`´", "aaaaaaceeeeiiiinooooouuuuyy" + "'" * 4)


def fold(word: str) -> str:
    """Lower-case and strip accents the way lexicon keys were compiled."""
    low = word.lower()
    return low if low.isascii() else low.translate(FOLD)


@dataclass(frozen=True)
class Tables:
    """Everything one language's scorer needs, precomputed.

    Model weights are complex numbers, negative logit + 1j * positive logit (both relative
    to neutral), so that one C-level sum() adds both logits of all tokens.
    """

    lang: str
    rules: dict[str, Entry]
    weights: dict[str | tuple[str, str], complex]
    bias: complex
    dense: tuple[complex, ...]
    trained: bool
    hashtag_words: frozenset[str]
    bigrams: bool = False  # the model has pair weights (tuple keys)


def _read_json(name: str) -> Any:
    path = os.path.join(DATA_DIR, name)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@functools.cache
def tables(lang: str) -> Tables:
    """Tables for "en" or "fr" (anything else gets English), built on first use."""
    lang = "fr" if lang == "fr" else "en"
    lex = _read_json("lexicon.json")
    model = _read_json("model.json") or {}
    part = lex[lang]
    raw: dict[str, list[float]] = {}

    def put(word: str, flags: int = 0, valence: float = 0.0, boost: float = 0.0) -> None:
        e = raw.setdefault(fold(word), [0, 0.0, 0.0])
        e[0] = int(e[0]) | flags
        if valence:
            e[1] = valence
        if boost:
            e[2] = boost

    for w, v in part["lexicon"].items():
        put(w, valence=v)
    for w, v in lex["emoticons"].items():
        put(w, EMO, v * EMO_SCALE)
    for w, v in lex["emoji"].items():
        put(w, EMO, v * EMO_SCALE)
    for w, b in part["boosters"].items():
        put(w, BOOST, boost=b)
    for w in part["negators"]:
        put(w, NEG | (POSTNEG if lang == "fr" else 0))
    for w in part.get("ne", ()):
        put(w, NE)
    if lang == "fr":
        put("plus", PLUS)
    for w in part["contrast"]:
        put(w, CONTRAST)
    rules: dict[str, Entry] = {w: (int(e[0]), float(e[1]), float(e[2])) for w, e in raw.items()}
    words = frozenset(w for w, e in rules.items() if e[1] and len(w) >= 4 and w.isalpha())
    m = model.get(lang)
    if not m:
        return Tables(lang, rules, {}, 0j, (0j,) * len(DENSE_NAMES), False, words)
    weights: dict[str | tuple[str, str], complex] = {
        w: complex(wn, wp) for w, (wn, wp) in m["unigrams"].items()}
    for pair, (wn, wp) in m.get("bigrams", {}).items():
        first, second = pair.split(" ")  # tokens never hold a space
        weights[(first, second)] = complex(wn, wp)
    dense = tuple(complex(wn, wp) for wn, wp in zip(m["dense"][0], m["dense"][1], strict=True))
    return Tables(lang, rules, weights, complex(*m["bias"]), dense, True, words,
                  bool(m.get("bigrams")))


@functools.cache
def stopwords() -> tuple[frozenset[str], frozenset[str]]:
    """(English, French) function words for language identification."""
    lex = _read_json("lexicon.json")
    en = frozenset(fold(w) for w in lex["en"]["stopwords"])
    fr = frozenset(fold(w) for w in lex["fr"]["stopwords"])
    return en - fr, fr - en
