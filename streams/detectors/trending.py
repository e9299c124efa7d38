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
from dataclasses import dataclass, field, replace
from typing import Any

from streams.aggregate.sketches import SpaceSaving
from streams.codec import TRANSIENT
from streams.detectors._volume_math import overdispersed_z
from streams.detectors.protocol import BucketView, Signal

ALERT_TYPE = "trending_hashtag"
NAME = "trend"
READS: tuple[str, ...] = ()
PER_SUBJECT = True
DETAIL_TAGS = 5  # the watch's top hashtags shown with a trending alert
HOUR_S = 3600.0


@dataclass(frozen=True)
class TrendConfig:
    """Detector parameters; every duration is in seconds."""

    bucket_s: float | None = None  # None: inferred as the smallest gap between buckets
    window_s: float = 900.0  # mean lifetime of the recent counts
    baseline_half_life_s: float = 6 * HOUR_S
    recent_k: int = 1024
    baseline_k: int = 2048
    prior_count: float = 1.0  # expected window count of a hashtag never seen before
    rhythm_prior_count: float = 20.0  # pseudo-count of the rest of the scope (sparse scopes)
    min_count: float = 10.0  # posts in the recent window before a hashtag can trend
    dispersion: float = 0.02  # negative-binomial k of hashtag counts (var = mu + k mu^2)
    z_scale: float = 2.0  # confidence = 1 - exp(-z / z_scale)
    min_z: float = 3.0  # below this significance the score is 0 (noise of small hashtags)
    enter_score: float = 0.5
    leave_score: float = 0.3
    confirm_s: float = 120.0  # a hashtag must hold enter_score over this much event time
    leave_after_s: float = 600.0
    warning_score: float = 0.7
    crisis_score: float = 0.85
    top_n: int = 20  # bound of the rank label for metrics and Redis
    prune_count: float = 0.05  # decayed counts below this are forgotten (bound kept)


DEFAULT = TrendConfig()


@dataclass(frozen=True)
class TrendingTag:
    """One ranked hashtag: recent count, expected count from its baseline, trend score."""

    tag: str
    count: float
    baseline: float
    score: float
    rank: int
    ratio: float = 0.0
    z: float = 0.0
    trending: bool = False


@dataclass(frozen=True)
class TrendSignal:
    """A hashtag that started trending in the bucket at bucket_ts (lifecycle-compatible)."""

    tag: str
    severity: str
    score: float
    value: float  # recent (window) count
    baseline: float  # expected window count from the hashtag's own baseline
    bucket_ts: int
    onset: bool
    ratio: float
    z: float

    def signal(self) -> Signal:
        """The lifecycle signal of this onset (without the detector's details)."""
        return Signal(ALERT_TYPE, self.tag, self.severity, self.score, self.value, self.baseline,
                      self.bucket_ts, self.onset)


@dataclass(frozen=True)
class TrendState:
    """Immutable snapshot of one scope (written by streams.codec)."""

    last_ts: float | None = None
    bucket_s: float | None = None
    recent: SpaceSaving = field(default_factory=lambda: SpaceSaving(DEFAULT.recent_k))
    base: SpaceSaving = field(default_factory=lambda: SpaceSaving(DEFAULT.baseline_k))
    recent_sq: float = 0.0  # sum of squared-decay weights x counts, for the variance
    recent_exposure_s: float = 0.0  # decayed observed time of each sketch
    base_exposure_s: float = 0.0
    # tag -> (candidate since, below leave_score since or None, trending?)
    status: Mapping[str, tuple[float, float | None, bool]] = field(default_factory=dict)
    onsets: tuple[TrendingTag, ...] = ()  # hashtags that started trending in the last bucket
    # the ranking of these very sketches under a config, as fold computed it (not state)
    ranked: tuple[TrendConfig, tuple[tuple[str, float, float, float, float], ...]] | None = field(
        default=None, compare=False, repr=False, metadata=TRANSIENT)


def initial_state(cfg: TrendConfig = DEFAULT) -> TrendState:
    """Empty state sized by cfg."""
    return TrendState(recent=SpaceSaving(cfg.recent_k), base=SpaceSaving(cfg.baseline_k))


def severity_of(score: float, cfg: TrendConfig = DEFAULT) -> str:
    """Severity label of a trend score."""
    if score >= cfg.crisis_score:
        return "crisis"
    return "warning" if score >= cfg.warning_score else "watch"


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
