"""Volume-spike detector: seasonal count baseline, overdispersed Poisson z, novelty score.

Pure and streaming: ``update(state, ts, count)`` returns a new frozen state, ``evaluate(state)``
reads the signal of the bucket just added.  Cost and memory are O(1) per bucket, and every
parameter is in seconds so that the bucket size (inferred from the timestamps) does not matter.

- Baseline: expected rate = level x daily profile x weekly profile (EWMAs, interpolated hourly
  slots), updated with winsorised counts so that a spike does not become the baseline.
- Significance: counts and expectations are accumulated over a burst scale and a sustained
  scale and turned into a tail z (Poisson-matched negative binomial, each scale estimating its
  own dispersion), so 0.3 posts per bucket and 3,000 are both handled.
- Score: an onset needs significance; its score says how new the volume is: the burst or
  sustained rate divided by the highest such rate of the last days (decayed max), mapped to
  [0, 1) by n / (n + 1).  Busy entities with daily bursts therefore stay quiet, and a first
  spike in a calm series stands out.  An onset scores ``onset_margin`` less: it rests on the
  first bucket(s) of a spike, and one-bucket blips are common, while an escalation (the
  spike lasted and grew) is scored in full.
- During the warm-up nothing is reported and the peak memory only learns capped rates, so a
  burst before the baseline exists does not make the following days look ordinary.
- A spike is reported once at its onset, again only if it grows ``escalation_factor`` times
  stronger than both its last report and the recent peak, at most once per
  ``escalation_gap_s``, and re-arms after ``rearm_s`` of normal volume.
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
    overdispersed_z,
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
    score_of,
    severity_of,
)

__all__ = ["DAY_S", "DEFAULT", "SEVERITIES", "WEEK_S", "NabDetector", "VolumeConfig",
           "VolumeSignal", "VolumeState", "evaluate", "expected", "initial_state",
           "is_elevated", "score_of", "severity_of", "update"]


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


def _dispersion(num: float, den: float, cfg: VolumeConfig, warm: bool) -> float:
    k = num / den if den > 0.0 else cfg.prior_dispersion
    return max(k, 0.0) if warm else max(k, cfg.prior_dispersion)


def _learn(state: VolumeState, ts: float, count: float, mu: float, k: float, step_s: float,
           cfg: VolumeConfig) -> VolumeState:
    """Winsorised update of level, profiles and bucket dispersion with one bucket."""
    sd = math.sqrt(mu + k * mu * mu)
    rate = min(count, mu + cfg.clip_z * sd) / step_s
    daily_now = max(interpolate(state.daily, ts, DAY_S), MIN_FACTOR)
    weekly_now = max(interpolate(state.weekly, ts + WEEK_OFFSET_S, WEEK_S), MIN_FACTOR)
    n = state.n + 1
    a_level = max(ew_alpha(step_s, cfg.level_half_life_s), 1.0 / n)
    deseason = rate / (daily_now * weekly_now)
    level = state.level + a_level * (deseason - state.level) if state.n else deseason
    base = max(level, cfg.min_rate_per_s)
    # a slot only sees its own part of the period: its half-life in updates shrinks with it
    a_daily = ew_alpha(step_s, cfg.daily_half_life_s * cfg.daily_slot_s / DAY_S)
    daily, daily_w, d_mean = learn_profile(state.daily, state.daily_w, ts, DAY_S,
                                           rate / (base * weekly_now), a_daily,
                                           cfg.daily_slot_s / step_s)
    a_weekly = ew_alpha(step_s, cfg.weekly_half_life_s / 7.0)
    weekly, weekly_w, w_mean = learn_profile(state.weekly, state.weekly_w, ts + WEEK_OFFSET_S,
                                             WEEK_S, rate / (base * daily_now), a_weekly,
                                             DAY_S / step_s)
    level *= d_mean * w_mean  # the renormalisation moves scale from the profiles to the level
    a_disp = max(ew_alpha(step_s, cfg.dispersion_half_life_s), 1.0 / n)
    resid = min(abs(count - mu), cfg.clip_z * sd)
    disp_num = state.disp_num + a_disp * ((resid * resid - mu) - state.disp_num)
    disp_den = state.disp_den + a_disp * (mu * mu - state.disp_den)
    return replace(state, n=n, level=level, daily=daily, daily_w=daily_w, weekly=weekly,
                   weekly_w=weekly_w, disp_num=disp_num, disp_den=disp_den)


def update(state: VolumeState, ts: float, count: float, cfg: VolumeConfig = DEFAULT
           ) -> VolumeState:
    """Add the bucket starting at ts (POSIX seconds) holding count posts."""
    if not state.daily:
        state = initial_state(cfg)
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
    k = _dispersion(state.disp_num, state.disp_den, cfg, warm)
    mu = max(state.level * _season(state, ts), cfg.min_rate_per_s) * step_s if state.n else count

    # evidence per time scale; missing buckets add nothing to either side
    a_disp = max(ew_alpha(step_s, cfg.dispersion_half_life_s), 1.0 / (state.n + 1))
    peak_decay = 0.5 ** (dt / cfg.peak_half_life_s)
    cols: list[tuple[float, ...]] = []
    z, excess, novelty, z_burst, excess_burst = -math.inf, 0.0, 0.0, 0.0, 0.0
    for j, tau_s in enumerate(cfg.evidence_s):
        decay = math.exp(-dt / tau_s) if tau_s > 0 else 0.0
        c = state.ev_count[j] * decay + count
        m = state.ev_mean[j] * decay + mu
        t = state.ev_time[j] * decay + step_s  # exposure: a gap is not observed time
        kj = _dispersion(state.ev_num[j], state.ev_den[j], cfg, warm)
        sd = math.sqrt(m + kj * m * m)
        zj = overdispersed_z(c, m, sd * sd)
        if j == 0:
            z_burst, excess_burst = zj, c - m
        if zj > z:
            z, excess = zj, c - m
        resid = min(abs(c - m), cfg.clip_z * sd)
        num = state.ev_num[j] + a_disp * ((resid * resid - m) - state.ev_num[j])
        den = state.ev_den[j] + a_disp * (m * m - state.ev_den[j])
        rate = c / t
        # the remembered peak fades towards the expected rate, never below it: in a flat series
        # ordinary noise must not become a record again and again
        base_rate = m / t
        peak = max(base_rate + (state.peak[j] - base_rate) * peak_decay, base_rate)
        ref = state.ref[j] if state.elevated else peak
        novelty = max(novelty, rate / ref if ref > 0.0 else 0.0)
        # during warm-up the peak learns from capped rates, like the baseline: a burst before
        # any baseline exists (or the partial first buckets of a feed) must not mask the first
        # days as "nothing new"
        seen = rate if warm else min(rate, (m + cfg.clip_z * sd) / t)
        cols.append((c, m, t, num, den, max(peak, seen), ref))

    elevated, quiet_since, best, onset_ts = (state.elevated, state.quiet_since, state.best,
                                             state.onset_ts)
    report, onset = False, False
    last = cols[-1]  # the slowest scale: is the sustained rate a record?
    sustained_record = len(cols) > 1 and last[6] > 0 and last[0] / last[2] >= last[6]
    if not elevated:
        # a burst must be significant on its own scale; a slower rise only if it is a record
        # (the slow scale stays high for hours after a burst and must not re-trigger it)
        burst = z_burst >= cfg.onset_z and excess_burst >= cfg.min_excess
        sustained = sustained_record and z >= cfg.novelty_z and excess >= cfg.min_excess
        if (burst or sustained) and state.n:
            # spikes during warm-up are tracked (no double report later) but not reported
            elevated, quiet_since, best, onset_ts = True, None, novelty, ts
            report = onset = warm
    else:
        # an escalation must be factor x stronger than the last report and than the recent
        # peak itself (a sub-peak onset is no base for a ladder of reports), after a cooldown
        cooled = state.last_report_ts is None or ts - state.last_report_ts >= cfg.escalation_gap_s
        if novelty >= max(best, 1.0) * cfg.escalation_factor and warm and cooled:
            best, report = novelty, True
        # re-arm on the burst scale: the slow scale remembers a spike for hours after it ends
        if z_burst < cfg.rearm_z:
            quiet_since = ts if quiet_since is None else quiet_since
            if ts - quiet_since >= cfg.rearm_s:
                elevated, quiet_since, best = False, None, 0.0
        else:
            quiet_since = None
    margin = cfg.onset_margin if onset else 0.0
    score = max(score_of(novelty) - margin, 0.0) if report else 0.0
    last_report_ts = ts if report else state.last_report_ts

    ev = list(zip(*cols, strict=True)) if cols else [()] * 7
    new = replace(state, first_ts=first_ts, last_ts=ts, step_s=step_s, ev_count=ev[0],
                  ev_mean=ev[1], ev_time=ev[2], ev_num=ev[3], ev_den=ev[4], peak=ev[5],
                  ref=ev[6], elevated=elevated, quiet_since=quiet_since, best=best,
                  onset_ts=onset_ts, last_report_ts=last_report_ts, count=count, expected=mu,
                  z=z, novelty=novelty,
                  score=score, severity=severity_of(score, cfg) if report else "", onset=onset)
    return _learn(new, ts, count, mu, k, step_s, cfg)


def evaluate(state: VolumeState, cfg: VolumeConfig = DEFAULT) -> VolumeSignal | None:
    """Signal of the last bucket if it is a spike onset/escalation scoring >= alert_threshold."""
    if not state.severity or state.score < cfg.alert_threshold or state.last_ts is None:
        return None
    ratio = state.count / state.expected if state.expected > 0 else math.inf
    return VolumeSignal(
        bucket_ts=state.last_ts, count=state.count, expected=state.expected, score=state.score,
        severity=state.severity, ratio=ratio, z=state.z, novelty=state.novelty,
        onset=state.onset,
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
