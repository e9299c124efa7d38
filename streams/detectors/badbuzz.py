"""Bad-buzz score: one explained incident score in [0, 1] per watch and closed bucket.

Pure, driven once per closed bucket *after* the volume, sentiment-shift and influencer
detectors, whose states of the same bucket it READS from the bucket view (the detector
protocol's ``update(state, bucket, ts, cfg)``): ``inputs(agg, volume_state, shift_state,
influencer_state, ts, cfg)`` gathers what they say, ``fold(state, inputs, ts, cfg)`` returns
a new frozen state, ``evaluate(state, cfg)`` the signal with its per-component contributions
and ``observe(state, cfg)`` the lifecycle's ``Signal`` (alert type ``bad_buzz``).  O(1) per
bucket.

Score = sum of weight x part, each part in [0, 1] and the weights summing to 1, so the
contributions (``components``) add up to the score and explain it:

- volume: burst-scale count / expected, (r - 1) / (r - 1 + ratio_half), gated by the volume
  detector's significance z and a minimum excess of posts;
- sentiment: 1 - exp(-z / z_scale) of the guarded sentiment-shift z (volume guard included);
- amplification: growth of reposts + replies over their own EW baseline and of their share;
- joiners: 1 - exp(-impact), impact = decayed sum over engaged authors of kind weight x reach
  factor (a journalist entering a negative thread weighs more than follower counts).

Escalate quickly, de-escalate slowly: the score is a fast-attack, slow-release envelope
(``release_half_life_s``) and the level drops only ``hysteresis`` below its threshold.  The
lifecycle adds its own slow de-escalation and resolution on top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from streams.aggregate.bucket import BucketAgg
from streams.detectors import influencer, sentiment_shift, volume, volume_spike
from streams.detectors.protocol import SEVERITIES, BucketView, Signal

ALERT_TYPE = "bad_buzz"
NAME = "buzz"
READS: tuple[str, ...] = (volume_spike.NAME, sentiment_shift.NAME, influencer.NAME)
PER_SUBJECT = False
COMPONENTS = ("volume", "sentiment", "amplification", "joiners")


@dataclass(frozen=True)
class BadBuzzConfig:
    """Score parameters; every duration is in seconds."""

    bucket_s: float = 60.0
    weight_volume: float = 0.35
    weight_sentiment: float = 0.30
    weight_amplification: float = 0.10
    weight_joiners: float = 0.25
    ratio_half: float = 2.0  # a volume ratio of 1 + ratio_half gives half the volume part
    volume_z_lo: float = 2.0  # significance gate of the volume part: 0 below, 1 above hi
    volume_z_hi: float = 4.0
    min_excess_posts: float = 3.0
    sentiment_z_scale: float = 5.0
    joiner_half_life_s: float = 1800.0
    amplification_half_life_s: float = 12 * 3600.0
    amplification_min_posts: float = 20.0
    watch_score: float = 0.25
    warning_score: float = 0.45
    crisis_score: float = 0.65
    hysteresis: float = 0.08
    release_half_life_s: float = 900.0
    # what the detectors it reads count as warm: their own settings, given here
    volume_warmup_s: float = volume.DEFAULT.warmup_s
    shift: sentiment_shift.SentimentShiftConfig = sentiment_shift.DEFAULT


DEFAULT = BadBuzzConfig()


@dataclass(frozen=True)
class BuzzInputs:
    """What the other detectors say about the newest bucket."""

    volume_ratio: float = 1.0  # observed / expected posts on the burst scale
    volume_excess: float = 0.0  # observed - expected posts on the burst scale
    volume_z: float = 0.0
    sentiment_z: float = 0.0  # guarded (0 below the volume guard or during warm-up)
    joiner_impact: float = 0.0  # decayed impact of the authors engaged negatively
    posts: float = 0.0
    interactions: float = 0.0  # reposts + replies


@dataclass(frozen=True)
class BadBuzzState:
    """Immutable snapshot of one watch's score (written by streams.codec)."""

    last_ts: float | None = None
    base_posts: float = 0.0  # EW sums for the amplification baseline
    base_interactions: float = 0.0
    base_time_s: float = 0.0  # EW exposure, so the baseline is a rate per bucket
    level: int = 0  # 0 = normal, 1..3 = watch, warning, crisis
    onset: bool = False
    onset_ts: float | None = None
    score: float = 0.0
    raw_score: float = 0.0
    components: tuple[float, ...] = (0.0,) * len(COMPONENTS)  # contributions, in COMPONENTS
    parts: tuple[float, ...] = (0.0,) * len(COMPONENTS)  # each part in [0, 1], unweighted


@dataclass(frozen=True)
class BuzzSignal:
    """The bad-buzz level of the newest bucket, with what makes it up."""

    bucket_ts: float
    severity: str
    score: float
    components: dict[str, float]  # contributions: they add up to score
    parts: dict[str, float]  # unweighted parts in [0, 1]
    onset: bool
    onset_ts: float


def initial_state() -> BadBuzzState:
    """Empty state."""
    return BadBuzzState()


def _finite(x: float, default: float = 0.0) -> float:
    return x if math.isfinite(x) else default


def _clamp01(x: float) -> float:
    return min(max(_finite(x), 0.0), 1.0)


def inputs(agg: BucketAgg, vs: volume.VolumeState, ss: sentiment_shift.SentimentShiftState,
           inf: influencer.InfluencerState, ts: float, cfg: BadBuzzConfig = DEFAULT
           ) -> BuzzInputs:
    """Gather the detectors' view of bucket agg (all already updated with it)."""
    warm = (vs.first_ts is not None and vs.last_ts is not None
            and vs.last_ts - vs.first_ts >= cfg.volume_warmup_s)
    ratio, excess = 1.0, 0.0
    if warm and vs.ev_count and vs.ev_mean and vs.ev_mean[0] > 0.0:
        ratio, excess = vs.ev_count[0] / vs.ev_mean[0], vs.ev_count[0] - vs.ev_mean[0]
    return BuzzInputs(
        volume_ratio=ratio, volume_excess=excess, volume_z=vs.z if warm else 0.0,
        sentiment_z=sentiment_shift.shift_z(ss, cfg.shift),
        joiner_impact=influencer.engaged_impact(inf, ts, cfg.joiner_half_life_s),
        posts=float(agg.count), interactions=float(agg.reposts + agg.replies))


def _ratio_part(ratio: float, half: float) -> float:
    excess = max(_finite(ratio, 1.0) - 1.0, 0.0)
    return excess / (excess + half) if half > 0 else float(excess > 0)


def _parts(state: BadBuzzState, x: BuzzInputs, cfg: BadBuzzConfig) -> tuple[float, ...]:
    gate = _clamp01((x.volume_z - cfg.volume_z_lo) / max(cfg.volume_z_hi - cfg.volume_z_lo,
                                                          1e-9))
    vol = gate * _ratio_part(x.volume_ratio, cfg.ratio_half)
    if _finite(x.volume_excess) < cfg.min_excess_posts:
        vol = 0.0
    sent = 1.0 - math.exp(-max(_finite(x.sentiment_z), 0.0) / cfg.sentiment_z_scale)
    amp = 0.0
    if state.base_time_s > 0.0 and x.posts >= cfg.amplification_min_posts:
        base_share = state.base_interactions / max(state.base_posts, 1.0)
        share = min(max(x.interactions, 0.0) / x.posts, 1.0)
        share_part = max(share - base_share, 0.0) / max(1.0 - base_share, 1e-9)
        per_bucket = state.base_interactions / state.base_time_s * cfg.bucket_s
        growth = x.interactions / max(per_bucket, 1.0)
        growth_part = (_ratio_part(growth, cfg.ratio_half)
                       if x.interactions - per_bucket >= cfg.min_excess_posts else 0.0)
        amp = 0.5 * share_part + 0.5 * growth_part
    joiners = 1.0 - math.exp(-max(_finite(x.joiner_impact), 0.0))
    return tuple(_clamp01(p) for p in (vol, sent, amp, joiners))


def _learn(state: BadBuzzState, x: BuzzInputs, dt: float, cfg: BadBuzzConfig) -> BadBuzzState:
    """EW baseline of posts and interactions; a bucket weighs at most 3 typical buckets."""
    decay = 0.5 ** (dt / cfg.amplification_half_life_s)
    posts, inter = max(_finite(x.posts), 0.0), max(_finite(x.interactions), 0.0)
    if state.base_time_s > 0.0:
        typical = state.base_posts / state.base_time_s * cfg.bucket_s
        cap = max(3.0 * typical, cfg.amplification_min_posts)
        if posts > cap:  # a burst must not become the baseline
            inter, posts = inter * cap / posts, cap
    return replace(state, base_posts=state.base_posts * decay + posts,
                   base_interactions=state.base_interactions * decay + inter,
                   base_time_s=state.base_time_s * decay + cfg.bucket_s)


def _level_of(score: float, cfg: BadBuzzConfig) -> int:
    thresholds = (cfg.watch_score, cfg.warning_score, cfg.crisis_score)
    return sum(1 for t in thresholds if score >= t)


def update(state: BadBuzzState, bucket: BucketView, ts: float, cfg: BadBuzzConfig = DEFAULT
           ) -> BadBuzzState:
    """Score the closed bucket starting at ts from what the detectors it reads derived."""
    d = bucket.derived
    x = inputs(bucket.agg, d[volume_spike.NAME], d[sentiment_shift.NAME], d[influencer.NAME],
               ts, cfg)
    return fold(state, x, ts, cfg)


def fold(state: BadBuzzState, x: BuzzInputs, ts: float, cfg: BadBuzzConfig = DEFAULT
         ) -> BadBuzzState:
    """Score the closed bucket starting at ts (POSIX seconds) from the detectors' inputs."""
    if not math.isfinite(ts) or (state.last_ts is not None and ts <= state.last_ts):
        return state  # duplicate or late bucket: already scored
    dt = cfg.bucket_s if state.last_ts is None else ts - state.last_ts
    parts = _parts(state, x, cfg)
    weights = (cfg.weight_volume, cfg.weight_sentiment, cfg.weight_amplification,
               cfg.weight_joiners)
    total_w = sum(weights) or 1.0
    raw = tuple(w / total_w * p for w, p in zip(weights, parts, strict=True))
    raw_score = sum(raw)
    keep = 0.5 ** (dt / cfg.release_half_life_s)
    if raw_score >= state.score * keep:  # fast attack
        comps = raw
    else:  # slow release towards the raw score; contributions keep adding up to the score
        comps = tuple(c * keep + r * (1.0 - keep)
                      for c, r in zip(state.components, raw, strict=True))
    score = min(sum(comps), 1.0)
    thresholds = (cfg.watch_score, cfg.warning_score, cfg.crisis_score)
    level = state.level
    while level > 0 and score < thresholds[level - 1] - cfg.hysteresis:
        level -= 1
    level = max(level, _level_of(score, cfg))
    onset = level > 0 and state.level == 0
    new = replace(state, last_ts=ts, level=level, onset=onset,
                  onset_ts=ts if onset else (state.onset_ts if level else None),
                  score=score, raw_score=raw_score, components=comps, parts=parts)
    return _learn(new, x, dt, cfg)


def evaluate(state: BadBuzzState, cfg: BadBuzzConfig = DEFAULT) -> BuzzSignal | None:
    """The newest bucket's level and its explanation; None while the watch is normal."""
    if state.level == 0 or state.last_ts is None:
        return None
    return BuzzSignal(
        bucket_ts=state.last_ts, severity=SEVERITIES[state.level - 1], score=state.score,
        components=dict(zip(COMPONENTS, state.components, strict=True)),
        parts=dict(zip(COMPONENTS, state.parts, strict=True)), onset=state.onset,
        onset_ts=state.onset_ts if state.onset_ts is not None else state.last_ts)


def observe(state: BadBuzzState, cfg: BadBuzzConfig = DEFAULT) -> list[Signal]:
    """The lifecycle's view: value = score, baseline = the watch threshold."""
    sig = evaluate(state, cfg)
    if sig is None:
        return []
    return [Signal(ALERT_TYPE, None, sig.severity, sig.score, sig.score, cfg.watch_score,
                   int(sig.bucket_ts), sig.onset, _components(sig))]


def _components(sig: BuzzSignal) -> dict[str, Any]:
    return {"components": {k: round(v, 4) for k, v in sig.components.items()}}


def describe(state: BadBuzzState, subject: str | None = None, cfg: BadBuzzConfig = DEFAULT
             ) -> dict[str, Any]:
    """The score's components while the watch is not normal."""
    sig = evaluate(state, cfg)
    return {} if sig is None else _components(sig)
