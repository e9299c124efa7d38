"""Influencer-engaged detector: a listed or high-reach author posts negatively about a watch.

Pure, driven once per closed bucket (the detector protocol):
``update(state, bucket, ts, cfg)`` looks at the bucket's top posts and first movers
(``PostRef`` with author kind, followers and sentiment), ``evaluate(state)`` returns the new
engagements of that bucket and ``observe(state, cfg)`` the lifecycle's ``Signal``.  O(1) per
bucket: at most 5 + 5 posts are read and the state keeps a bounded set of recently signalled
authors.

- Eligible: a listed author (kind journalist / media / institution, from the watch's list),
  any author with at least ``high_reach_followers``, or a verified one with at least
  ``verified_followers``.  The watch's own accounts never count (an apology reads negative).
- Negative: sentiment <= ``negative_max`` (the aggregate's boundary).
- One signal per (watch, author) per ``cooldown_s``, with the post as evidence.
- Severity: listed kinds warning, other high-reach authors watch; an author above
  ``crisis_followers`` or ``crisis_authors`` distinct authors within ``crisis_window_s``: crisis.
- Impact (kind weight x reach factor) says who matters: a journalist outweighs follower counts.
  ``engaged_impact`` sums it with a decay, for the bad-buzz score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from streams.aggregate.bucket import SENTIMENT_NEG, PostRef
from streams.detectors._authors import (
    evidence_posts,
    fold_handle,
    reach_factor,
)
from streams.detectors.protocol import RANK, BucketView, Signal

ALERT_TYPE = "influencer_engaged"
NAME = "influencer"
READS: tuple[str, ...] = ()
PER_SUBJECT = False


@dataclass(frozen=True)
class InfluencerConfig:
    """Detector parameters; every duration is in seconds."""

    listed_kinds: tuple[str, ...] = ("journalist", "media", "institution")
    excluded_kinds: tuple[str, ...] = ("owned",)
    high_reach_followers: int = 100_000
    verified_followers: int = 20_000
    negative_max: float = SENTIMENT_NEG
    cooldown_s: float = 6 * 3600.0
    crisis_followers: int = 1_000_000
    crisis_authors: int = 3
    crisis_window_s: float = 1800.0
    max_authors: int = 256
    # impact = kind weight x reach factor (1 at 100k followers, +0.25 per decade, in [0.5, 1.75])
    kind_weights: tuple[tuple[str, float], ...] = (
        ("journalist", 1.5), ("media", 1.2), ("institution", 1.0), ("employee", 0.6),
        ("verified", 0.5))
    other_weight: float = 0.4
    reach_ref_followers: float = 100_000.0
    reach_per_decade: float = 0.25
    impact_half: float = 1.0  # score = impact / (impact + impact_half)


DEFAULT = InfluencerConfig()


@dataclass(frozen=True)
class InfluencerSignal:
    """One author's negative engagement, with the post as evidence."""

    bucket_ts: float
    author: str  # folded handle
    kind: str
    followers: int
    severity: str
    impact: float
    post: PostRef


@dataclass(frozen=True)
class InfluencerState:
    """Immutable snapshot of one watch's detector (written by streams.codec)."""

    last_ts: float | None = None
    recent: tuple[tuple[str, float, float], ...] = ()  # (author, signalled at, impact), by time
    signals: tuple[InfluencerSignal, ...] = ()  # the bucket just added
    severity: str = ""
    score: float = 0.0
    engaged: int = 0  # distinct authors engaged within crisis_window_s


def initial_state() -> InfluencerState:
    """Empty state."""
    return InfluencerState()


def impact_of(kind: str, followers: int, cfg: InfluencerConfig = DEFAULT) -> float:
    """How much an author joining a negative thread matters: kind weight x reach factor."""
    weight = dict(cfg.kind_weights).get(kind, cfg.other_weight)
    return weight * reach_factor(followers, cfg.reach_ref_followers, cfg.reach_per_decade,
                                 0.5, 1.75)


def is_eligible(post: PostRef, cfg: InfluencerConfig = DEFAULT) -> bool:
    """A listed author, a high-reach one, or a verified one above its own threshold."""
    if post.kind in cfg.excluded_kinds:
        return False
    return (post.kind in cfg.listed_kinds or post.followers >= cfg.high_reach_followers
            or (post.kind == "verified" and post.followers >= cfg.verified_followers))


def is_negative(post: PostRef, cfg: InfluencerConfig = DEFAULT) -> bool:
    """Scored and at or below the negative boundary."""
    return post.sentiment is not None and post.sentiment <= cfg.negative_max


def _severity(post: PostRef, cfg: InfluencerConfig) -> str:
    if post.followers >= cfg.crisis_followers:
        return "crisis"
    return "warning" if post.kind in cfg.listed_kinds else "watch"


def update(state: InfluencerState, bucket: BucketView, ts: float,
           cfg: InfluencerConfig = DEFAULT) -> InfluencerState:
    """Add the closed bucket starting at ts (POSIX seconds)."""
    if state.last_ts is not None and ts <= state.last_ts:
        return state  # duplicate or late bucket: already accounted for
    agg = bucket.agg
    keep_s = max(cfg.cooldown_s, cfg.crisis_window_s)
    last: dict[str, tuple[float, float]] = {a: (t, i) for a, t, i in state.recent
                                            if ts - t < keep_s}
    signals: list[InfluencerSignal] = []
    for post in evidence_posts(agg):
        if not (is_eligible(post, cfg) and is_negative(post, cfg)):
            continue
        author = fold_handle(post.author)
        seen = last.get(author)
        if seen is not None and ts - seen[0] < cfg.cooldown_s:
            continue
        impact = impact_of(post.kind, post.followers, cfg)
        last[author] = (ts, impact)
        signals.append(InfluencerSignal(ts, author, post.kind, post.followers,
                                        _severity(post, cfg), impact, post))
    recent = tuple(sorted(((a, t, i) for a, (t, i) in last.items()),
                          key=lambda r: (r[1], r[0]))[-cfg.max_authors:])
    engaged = sum(1 for _, t, _ in recent if ts - t < cfg.crisis_window_s)
    severity, score = "", 0.0
    if signals:
        severity = max((s.severity for s in signals), key=RANK.__getitem__)
        if engaged >= cfg.crisis_authors:
            severity = "crisis"
        total = sum(i for _, t, i in recent if ts - t < cfg.crisis_window_s)
        score = total / (total + cfg.impact_half)
    return replace(state, last_ts=ts, recent=recent, signals=tuple(signals),
                   severity=severity, score=score, engaged=engaged)


def evaluate(state: InfluencerState) -> tuple[InfluencerSignal, ...]:
    """New engagements of the newest bucket (empty when none)."""
    return state.signals


def observe(state: InfluencerState, cfg: InfluencerConfig = DEFAULT) -> list[Signal]:
    """The lifecycle's view: a signal when someone new engaged in this bucket."""
    if not state.signals or state.last_ts is None:
        return []
    return [Signal(ALERT_TYPE, None, state.severity, state.score, float(state.engaged), 0.0,
                   int(state.last_ts), True, describe(state, None))]


def describe(state: InfluencerState, subject: str | None = None, cfg: Any = None
             ) -> dict[str, Any]:
    """Who engaged in the newest bucket (none after it)."""
    return {"authors": [{"author": s.author, "kind": s.kind, "followers": s.followers,
                         "severity": s.severity} for s in state.signals]}


def engaged_impact(state: InfluencerState, ts: float, half_life_s: float) -> float:
    """Decayed sum of the impact of the authors engaged before ts (for the bad-buzz score)."""
    return sum(i * 0.5 ** (max(ts - t, 0.0) / half_life_s) for _, t, i in state.recent)
