"""One pass over a post: tokenise, apply valence rules, return model features."""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Iterator
from typing import cast

from streams.text._sentiment_data import (
    BOOST,
    BYTE_FOLD,
    CONTRAST,
    FOLD,
    NE,
    NEG,
    PLUS,
    POSTNEG,
    Entry,
    Tables,
    fold,
)

# a word, an English contraction (don't), or a French elision split off (j' n' c' l')
_WORD = r"(?:\w+(?:'\w+)?|(?<=[cdjlmnst])'(?=\w)|(?:'\w+)?)"
_EMOJI = "\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55"
# Runs on lower-cased, accent-folded text. Every branch begins after one character from the
# leading class, so the regex engine skips spaces and punctuation in C (several times faster).
TOKEN_RE = re.compile(
    r"[\w@#:;=<()\[\]^" + _EMOJI + r"]"
    # words first (most tokens) except those starting h, w or x, which may be URLs or emoticons
    r"(?:(?<=[a-gi-vyz])" + _WORD +
    r"|(?<=h)ttps?://\S+"  # URLs
    r"|(?<=w)ww\.\S+"
    r"|(?<=x)-?[)(dp3]+(?!\w)"  # emoticons: xd x)
    r"|(?<=[hwx])" + _WORD +
    r"|(?<=[@#])\w+"  # mentions, hashtags
    r"|(?<=\w)\w*(?:'\w+)?"  # tokens starting with a digit, _ or a non-Latin letter
    r"|(?<=[:;=])[-o^']?[)(\]\[dp/\\|*3]+(?!\w)"  # :) ;-( :d
    r"|(?<=<)3+"  # <3
    r"|(?<=[)(\]\[])[-o^]?[:;=](?![\w:;=])"  # (:
    r"|(?<=\^)_*\^"  # ^^
    r"|(?<=[" + _EMOJI + r"])"  # one emoji
    r")"
)
_HASHTAG_RE = re.compile(r"#(\w+)")
_CAMEL_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z\u00e0-\u00ff]+|\d+")
_UESC_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
# accent folding of a text that is not Latin-1 (emoji): a C-level scan that calls back only on
# the characters to fold (1.6 us against 8 us for encode-fail + str.translate on a tweet)
_FOLD_CHARS = {chr(k): chr(cast(int, v)) for k, v in FOLD.items()}  # maketrans: int -> int
_FOLD_RE = re.compile("[" + re.escape("".join(_FOLD_CHARS)) + "]")


def _folded(m: re.Match[str]) -> str:
    return _FOLD_CHARS[m.group()]


NEGATION_SCALAR = -0.74  # VADER's empirical factor for a negated word
CAPS_INCR = 0.733  # VADER: emphasis from ALL-CAPS on a word in mixed-case text
EXCLAIM_INCR = 0.292  # VADER: per "!" up to four
SCOPE = 3  # tokens a negator reaches
_SECOND = operator.itemgetter(1)
_ZEROS = itertools.repeat(0j)  # default weight for map(dict.get, tokens, _ZEROS)
_chain = itertools.chain
_islice = itertools.islice


def feature_keys(toks: list[str]) -> Iterator[str | tuple[str, str]]:
    """The model's keys of a token list: each token, then each pair of adjacent tokens."""
    return _chain(toks, zip(toks, _islice(toks, 1, None)))  # noqa: B905 (one shorter)


def unescape(text: str) -> str:
    r"""Decode literal \uXXXX escapes some tweet dumps carry (surrogate pairs included)."""
    s = _UESC_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def split_hashtag(body: str, words: frozenset[str]) -> list[str]:
    """#BoycottX -> [boycott, x]; #epicfail -> [epic, fail] when a part is a known word."""
    parts = _CAMEL_RE.findall(body)
    if len(parts) > 1:
        return [p.lower() for p in parts]
    low = body.lower()
    for i in range(len(low) - 3, 3, -1):
        if low[:i] in words:
            return [low[:i], low[i:]]
        if low[len(low) - i:] in words:
            return [low[: len(low) - i], low[len(low) - i:]]
    return [low]


def _hashtag_valence(text: str, t: Tables) -> tuple[float, float, int, int]:
    """(positive, negative, n_pos, n_neg) from hashtags, split into words when unknown."""
    pos = neg = 0.0
    n_pos = n_neg = 0
    get = t.rules.get
    for body in _HASHTAG_RE.findall(text):
        e = get(fold(body))
        parts = [body] if e is not None and e[1] else split_hashtag(body, t.hashtag_words)
        for part in parts:
            pe = get(fold(part))
            if pe is not None and pe[1]:
                if pe[1] > 0:
                    pos += pe[1]
                    n_pos += 1
                else:
                    neg -= pe[1]
                    n_neg += 1
    return pos, neg, n_pos, n_neg


def analyse(
    text: str, t: Tables, keys: list[str] | None = None
) -> tuple[list[float], complex]:
    """Dense features and the summed token logits (negative + 1j * positive) of one text."""
    if "\\u" in text:
        text = unescape(text)
    low = text.lower()
    mixed_case = low != text and not text.isupper()
    if not low.isascii():
        low = low.replace("’", "'")
        try:  # bytes.translate is far faster than str.translate; most French is Latin-1
            low = low.encode("latin-1").translate(BYTE_FOLD).decode("latin-1")
        except UnicodeEncodeError:  # emoji and the like: str.translate would cost ~4 us here
            low = _FOLD_RE.sub(_folded, low)
    toks = TOKEN_RE.findall(low)
    if keys is not None:
        keys.extend(toks)
    pos = neg = 0.0
    n_pos = n_neg = negs = 0
    # unigram and bigram (tuple key) weights, summed in C
    z = sum(map(t.weights.get, feature_keys(toks) if t.bigrams else toks, _ZEROS), 0j)
    neg_until = ne_until = boost_until = -1
    boost = 0.0
    after = 1.0
    last_i = -9
    last_v = 0.0
    last_negated = True
    # zip/filter/itemgetter run in C: only tokens a rule knows reach the Python loop body
    hits = filter(_SECOND, zip(itertools.count(), map(t.rules.get, toks)))
    for i, (flags, v, b) in cast("Iterator[tuple[int, Entry]]", hits):
        if flags:
            if flags & NEG or (flags & PLUS and i <= ne_until):
                negs += 1
                if flags & POSTNEG and i > ne_until and not last_negated and i - last_i <= 2:
                    # colloquial French drops "ne": "j'aime pas" negates the word before
                    flipped = last_v * NEGATION_SCALAR
                    if last_v > 0:
                        pos -= last_v
                        n_pos -= 1
                        neg -= flipped
                        n_neg += 1
                    else:
                        neg += last_v
                        n_neg -= 1
                        pos += flipped
                        n_pos += 1
                    last_negated = True
                neg_until = i + SCOPE
            if flags & NE:
                negs += 1
                ne_until = neg_until = i + SCOPE + 1
            if flags & BOOST:
                boost = b
                boost_until = i + 2
            if flags & CONTRAST:
                pos *= 0.5
                neg *= 0.5
                after = 1.5
            if flags & NEG:
                continue
        if v:
            if i <= boost_until:
                v += boost if v > 0 else -boost
            if mixed_case and toks[i].upper() in text and len(toks[i]) > 1:
                v += CAPS_INCR if v > 0 else -CAPS_INCR
            last_negated = i <= neg_until
            if last_negated:
                v *= NEGATION_SCALAR
            v *= after
            last_i = i
            last_v = v
            if v > 0:
                pos += v
                n_pos += 1
            else:
                neg -= v
                n_neg += 1
    tags = low.count("#")
    if tags:
        hp, hn, hnp, hnn = _hashtag_valence(text, t)
        pos += hp
        neg += hn
        n_pos += hnp
        n_neg += hnn
    excl = low.count("!")
    if excl and pos != neg:
        # "!!!" strengthens whichever polarity dominates (VADER), never flips it
        emph = (excl if excl < 4 else 4) * EXCLAIM_INCR
        if pos > neg:
            pos += emph
        else:
            neg += emph
    total = pos - neg
    n = len(toks)
    # emphasis (caps, "!") reaches the model only through the signed sums, so it can only
    # strengthen a polarity, as crisis-cell users expect
    feats = [
        pos * 0.25, neg * 0.25, total / math.sqrt(total * total + 15.0),
        0.25 * (n_pos if n_pos < 4 else 4), 0.25 * (n_neg if n_neg < 4 else 4),
        1.0 if "?" in low else 0.0,
        1.0 if "http" in low or "www." in low else 0.0, 1.0 if "@" in low else 0.0,
        0.25 * (tags if tags < 4 else 4), 1.0 if negs else 0.0, 0.025 * (n if n < 40 else 40),
    ]
    return feats, z
