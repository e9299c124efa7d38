"""Sentiment-shift detector: a watch's negative share or mean sentiment leaves its own baseline.

Pure and streaming, driven once per closed bucket (the detector protocol):
``update(state, bucket, ts, cfg)`` returns a new frozen state, ``evaluate(state, cfg)`` reads
the signal of the bucket just added and ``observe(state, cfg)`` turns it into the lifecycle's
``Signal``.  O(1) per bucket: the
baseline is a set of exponentially weighted sums and the recent window a ring of at most
``window_s / bucket`` bucket summaries.

- Baseline: negative share = EW sum of negative weight / EW sum of weight (half-life in
  seconds), so quiet nights weigh little and busy hours a lot; weight is the post count or the
  reach (followers), configurable.  Mean sentiment is always count-weighted (the aggregate
  carries no reach-weighted sentiment sum).  An EW estimate of the extra-binomial variance of
  the share (between buckets, beyond sampling noise) and of the per-post sentiment variance
  make the test beta-binomial-like: var = p(1-p)/n_eff + tau^2.
- Window: each of ``scales_s`` (a short burst and a ~15 min window) is tested; the strongest
  scale wins.  Guards: at least ``min_posts`` scored posts and ``min_negative`` negative posts
  in that scale (three angry posts at 4 a.m. are not a crisis), and an absolute move of at least
  ``min_delta_share`` (or ``min_delta_mean``) so that a tiny significant drift at huge volume is
  not reported either.
- Only moves towards negative count.  Severity by z and by absolute negative share.
- Hysteresis: one onset, then the shift is "active" until z stays below ``rearm_z`` for
  ``rearm_s``.  While active (or while the bucket is itself a shift) the baseline learns with a
  capped weight and a winsorised share, so that a crisis is not learnt as normal too fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from streams.aggregate.bucket import BucketAgg
from streams.detectors.protocol import BucketView, Signal

ALERT_TYPE = "sentiment_shift"
NAME = "shift"
READS: tuple[str, ...] = ()
PER_SUBJECT = False
HOUR_S = 3600.0
# ring entry: (bucket ts, scored posts, negative posts, sentiment sum, weight, negative weight,
# sum of squared weights) -- the last one gives Kish's effective sample size under reach weights
Entry = tuple[float, float, float, float, float, float, float]


@dataclass(frozen=True)
class SentimentShiftConfig:
    """Detector parameters; every duration is in seconds."""

    weight: str = "count"  # "count" | "reach"
    bucket_s: float = 60.0
    baseline_half_life_s: float = 12 * HOUR_S
    variance_half_life_s: float = 24 * HOUR_S
    scales_s: tuple[float, ...] = (180.0, 900.0)
    warmup_s: float = 3 * HOUR_S
    min_baseline_posts: float = 100.0
    min_posts: int = 20
    min_negative: int = 10
    min_delta_share: float = 0.10
    min_delta_mean: float = 0.15
    tau_floor: float = 0.03  # floor of the between-bucket sd of the share
    sentiment_sd_floor: float = 0.05  # floor of the sd of a window's mean beyond sampling
    onset_z: float = 3.5
    warning_z: float = 6.0
    crisis_z: float = 10.0
    warning_share: float = 0.5
    crisis_share: float = 0.65
    rearm_z: float = 2.0
    rearm_s: float = 1800.0
    clip_z: float = 3.0  # the baseline learns shares capped at baseline + clip_z sd
    max_bucket_weight: float = 3.0  # in the baseline, a bucket weighs at most 3 typical ones
    shift_learn_factor: float = 0.1  # ... and a shifted one at most 0.1 typical one


DEFAULT = SentimentShiftConfig()


@dataclass(frozen=True)
class SentimentShiftState:
    """Immutable snapshot of one watch's detector (written by streams.codec)."""

    first_ts: float | None = None
    last_ts: float | None = None
    base_w: float = 0.0  # EW sum of weights
    base_neg: float = 0.0  # EW sum of negative weights
    base_n: float = 0.0  # EW sum of scored posts (mean sentiment, warm-up)
    base_sent: float = 0.0  # EW sum of sentiment
    base_time_s: float = 0.0  # EW exposure: base_w / base_time_s is the weight per second
    tau2: float = 0.0  # EW extra-binomial variance of the bucket share
    sent_var: float = 0.0  # EW per-post variance of sentiment
    ring: tuple[Entry, ...] = ()
    active: bool = False
    quiet_since: float | None = None
    onset_ts: float | None = None
    # the bucket just added, for evaluate()
    z: float = 0.0
    share: float = 0.0
    baseline_share: float = 0.0
    mean: float = 0.0
    baseline_mean: float = 0.0
    window_posts: float = 0.0
    window_negative: float = 0.0
    scale_s: float = 0.0
    severity: str = ""
    onset: bool = False


@dataclass(frozen=True)
class ShiftSignal:
    """A sentiment shift on the newest bucket (onset or continuation at a level)."""

    bucket_ts: float
    severity: str
    score: float
    z: float
    share: float  # window negative share (count- or reach-weighted)
    baseline_share: float
    mean: float  # window mean sentiment
    baseline_mean: float
    window_posts: float
    window_negative: float
    scale_s: float
    onset: bool
    onset_ts: float


def initial_state() -> SentimentShiftState:
    """Empty state."""
    return SentimentShiftState()


def _entry(agg: BucketAgg, ts: float, cfg: SentimentShiftConfig) -> Entry:
    n, neg = float(agg.scored), float(agg.negative)
    if cfg.weight != "reach" or agg.count <= 0 or agg.reach <= 0:
        return (ts, n, neg, agg.sentiment_sum, n, neg, n)
    # reach counts every post, sentiment only scored ones: scale to the scored part
    frac = n / agg.count
    w = agg.reach * frac
    top = [float(max(p.followers, 0)) for p in agg.top_posts]
    rest, rest_n = max(agg.reach - sum(top), 0.0), max(agg.count - len(top), 0)
    sumsq = sum(f * f for f in top) + (rest * rest / rest_n if rest_n else 0.0)
    sumsq = min(max(sumsq, agg.reach * agg.reach / agg.count), float(agg.reach) ** 2) * frac
    return (ts, n, neg, agg.sentiment_sum, w, min(float(agg.negative_reach), w), sumsq)


def _share_z(w: float, wneg: float, wsq: float, p_b: float, tau2: float,
             cfg: SentimentShiftConfig) -> tuple[float, float]:
    """(share, z) of a window's negative weight against the baseline share."""
    if w <= 0.0:
        return 0.0, 0.0
    share = wneg / w
    p = min(max(p_b, 0.01), 0.99)
    var = p * (1.0 - p) * wsq / (w * w) + max(tau2, cfg.tau_floor ** 2)
    return share, (share - p_b) / math.sqrt(var)


def _severity(z: float, share: float, cfg: SentimentShiftConfig) -> str:
    if z < cfg.onset_z:
        return ""
    if z >= cfg.crisis_z or share >= cfg.crisis_share:
        return "crisis"
    return "warning" if z >= cfg.warning_z or share >= cfg.warning_share else "watch"


def _evaluate_scales(state: SentimentShiftState, ring: tuple[Entry, ...], ts: float,
                     cfg: SentimentShiftConfig) -> tuple[float, float, float, float, float, float]:
    """Best scale: (z, share, mean, posts, negative posts, scale_s)."""
    p_b = state.base_neg / state.base_w if state.base_w > 0 else 0.0
    m_b = state.base_sent / state.base_n if state.base_n > 0 else 0.0
    results = [(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)]
    for scale_s in cfg.scales_s:
        rows = [e for e in ring if e[0] > ts - scale_s]
        n, neg, ssum, w, wneg, wsq = (sum(e[i] for e in rows) for i in range(1, 7))
        share, z_share = _share_z(w, wneg, wsq, p_b, state.tau2, cfg)
        mean = ssum / n if n > 0 else 0.0
        z = 0.0
        if n >= cfg.min_posts and neg >= cfg.min_negative:
            z_share = z_share if share - p_b >= cfg.min_delta_share else 0.0
            var_m = max(state.sent_var, 0.0) / n + cfg.sentiment_sd_floor ** 2
            z_mean = (m_b - mean) / math.sqrt(var_m) if m_b - mean >= cfg.min_delta_mean else 0.0
            z = max(z_share, z_mean, 0.0)
        results.append((z, share, mean, n, neg, scale_s))
    # the strongest scale; when none is shifted, the longest one (the window) is reported
    return max(results, key=lambda r: (r[0], r[5]))


def _learn(state: SentimentShiftState, e: Entry, dt: float, shifted: bool,
           cfg: SentimentShiftConfig) -> SentimentShiftState:
    """EW update of the baseline with one bucket, capped while a shift is on."""
    decay = 0.5 ** (dt / cfg.baseline_half_life_s)
    a_var = 1.0 - 0.5 ** (dt / cfg.variance_half_life_s)
    _, n, neg, ssum, w, wneg, wsq = e
    base_w, base_neg = state.base_w * decay, state.base_neg * decay
    base_n, base_sent = state.base_n * decay, state.base_sent * decay
    tau2, sent_var = state.tau2, state.sent_var
    warm_base = state.base_n >= cfg.min_baseline_posts
    if n > 0 and w > 0:
        p_b = state.base_neg / state.base_w if state.base_w > 0 else neg / n
        m_b = state.base_sent / state.base_n if state.base_n > 0 else ssum / n
        share, mean = wneg / w, ssum / n
        sampling = min(max(p_b, 0.01), 0.99) * (1 - min(max(p_b, 0.01), 0.99)) * wsq / (w * w)
        sd = math.sqrt(sampling + max(tau2, cfg.tau_floor ** 2))
        sd_m = math.sqrt(max(sent_var, 0.0) / n + cfg.sentiment_sd_floor ** 2)
        if warm_base:  # winsorise: a burst must not become the baseline
            share = min(max(share, p_b - cfg.clip_z * sd), p_b + cfg.clip_z * sd)
            mean = min(max(mean, m_b - cfg.clip_z * sd_m), m_b + cfg.clip_z * sd_m)
        scale = 1.0
        if warm_base:  # one bucket (a burst, a single huge-reach post) weighs a few at most
            typical = state.base_w / max(state.base_time_s, cfg.bucket_s) * cfg.bucket_s
            scale = min(1.0, cfg.max_bucket_weight * typical / w)
            if shifted:
                scale = min(1.0, typical / w) * cfg.shift_learn_factor
        base_w += w * scale
        base_neg += share * w * scale
        base_n += n * scale
        base_sent += mean * n * scale
        if state.base_n > 0:
            resid = min(abs(share - p_b), cfg.clip_z * sd) if warm_base else share - p_b
            tau2 += a_var * scale * (resid * resid - sampling - tau2)
            resid_m = mean - m_b
            sent_var += a_var * scale * (n * resid_m * resid_m - sent_var)
        else:
            sent_var = 0.25  # a prior of the right order for scores in [-1, 1]
    return replace(state, base_w=base_w, base_neg=base_neg, base_n=base_n, base_sent=base_sent,
                   base_time_s=state.base_time_s * decay + min(dt, cfg.bucket_s), tau2=tau2,
                   sent_var=sent_var)


def update(state: SentimentShiftState, bucket: BucketView, ts: float,
           cfg: SentimentShiftConfig = DEFAULT) -> SentimentShiftState:
    """Add the closed bucket starting at ts (POSIX seconds)."""
    if not math.isfinite(ts) or (state.last_ts is not None and ts <= state.last_ts):
        return state  # duplicate or late bucket: already accounted for
    agg = bucket.agg
    dt = cfg.bucket_s if state.last_ts is None else ts - state.last_ts
    first_ts = ts if state.first_ts is None else state.first_ts
    e = _entry(agg, ts, cfg)
    horizon_s = max(cfg.scales_s, default=cfg.bucket_s)
    ring = (*(r for r in state.ring if r[0] > ts - horizon_s), e)
    z, share, mean, posts, negative, scale_s = _evaluate_scales(state, ring, ts, cfg)
    warm = ts - first_ts >= cfg.warmup_s and state.base_n >= cfg.min_baseline_posts
    severity = _severity(z, share, cfg) if warm else ""
    active, quiet_since, onset_ts, onset = (state.active, state.quiet_since, state.onset_ts,
                                            False)
    if severity and not active:
        active, quiet_since, onset_ts, onset = True, None, ts, True
    elif active:
        if z < cfg.rearm_z:
            quiet_since = ts if quiet_since is None else quiet_since
            if ts - quiet_since >= cfg.rearm_s:
                active, quiet_since = False, None
        else:
            quiet_since = None
    p_b = state.base_neg / state.base_w if state.base_w > 0 else 0.0
    m_b = state.base_sent / state.base_n if state.base_n > 0 else 0.0
    new = replace(state, first_ts=first_ts, last_ts=ts, ring=ring, active=active,
                  quiet_since=quiet_since, onset_ts=onset_ts, z=z, share=share,
                  baseline_share=p_b, mean=mean, baseline_mean=m_b, window_posts=posts,
                  window_negative=negative, scale_s=scale_s, severity=severity, onset=onset)
    return _learn(new, e, dt, active or z >= cfg.onset_z, cfg)


def score_of(z: float, cfg: SentimentShiftConfig = DEFAULT) -> float:
    """Score in [0, 1) of a shift z: 0.5 at the warning z."""
    z = max(z, 0.0) if math.isfinite(z) else 0.0
    return z / (z + cfg.warning_z)


def shift_z(state: SentimentShiftState, cfg: SentimentShiftConfig = DEFAULT) -> float:
    """Guarded z of the newest bucket: 0 during warm-up or below the volume guard."""
    if state.first_ts is None or state.last_ts is None:
        return 0.0
    warm = (state.last_ts - state.first_ts >= cfg.warmup_s
            and state.base_n >= cfg.min_baseline_posts)
    return state.z if warm else 0.0


def evaluate(state: SentimentShiftState, cfg: SentimentShiftConfig = DEFAULT
             ) -> ShiftSignal | None:
    """Signal of the newest bucket when it is a shift (z >= onset_z, guards met), else None."""
    if not state.severity or state.last_ts is None:
        return None
    return ShiftSignal(
        bucket_ts=state.last_ts, severity=state.severity, score=score_of(state.z, cfg),
        z=state.z, share=state.share, baseline_share=state.baseline_share, mean=state.mean,
        baseline_mean=state.baseline_mean, window_posts=state.window_posts,
        window_negative=state.window_negative, scale_s=state.scale_s, onset=state.onset,
        onset_ts=state.onset_ts if state.onset_ts is not None else state.last_ts)


def observe(state: SentimentShiftState, cfg: SentimentShiftConfig = DEFAULT) -> list[Signal]:
    """The lifecycle's view of the newest bucket; empty means back to normal."""
    sig = evaluate(state, cfg)
    if sig is not None:
        return [Signal(ALERT_TYPE, None, sig.severity, sig.score, sig.share, sig.baseline_share,
                       int(sig.bucket_ts), sig.onset, {})]
    if state.active and state.last_ts is not None and state.z >= cfg.rearm_z:
        # still shifted but below the onset level: the incident keeps its severity
        return [Signal(ALERT_TYPE, None, "", score_of(state.z, cfg), state.share,
                       state.baseline_share, int(state.last_ts), False, {})]
    return []


def describe(state: SentimentShiftState, subject: str | None, cfg: Any = None
             ) -> dict[str, Any]:
    """The shift's figures are the signal's value and baseline: nothing more to add."""
    return {}
