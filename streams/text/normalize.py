"""Unicode text normalisation for matching: folding, tokens, hashtags, mentions and URLs.

Everything here is pure and on the hot path (every post goes through it), so each function is a
handful of C-level calls (``str`` methods, ``unicodedata``, one compiled regex) with no
per-character Python loop.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "extract_hashtags",
    "extract_mentions",
    "extract_urls",
    "fold",
    "fold_tag",
    "scan_hashtags",
    "scan_mentions",
    "strip_urls",
    "tokens",
]

# Combining marks used as Latin/Greek/Cyrillic diacritics only. Marks outside these blocks
# (Indic vowel signs, Arabic harakat, kana voicing marks, the emoji keycap U+20E3) are part of
# their script and must survive, so a generic "category Mn" filter would be wrong.
_DIACRITICS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\ufe20-\ufe2f]")

# Latin letters that carry a "diacritic" but have no canonical decomposition; applied after
# casefold, so only the lowercase forms are needed.
_LATIN_EXTRA = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
# str.translate with a dict is a per-character lookup (slow), so it only runs when needed.
_LATIN_EXTRA_RE = re.compile("[œæøłđðþı]")

# Ends on a character that is not trailing punctuation, so "see https://x.fr/a." drops the dot.
_URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'«»]*[^\s<>\"'«».,;:!?)\]}…]")
# A hashtag needs at least one letter ("#123" is a number); the lookbehind rejects "a#b", "&#39;".
_HASHTAG_RE = re.compile(r"(?<![\w#&])#(?=\w*?[^\W\d_])(\w+)")
# The lookbehind rejects e-mail addresses ("name@bank.fr").
_MENTION_RE = re.compile(r"(?<![\w@.])@(\w+)")
_TOKEN_RE = re.compile(r"\w+")


def fold(text: str) -> str:
    """Return ``text`` casefolded with Latin diacritics removed ("ÉCOLE" -> "ecole")."""
    if text.isascii():
        # For ASCII, lower() == casefold() and there is nothing to decompose.
        return text.lower()
    # NFKD first so compatibility forms (ﬁ, full-width letters, ℌ) are casefolded too; NFC last
    # recomposes what NFKD split in other scripts (Hangul syllables, kana with voicing marks).
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    stripped = _DIACRITICS_RE.sub("", decomposed)
    if stripped.isascii():
        # Common case for accented Latin text: nothing left to translate or recompose.
        return stripped
    if _LATIN_EXTRA_RE.search(stripped) is not None:
        stripped = stripped.translate(_LATIN_EXTRA)
    return unicodedata.normalize("NFC", stripped)


def fold_tag(tag: str) -> str:
    """Return the canonical key of a hashtag or handle: folded, without leading '#'/'@'."""
    return fold(tag.lstrip("#@＃＠"))


def tokens(folded: str) -> list[str]:
    """Return the word tokens of already-folded text (apostrophes and hyphens split words)."""
    return _TOKEN_RE.findall(folded)


def _may_have_url(text: str) -> bool:
    # Substring tests are ~20x cheaper than the URL regex; most posts have no URL.
    return "://" in text or "www." in text or "WWW." in text


def strip_urls(text: str) -> str:
    """Return ``text`` with every URL replaced by a space (no-op fast path without URLs)."""
    if not _may_have_url(text):
        return text
    return _URL_RE.sub(" ", text)


def extract_urls(text: str) -> tuple[str, ...]:
    """Return the URLs in ``text`` (http(s):// or www.), in order, deduplicated."""
    if not _may_have_url(text):
        return ()
    return tuple(dict.fromkeys(_URL_RE.findall(text)))


def _dedup_by_key(items: list[str]) -> tuple[str, ...]:
    # Keeps the first spelling of each tag: "#SG ... #sg" is one hashtag, counted once.
    if len(items) < 2:
        return tuple(items)
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(fold(item), item)
    return tuple(seen.values())


def scan_hashtags(text: str) -> list[str]:
    """Return raw hashtag bodies of URL-free text (no dedup): for already folded, cleaned text."""
    return _HASHTAG_RE.findall(text) if "#" in text else []


def scan_mentions(text: str) -> list[str]:
    """Return raw @handle bodies of URL-free text (no dedup): for already folded, cleaned text."""
    return _MENTION_RE.findall(text) if "@" in text else []


def extract_hashtags(text: str) -> tuple[str, ...]:
    """Return the hashtags of ``text`` in original case, without '#', outside URLs, deduplicated."""
    if "#" not in text:
        return ()
    return _dedup_by_key(_HASHTAG_RE.findall(strip_urls(text)))


def extract_mentions(text: str) -> tuple[str, ...]:
    """Return the @handles of ``text`` in original case, without '@', outside URLs, deduplicated."""
    if "@" not in text:
        return ()
    return _dedup_by_key(_MENTION_RE.findall(strip_urls(text)))
