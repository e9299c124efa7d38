"""Bounded labels of an event for metrics: its platform and language, bucketed to fixed sets."""

from __future__ import annotations

PLATFORMS = frozenset({"twitter", "x", "facebook", "instagram", "linkedin", "tiktok", "youtube",
                       "reddit", "mastodon", "bluesky", "threads", "news", "forum"})
LANGS = frozenset({"fr", "en", "es", "de", "it", "pt", "nl", "ar"})


def platform_label(platform: str) -> str:
    """Bounded platform label."""
    return platform if platform in PLATFORMS else "other"


def lang_label(lang: str) -> str:
    """Bounded language label."""
    return lang if lang in LANGS else ("und" if lang == "und" else "other")
