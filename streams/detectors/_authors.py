"""Helpers shared by the author-aware detectors: which posts to look at, who wrote them."""

from __future__ import annotations

import math

from streams.aggregate.bucket import BucketAgg, PostRef


def fold_handle(handle: str) -> str:
    """Case- and prefix-insensitive author key."""
    return handle.strip().lstrip("@").casefold()


def evidence_posts(agg: BucketAgg) -> tuple[PostRef, ...]:
    """The bucket's top posts and first movers, once each, oldest first (stable order)."""
    unique = {p.id: p for p in (*agg.top_posts, *agg.first_movers)}
    return tuple(sorted(unique.values(), key=lambda p: (p.created_at, p.id)))


def reach_factor(followers: int, ref_followers: float, per_decade: float,
                 lo: float, hi: float) -> float:
    """Multiplier of an author's weight: 1 at ref_followers, +per_decade per x10, clamped."""
    f = max(float(followers), 1.0)
    return min(max(1.0 + per_decade * math.log10(f / ref_followers), lo), hi)
