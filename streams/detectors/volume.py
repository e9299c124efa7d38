"""Volume-spike detector whose score is a calibrated rarity: "once in T days on this watch".

Pure and streaming: ``update(state, ts, count)`` returns a new frozen state, ``evaluate(state)``
reads the signal of the bucket just added.  O(1) per bucket (O(history_size) while a spike is
on); every parameter is in seconds or days, so the bucket size (inferred) does not matter.
The protocol, the figures and why each parameter has its value: streams/eval/VOLUME.md.

- Baseline: expected rate = level x hour-of-day x day-of-week profiles (EW averages), learnt
  from counts capped at their upper Poisson bound, and more slowly while a spike is on.
- Evidence on three time scales (15 min, 1 h, 4 h): decayed sums of counts C, expectations M
  and Poisson variances V.  Under the null C has variance V + k M^2; k (over-dispersion) is
  fitted per scale so that the *median* squared standardised residual is the Gaussian one,
  which bursts cannot inflate.  The Poisson-matched tail z then gives, per scale, the
  expected number of false upcrossings per day of that level (log_crossings_per_day); the
  model's return period T is the largest over the scales.
- Self-calibration: real watches have bursts far heavier-tailed than any count model.  Each
  excursion the model calls rarer than crisis_days is remembered with its size (short-scale
  rate over max(expected, daily average)).  A spike's rate is at least the lower confidence
  bound of how often the watch produced such bursts at least as big; T = 1 / max(model rate,
  that rate).  On data the model fits (the simulator) it almost never applies.
- Score = x / (1 + x), x = (T / watch_days) ** beta: 0.5 once in 10 days, 0.6 (the alert)
  once in 30 days, ~0.8 once a year, whatever the watch's size or rhythm.
- A spike is reported once at its onset (T >= watch_days), again at each severity upgrade
  (the first alert-level one at once, later ones escalation_gap_s apart), and re-arms after
  rearm_s of T < rearm_days.
  Nothing is reported during the warm-up.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from streams.detectors._volume_math import (
    MIN_FACTOR,
    ew_alpha,
    interpolate,
    learn_profile,
    log_crossings_per_day,
    overdispersed_z,
    poisson_lower,
)
from streams.detectors._volume_state import (
    DAY_S,
    DEFAULT,
    SEVERITIES,
    WEEK_OFFSET_S,
    WEEK_S,
    VolumeConfig,
    VolumeSignal,
    VolumeState,
    initial_state,
    rank_of,
    score_of,
    severity_of,
)

__all__ = ["DAY_S", "DEFAULT", "SEVERITIES", "WEEK_S", "NabDetector", "VolumeConfig",
           "VolumeSignal", "VolumeState", "evaluate", "expected", "initial_state",
           "is_elevated", "score_of", "severity_of", "update"]

_MIN_LOG_K = math.log(1e-7)  # below this k is 0 for any watch (k M^2 << M)


def _season(state: VolumeState, ts: float) -> float:
    daily = interpolate(state.daily, ts, DAY_S)
    weekly = interpolate(state.weekly, ts + WEEK_OFFSET_S, WEEK_S)
    return max(daily * weekly, 1e-6)



def expected(state: VolumeState, ts: float, cfg: VolumeConfig = DEFAULT) -> float:
    """Expected count of the bucket starting at ts (dashboard baseline)."""
    step_s = state.step_s or cfg.bucket_s or 60.0
    return max(state.level * _season(state, ts), cfg.min_rate_per_s) * step_s


def is_elevated(state: VolumeState) -> bool:
    """True while a reported spike has not yet returned to normal."""
    return state.elevated


def _k(state: VolumeState, j: int, warm: bool, cfg: VolumeConfig) -> float:
    if not warm:
        return cfg.prior_dispersion
    lk = state.log_k[j]
    return math.exp(lk) if lk > _MIN_LOG_K else 0.0


def _history_rate(past_ts: tuple[float, ...], past_size: tuple[float, ...], exposure: float,
                  size: float, ts: float, cfg: VolumeConfig) -> float:
    """Lower bound of how often (per day) this watch made unexplained bursts >= size."""
    if exposure <= 0.0:
        return 0.0
    n = sum(0.5 ** ((ts - t0) / cfg.history_half_life_s)
            for t0, s in zip(past_ts, past_size, strict=True) if s >= size)
    return poisson_lower(n, cfg.history_z) / exposure


_Baseline = tuple[int, float, tuple[float, ...], tuple[float, ...], tuple[float, ...],
                  tuple[float, ...]]


def _learn(state: VolumeState, ts: float, count: float, mu: float, k0: float, step_s: float,
           elevated: bool, factors: tuple[float, float], cfg: VolumeConfig) -> _Baseline:
    """Level and profiles updated with one bucket, capped at its upper Poisson bound."""
    f = 1.0 + k0 * mu  # variance / mean of the bucket count
    cap = f * (math.sqrt(mu / f) + 0.5 * cfg.clip_z) ** 2
    rate = min(count, cap) / step_s
    daily_now, weekly_now = factors
    slow = cfg.elevated_slowdown if elevated else 1.0
    n = state.n + 1
    a_level = max(ew_alpha(step_s, cfg.level_half_life_s * slow), 1.0 / n)
    deseason = rate / (daily_now * weekly_now)
    level = state.level + a_level * (deseason - state.level) if state.n else deseason
    base = max(level, cfg.min_rate_per_s)
    # a slot only sees its own part of the period: its half-life in updates shrinks with it
    a_daily = ew_alpha(step_s, cfg.daily_half_life_s * slow * cfg.daily_slot_s / DAY_S)
    daily, daily_w, d_mean = learn_profile(state.daily, state.daily_w, ts, DAY_S,
                                           rate / (base * weekly_now), a_daily,
                                           cfg.daily_slot_s / step_s)
    a_weekly = ew_alpha(step_s, cfg.weekly_half_life_s * slow / 7.0)
    weekly, weekly_w, w_mean = learn_profile(state.weekly, state.weekly_w, ts + WEEK_OFFSET_S,
                                             WEEK_S, rate / (base * daily_now), a_weekly,
                                             DAY_S / step_s)
    level *= d_mean * w_mean  # the renormalisation moves scale from the profiles to the level
    return n, level, daily, daily_w, weekly, weekly_w


def _fit_dispersion(log_k: tuple[float, ...], cs: list[float], ms: list[float], vs: list[float],
                    step_s: float, cfg: VolumeConfig) -> tuple[float, ...]:
    """One Robbins-Monro step per scale towards median(r^2 / var) = 0.455 (Gaussian median).

    A median ignores how far the bursts go, so k measures the ordinary noise; the step is
    dispersion_rate_per_day per day of evidence, in ln k.
    """
    eta = cfg.dispersion_rate_per_day * step_s / DAY_S
    out = []
    for lk, c, m, v in zip(log_k, cs, ms, vs, strict=True):
        var = v + (math.exp(lk) if lk > _MIN_LOG_K else 0.0) * m * m
        if var > 0.0:
            lk = max(lk + (eta if (c - m) ** 2 > 0.4549 * var else -eta), _MIN_LOG_K)
        out.append(lk)
    return tuple(out)


def update(state: VolumeState, ts: float, count: float, cfg: VolumeConfig = DEFAULT
           ) -> VolumeState:
    """Add the bucket starting at ts (POSIX seconds) holding count posts."""
    if not state.daily or len(state.log_k) != len(cfg.evidence_s):
        state = _reset_evidence(state, cfg)
    count = max(float(count), 0.0)
    if not (math.isfinite(count) and math.isfinite(ts)):
        return state
    if state.last_ts is None:
        # the first bucket only starts the clock unless the bucket size is configured
        state = replace(state, first_ts=ts, last_ts=ts, step_s=cfg.bucket_s)
        if cfg.bucket_s is None:
            return replace(state, count=count)
        dt = cfg.bucket_s
    elif ts <= state.last_ts:
        return state  # duplicate or late bucket: already accounted for
    else:
        dt = ts - state.last_ts
    step_s = cfg.bucket_s or min(state.step_s or dt, dt)
    first_ts = state.first_ts if state.first_ts is not None else ts
    warm = ts - first_ts >= cfg.warmup_s
    daily_now = interpolate(state.daily, ts, DAY_S)
    weekly_now = interpolate(state.weekly, ts + WEEK_OFFSET_S, WEEK_S)
    factors = (max(daily_now, MIN_FACTOR), max(weekly_now, MIN_FACTOR))
    season = max(daily_now * weekly_now, 1e-6)
    mu = max(state.level * season, cfg.min_rate_per_s) * step_s if state.n else count

    # evidence per scale; a gap decays the sums and adds nothing
    cs, ms, vs = [], [], []
    log_far, z_max = -math.inf, -math.inf
    for j, tau_s in enumerate(cfg.evidence_s):
        d = math.exp(-dt / tau_s) if tau_s > 0.0 else 0.0
        c = state.ev_count[j] * d + count
        m = state.ev_mean[j] * d + mu
        v = state.ev_var[j] * d * d + mu
        z = overdispersed_z(c, m, v + _k(state, j, warm, cfg) * m * m)
        cs.append(c)
        ms.append(m)
        vs.append(v)
        z_max = max(z_max, z)
        # the most significant scale decides; spikes_per_crossing accounts for the rest
        log_far = max(log_far, -log_crossings_per_day(z, d, step_s))
    model_days = math.exp(min(log_far, 700.0)) / cfg.spikes_per_crossing
    d0 = math.exp(-step_s / cfg.evidence_s[0]) if cfg.evidence_s[0] > 0.0 else 0.0
    ref_rate = max(mu / step_s, state.level, cfg.min_rate_per_s)
    size = cs[0] * (1.0 - d0) / step_s / ref_rate

    # self-calibration: excursions (model T >= 1 day) and the history of unexplained bursts
    past_ts, past_size, run_days, run_size = (state.past_ts, state.past_size, state.run_days,
                                              state.run_size)
    exposure = state.exposure_days * 0.5 ** (dt / cfg.history_half_life_s) + (
        dt / DAY_S if warm else 0.0)
    days = model_days
    if model_days >= 1.0:
        run_days, run_size = max(run_days, model_days), max(run_size, size)
        hist = _history_rate(state.past_ts, state.past_size, exposure, run_size, ts, cfg)
        days = min(model_days, 1.0 / hist) if hist > 0.0 else model_days
    elif run_days > 0.0:
        if warm and run_days >= cfg.crisis_days:
            keep = cfg.history_size - 1
            past_ts, past_size = (*past_ts[-keep:], ts), (*past_size[-keep:], run_size)
        run_days, run_size = 0.0, 0.0

    rank = rank_of(days, cfg)
    elevated, quiet_since, onset_ts, last_rank = (state.elevated, state.quiet_since,
                                                  state.onset_ts, state.rank)
    report = onset = False
    if not elevated:
        if rank >= 1 and max(cs[0] - ms[0], cs[-1] - ms[-1]) >= cfg.min_excess and state.n:
            # spikes during warm-up are tracked (no double report later) but not reported
            elevated, quiet_since, onset_ts, last_rank = True, None, ts, rank
            report = onset = warm
    else:
        # the first alert-level report of a spike is never held back; later ones are spaced
        cooled = (last_rank < 2 or state.last_report_ts is None
                  or ts - state.last_report_ts >= cfg.escalation_gap_s)
        if rank > last_rank and warm and cooled:
            last_rank, report = rank, True
        if days < cfg.rearm_days:
            quiet_since = ts if quiet_since is None else quiet_since
            if ts - quiet_since >= cfg.rearm_s:
                elevated, quiet_since, last_rank = False, None, 0
        else:
            quiet_since = None
    score = score_of(days, cfg) if report else 0.0

    log_k = state.log_k
    if warm and not state.elevated:
        log_k = _fit_dispersion(log_k, cs, ms, vs, step_s, cfg)
    n, level, daily, daily_w, weekly, weekly_w = _learn(
        state, ts, count, mu, _k(state, 0, warm, cfg), step_s, elevated, factors, cfg)
    return VolumeState(
        first_ts=first_ts, last_ts=ts, step_s=step_s, n=n, level=level, daily=daily,
        daily_w=daily_w, weekly=weekly, weekly_w=weekly_w, ev_count=tuple(cs),
        ev_mean=tuple(ms), ev_var=tuple(vs), log_k=log_k, past_ts=past_ts,
        past_size=past_size, exposure_days=exposure, run_days=run_days, run_size=run_size,
        elevated=elevated, quiet_since=quiet_since, rank=last_rank, onset_ts=onset_ts,
        last_report_ts=ts if report else state.last_report_ts, count=count, expected=mu,
        z=z_max, size=size, return_days=days, score=score,
        severity=SEVERITIES[max(rank, 1) - 1] if report else "", onset=onset)


def _reset_evidence(state: VolumeState, cfg: VolumeConfig) -> VolumeState:
    """Fresh evidence for an empty state, or one written with other scales or fields."""
    fresh = initial_state(cfg)
    if not state.daily:
        return fresh
    return replace(state, ev_count=fresh.ev_count, ev_mean=fresh.ev_mean,
                   ev_var=fresh.ev_var, log_k=fresh.log_k)


def evaluate(state: VolumeState, cfg: VolumeConfig = DEFAULT) -> VolumeSignal | None:
    """Signal of the last bucket if it is a spike onset/escalation scoring >= alert_threshold."""
    if not state.severity or state.score < cfg.alert_threshold or state.last_ts is None:
        return None
    ratio = state.count / state.expected if state.expected > 0 else math.inf
    return VolumeSignal(
        bucket_ts=state.last_ts, count=state.count, expected=state.expected, score=state.score,
        severity=state.severity, ratio=ratio, z=state.z, size=state.size,
        return_days=state.return_days, onset=state.onset,
        onset_ts=state.onset_ts if state.onset_ts is not None else state.last_ts,
    )


class NabDetector:
    """Adapter for NAB's run_detector.py: one instance per series, score in [0, 1]."""

    def __init__(self, **overrides: Any) -> None:
        if "evidence_s" in overrides:
            overrides["evidence_s"] = tuple(overrides["evidence_s"])
        self.cfg = replace(DEFAULT, **overrides)
        self.state = initial_state(self.cfg)

    def update(self, timestamp: float, value: float) -> float:
        """Feed one bucket; the score is non-zero only at spike onsets and escalations."""
        self.state = update(self.state, timestamp, value, self.cfg)
        return self.state.score
