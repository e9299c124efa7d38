"""One pass over a post: tokenise, apply valence rules, return model features."""

from __future__ import annotations

import math
import re

from streams.text._sentiment_data import (
    BOOST,
    CONTRAST,
    EMO,
    FOLD,
    NE,
    NEG,
    PLUS,
    POSTNEG,
    Tables,
)

TOKEN_RE = re.compile(
    r"https?://\S+|www\.\S+"  # URLs
    r"|[@#]\w+"  # mentions, hashtags
    r"|<3+|[:;=][-o^'’]?[)(\]\[dDpP/\\|*3]+(?!\w)|[xX][-]?[)(dDpP3]+(?!\w)"  # emoticons
    r"|[)(\]\[][-o^]?[:;=](?![\w:;=])|\^_*\^|[Tt]_[Tt]|:['’]\("
    r"|(?:jusqu|lorsqu|puisqu|qu|[cdjlmnstCDJLMNST])['’](?=\w)"  # French elisions: j' n' c'
    r"|\w+(?:['’]\w+)?"  # words, English contractions
    r"|!+|\?+"
    r"|[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]"  # emoji
)
_CAMEL_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z\u00e0-\u00ff]+|\d+")
_ELONG_RE = re.compile(r"(\w)\1{2,}")
_UESC_RE = re.compile(r"\\u([0-9a-fA-F]{4})")

NEGATION_SCALAR = -0.74  # VADER's empirical factor for a negated word
CAPS_INCR = 0.733  # VADER: emphasis from ALL-CAPS on a word in mixed-case text
EXCLAIM_INCR = 0.292  # VADER: per "!" up to four
SCOPE = 3  # tokens a negator reaches
NFEAT = 16


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


def analyse(
    text: str, t: Tables, keys: list[str] | None = None
) -> tuple[list[float], float, float]:
    """Dense features and summed token logits (negative, positive) of one text."""
    if "\\u" in text:
        text = unescape(text)
    elong = 0.0
    if _ELONG_RE.search(text):
        text = _ELONG_RE.sub(r"\1\1", text)
        elong = 1.0
    toks = TOKEN_RE.findall(text)
    get = t.entries.get
    mixed_case = not text.isupper()
    pos = neg = emo_pos = emo_neg = 0.0
    n_pos = n_neg = excl = quest = url = ment = tags = negs = caps = 0
    ln = lp = 0.0
    neg_until = ne_until = boost_until = -1
    boost = 0.0
    after = 1.0
    last_i = -9
    last_v = 0.0
    last_negated = True
    expanded: list[str] | None = None
    i = 0
    for tok in toks:
        i += 1
        c = tok[0]
        if c == "!":
            excl += len(tok)
            continue
        if c == "?":
            quest += 1
            continue
        if c == "@":
            ment += 1
            continue
        if c == "#":
            tags += 1
            body = tok[1:]
            low = body.lower()
            if not low.isascii():
                low = low.translate(FOLD)
            if keys is not None:
                keys.append("#" + low)
            e = get(low)
            if e is None or not e[1]:
                expanded = split_hashtag(body, t.hashtag_words)
                if len(expanded) > 1:
                    # score parts of a split hashtag like words, without rules
                    for part in expanded:
                        pe = get(part if part.isascii() else part.translate(FOLD))
                        if pe is not None and pe[1]:
                            v = pe[1] * after
                            if v > 0:
                                pos += v
                                n_pos += 1
                            else:
                                neg -= v
                                n_neg += 1
                    continue
            if e is not None:
                ln += e[3]
                lp += e[4]
                if e[1]:
                    v = e[1] * after
                    if v > 0:
                        pos += v
                        n_pos += 1
                    else:
                        neg -= v
                        n_neg += 1
            continue
        low = tok.lower()
        if not low.isascii():
            low = low.translate(FOLD)
        elif c == "h" and low[:4] == "http":
            url += 1
            continue
        if keys is not None:
            keys.append(low)
        e = get(low)
        if e is None:
            continue
        flags, v, b, wn, wp = e
        ln += wn
        lp += wp
        if flags:
            if flags & EMO:
                if v > 0:
                    emo_pos += v
                else:
                    emo_neg -= v
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
        if v and not flags & NEG:
            if i <= boost_until:
                v += boost if v > 0 else -boost
            if mixed_case and len(tok) > 1 and tok.isupper():
                caps += 1
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
    total = pos - neg
    if excl and total:
        emph = min(excl, 4) * EXCLAIM_INCR
        total += emph if total > 0 else -emph
    compound = total / math.sqrt(total * total + 15.0)
    n = len(toks)
    feats = [
        pos / 4.0, neg / 4.0, compound, min(n_pos, 4) / 4.0, min(n_neg, 4) / 4.0,
        emo_pos / 4.0, emo_neg / 4.0, min(excl, 4) / 4.0, 1.0 if quest else 0.0,
        1.0 if url else 0.0, 1.0 if ment else 0.0, min(tags, 4) / 4.0,
        1.0 if negs else 0.0, 1.0 if caps else 0.0, min(n, 40) / 40.0, elong,
    ]
    return feats, ln, lp
