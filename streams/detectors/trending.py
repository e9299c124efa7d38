"""Trending-hashtag detector: growth of a hashtag against its own baseline and the scope rhythm.

Pure and streaming, one ``TrendState`` per scope (global, or one watch fed with that watch's
bucket hashtag counts).  ``fold(state, bucket_ts, counts, cfg)`` folds one closed bucket
(the detector protocol's ``update(state, bucket, ts, cfg)`` with the bucket's hashtags),
``top(state, n, cfg)`` ranks the current trends, ``evaluate(state, watch_tags, cfg)`` lists
the hashtags that started trending in that bucket and ``observe(state, cfg)`` gives the
lifecycle one signal per hashtag that starts or goes on trending.  Memory is
O(recent_k + baseline_k) per scope whatever the number of distinct hashtags, and every
parameter is in seconds.

- Two decayed Space-Saving sketches: *recent* counts (mean lifetime ``window_s``, ~ the count
  of the last window) and *baseline* counts (half-life ``baseline_half_life_s``).  Each item's
  baseline lives only while the sketch monitors it; an unmonitored one is bounded by the
  sketch floor, so an evergreen hashtag that is evicted and comes back never looks new.
- Expected recent count = the hashtag's baseline rate x the scope's rhythm (how much louder the
  *other* hashtags are now than over the baseline) + ``prior_count`` for a never-seen hashtag:
  a whole scope getting louder (daily cycle, a bad buzz) predicts proportionally more, so
  evergreen hashtags stay quiet, while a new or growing hashtag beats its expectation.
- Conservative bounds: the recent count is the sketch's lower bound, the baseline its upper
  bound.  Significance: overdispersed Poisson z of the decayed count (``dispersion`` = bursty).
- Score in [0, 1] = sqrt(growth x confidence), growth = 1 - expected / count (0.5 = doubled,
  -> 1 for a new hashtag), confidence = 1 - exp(-z / z_scale); zero below ``min_count`` posts
  or ``min_z``.
  A score of 0.5 needs at least a 1.33x growth.
- Hysteresis: a hashtag enters at ``enter_score`` held for ``confirm_s`` and leaves after
  ``leave_after_s`` below ``leave_score`` (or when the recent sketch drops it); its onset is
  reported once per episode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from streams.detectors._trend_state import (
    ALERT_TYPE,
    DEFAULT,
    HOUR_S,
    TrendConfig,
    TrendingTag,
    TrendSignal,
    TrendState,
    initial_state,
    severity_of,
)
from streams.detectors._volume_math import overdispersed_z
from streams.detectors.protocol import BucketView, Signal

__all__ = ["ALERT_TYPE", "DEFAULT", "HOUR_S", "NAME", "PER_SUBJECT", "READS", "TrendConfig",
           "TrendSignal", "TrendState", "TrendingTag", "describe", "evaluate", "fold",
           "initial_state", "observe", "severity_of", "tag_signal", "top", "trending_tags",
           "update"]

NAME = "trend"
READS: tuple[str, ...] = ()
PER_SUBJECT = True
DETAIL_TAGS = 5  # the watch's top hashtags shown with a trending alert
def _score(state: TrendState, tag: str, cfg: TrendConfig) -> tuple[float, float, float, float]:
    """(recent count, expected count, z, score) of a hashtag monitored by the recent sketch."""
    count = state.recent.lower(tag)
    if count < cfg.min_count:
        return count, cfg.prior_count, 0.0, 0.0
    base_count = state.base.estimate(tag)
    x_recent, x_base = state.recent_exposure_s, state.base_exposure_s
    if x_base <= 0.0:
        return count, math.inf, 0.0, 0.0
    # the hashtag's own baseline rate, times the scope's rhythm: how much louder the rest of
    # the scope is now than over the baseline (daily cycle, a bad buzz), shrunk towards 1 with
    # a pseudo-count when the rest is sparse.  Against the rest, not the total, so a dominant
    # hashtag that doubles shows it.
    rest_recent = max(state.recent.total - count, 0.0)
    rest_base_now = max(state.base.total - base_count, 0.0) * x_recent / x_base
    s = cfg.rhythm_prior_count
    rhythm = (rest_recent + s) / (rest_base_now + s)
    mu = base_count * x_recent / x_base * rhythm + cfg.prior_count
    if count <= mu:
        return count, mu, 0.0, 0.0
    # a decayed count is a sum of weighted Poisson counts: var = mu * sum(w^2 n) / sum(w n)
    quasi = state.recent_sq / state.recent.total if state.recent.total > 0.0 else 1.0
    var = mu * quasi + cfg.dispersion * mu * mu
    z = overdispersed_z(count, mu, var)
    if z < cfg.min_z:
        return count, mu, z, 0.0
    growth = 1.0 - mu / count
    confidence = 1.0 - math.exp(-max(z, 0.0) / cfg.z_scale)
    return count, mu, z, math.sqrt(growth * confidence)


def _ranked(state: TrendState, cfg: TrendConfig) -> list[tuple[str, float, float, float, float]]:
    """(tag, count, expected, z, score) of every recent hashtag with a positive score."""
    rows = []
    for tag in state.recent:
        count, mu, z, score = _score(state, tag, cfg)
        if score > 0.0:
            rows.append((tag, count, mu, z, score))
    rows.sort(key=lambda r: (-r[4], -r[1], r[0]))
    return rows


def _decay(dt: float, tau_s: float) -> float:
    return math.exp(-dt / tau_s) if tau_s > 0.0 else 0.0


def _exposure(prev_s: float, dt: float, step_s: float, tau_s: float) -> float:
    """Decayed observed time after dt seconds of buckets of step_s (empty ones included)."""
    d_step = _decay(step_s, tau_s)
    # sum of step_s * d_step**j over the dt / step_s buckets that ended at this one
    added = step_s * (1.0 - _decay(dt, tau_s)) / (1.0 - d_step) if d_step < 1.0 else dt
    return prev_s * _decay(dt, tau_s) + added


def update(state: TrendState, bucket: BucketView, ts: float, cfg: TrendConfig = DEFAULT
           ) -> TrendState:
    """Fold the closed bucket starting at ts with its hashtag counts."""
    return fold(state, ts, bucket.agg.hashtags, cfg)


def fold(state: TrendState, bucket_ts: float, counts: Mapping[str, int | float],
         cfg: TrendConfig = DEFAULT) -> TrendState:
    """Fold the closed bucket starting at bucket_ts (POSIX s) with its hashtag counts."""
    if not math.isfinite(bucket_ts):
        return state
    if state.last_ts is not None and bucket_ts <= state.last_ts:
        return state  # duplicate or late bucket: already accounted for
    clean = {t: float(n) for t, n in counts.items() if n > 0 and math.isfinite(n)}
    if state.last_ts is None:
        dt = step_s = cfg.bucket_s or 60.0
        bucket_s = cfg.bucket_s
    else:
        dt = bucket_ts - state.last_ts
        bucket_s = cfg.bucket_s or min(state.bucket_s or dt, dt)
        step_s = bucket_s
    tau_recent, tau_base = cfg.window_s, cfg.baseline_half_life_s / math.log(2.0)
    d_recent, d_base = _decay(dt, tau_recent), _decay(dt, tau_base)
    recent = state.recent.scaled(d_recent).prune(cfg.prune_count).add_many(clean)
    base = state.base.scaled(d_base).prune(cfg.prune_count).add_many(clean)
    recent_sq = state.recent_sq * d_recent * d_recent + sum(clean.values())
    new = replace(state, last_ts=bucket_ts, bucket_s=bucket_s, recent=recent, base=base,
                  recent_sq=recent_sq,
                  recent_exposure_s=_exposure(state.recent_exposure_s, dt, step_s, tau_recent),
                  base_exposure_s=_exposure(state.base_exposure_s, dt, step_s, tau_base),
                  ranked=None)
    return _transitions(new, bucket_ts, step_s, cfg)


def _transitions(state: TrendState, ts: float, step_s: float, cfg: TrendConfig) -> TrendState:
    """Apply the enter/leave hysteresis and record the onsets of this bucket."""
    ranked = _ranked(state, cfg)
    scores = {r[0]: r for r in ranked}
    status: dict[str, tuple[float, float | None, bool]] = {}
    onsets: list[TrendingTag] = []
    for tag, (since, below, trending) in state.status.items():
        if tag not in state.recent:
            continue  # evicted: too small to be trending; its episode ends
        score = scores[tag][4] if tag in scores else 0.0
        if trending:
            if score < cfg.leave_score:
                below = ts if below is None else below
                if ts - below >= cfg.leave_after_s:
                    continue
            else:
                below = None
            status[tag] = (since, below, True)
        elif score >= cfg.enter_score:
            status[tag] = (since, None, False)  # a candidate still being confirmed
    for tag, row in scores.items():
        if row[4] >= cfg.enter_score and tag not in status:
            status[tag] = (ts, None, False)
    for tag, (since, _, trending) in list(status.items()):
        if not trending and ts - since + step_s >= cfg.confirm_s:
            status[tag] = (since, None, True)
            _, count, mu, z, score = scores[tag]
            onsets.append(TrendingTag(tag, count, mu, score, 0, count / max(mu, 1e-9), z, True))
    onsets.sort(key=lambda o: (-o.score, o.tag))
    return replace(state, status=status, onsets=tuple(
        replace(o, rank=i + 1) for i, o in enumerate(onsets)), ranked=(cfg, tuple(ranked)))


def top(state: TrendState, n: int | None = None, cfg: TrendConfig = DEFAULT
        ) -> list[TrendingTag]:
    """The n (default cfg.top_n, never more) best trends now, ranked by trend score."""
    n = cfg.top_n if n is None else min(n, cfg.top_n)
    out = []
    cached = state.ranked
    rows = cached[1] if cached is not None and (cached[0] is cfg or cached[0] == cfg) \
        else _ranked(state, cfg)
    for i, (tag, count, mu, z, score) in enumerate(rows[:max(n, 0)]):
        trending = state.status.get(tag, (0.0, None, False))[2]
        out.append(TrendingTag(tag, count, mu, score, i + 1, count / max(mu, 1e-9), z,
                               trending))
    return out


def trending_tags(state: TrendState) -> frozenset[str]:
    """Hashtags currently in a trending episode."""
    return frozenset(t for t, (_, _, trending) in state.status.items() if trending)


def evaluate(state: TrendState, watch_tags: frozenset[str] | None = None,
             cfg: TrendConfig = DEFAULT) -> list[TrendSignal]:
    """Onsets of the last bucket (optionally only hashtags in watch_tags), strongest first."""
    if state.last_ts is None:
        return []
    return [TrendSignal(o.tag, severity_of(o.score, cfg), o.score, o.count, o.baseline,
                        int(state.last_ts), True, o.ratio, o.z)
            for o in state.onsets if watch_tags is None or o.tag in watch_tags]


def tag_signal(state: TrendState, tag: str, cfg: TrendConfig = DEFAULT,
               details: Mapping[str, Any] | None = None) -> Signal | None:
    """The lifecycle signal of one hashtag: onset, continuing trend, or None (over)."""
    if state.last_ts is None:
        return None
    ts = int(state.last_ts)
    for o in state.onsets:
        if o.tag == tag:
            return Signal(ALERT_TYPE, tag, severity_of(o.score, cfg), o.score, o.count,
                          o.baseline, ts, True, details)
    status = state.status.get(tag)
    if status is None or not status[2]:
        return None
    if tag not in state.recent:
        return Signal(ALERT_TYPE, tag, "", 0.0, 0.0, 0.0, ts, False, details)
    count, mu, _, score = _score(state, tag, cfg)
    # below leave_score it is still trending during the grace period: the lifecycle's own
    # resolve_after_s then closes it once the detector drops the hashtag
    return Signal(ALERT_TYPE, tag, "", score, count, mu, ts, False, details)


def observe(state: TrendState, cfg: TrendConfig = DEFAULT) -> list[Signal]:
    """One signal per hashtag that started trending in the newest bucket (strongest first),
    then one per hashtag still trending."""
    if state.last_ts is None or not state.status:
        return []
    details = describe(state, None, cfg)
    tags = [o.tag for o in state.onsets]
    tags += [t for t, (_, _, trending) in state.status.items() if trending and t not in tags]
    return [s for t in tags if (s := tag_signal(state, t, cfg, details)) is not None]


def describe(state: TrendState, subject: str | None = None, cfg: TrendConfig = DEFAULT
             ) -> dict[str, Any]:
    """The scope's top trends now (the hashtag of the incident is the alert's subject)."""
    return {"hashtags": [{"tag": t.tag, "count": round(t.count, 1),
                          "baseline": round(t.baseline, 2), "score": round(t.score, 3),
                          "trending": t.trending} for t in top(state, DETAIL_TAGS, cfg)]}
