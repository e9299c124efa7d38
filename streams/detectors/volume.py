"""Volume-spike detector: seasonal count baseline, overdispersed Poisson z, onset-only signals.

Pure and streaming: ``update(state, ts, count)`` returns a new frozen state, ``evaluate(state)``
reads the signal of the bucket just added.  Cost and memory are O(1) per bucket.

Model, all in seconds so that the bucket size does not matter:
- expected rate = level x daily profile(hour) x weekly profile(day); the profiles are
  interpolated between slot centres and learnt with EWMAs; the level follows the trend;
- noise: Poisson plus a negative-binomial term ``k * mean**2`` estimated online;
- evidence: counts and expectations accumulated over ``evidence_s`` and turned into a
  tail z-score (Poisson-matched, so it is right at 0.3 posts per bucket and at 3,000);
- baseline updates are winsorised so that a spike does not become the baseline;
- a spike is reported once, at its onset (plus at most one report per severity escalation),
  then the detector stays elevated until volume has been normal for ``rearm_s``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from streams.detectors._volume_math import ew_alpha, overdispersed_z, slot_weights

DAY_S = 86400.0
WEEK_S = 7 * DAY_S
# 1970-01-01 was a Thursday: shift so that weekly slot 0 is Monday (UTC).
_WEEK_OFFSET_S = 3 * DAY_S
SEVERITIES = ("watch", "warning", "crisis")
_MIN_FACTOR = 0.01
_TUPLES = ("daily", "daily_w", "weekly", "weekly_w", "ev_count", "ev_mean", "ev_num", "ev_den")


@dataclass(frozen=True)
class VolumeConfig:
    """Detector parameters; every duration is in seconds, the defaults are the product's."""

    bucket_s: float | None = None  # None: inferred as the smallest gap between buckets
    level_half_life_s: float = 0.5 * DAY_S
    daily_half_life_s: float = 4 * DAY_S
    weekly_half_life_s: float = 21 * DAY_S
    dispersion_half_life_s: float = 2 * DAY_S
    daily_slot_s: float = 3600.0
    warmup_s: float = DAY_S
    # time constants of the evidence accumulators: a burst, and a sustained rise
    evidence_s: tuple[float, ...] = (120.0, 3600.0)
    clip_z: float = 3.0  # baseline updates are capped at expected + clip_z sd
    prior_dispersion: float = 0.1  # k used until the data says otherwise (cv ~ 30%)
    min_rate_per_s: float = 1.0 / DAY_S  # floor of the expected rate (one post a day)
    min_excess: float = 3.0  # posts above expectation needed for an onset
    onset_z: float = 4.0
    rearm_z: float = 1.0
    rearm_s: float = 3600.0
    z_half: float = 8.0  # z at which the score is 0.5
    watch_score: float = 0.2
    warning_score: float = 0.5
    crisis_score: float = 0.8
    alert_threshold: float = 0.5
    escalate: bool = True


DEFAULT = VolumeConfig()


@dataclass(frozen=True)
class VolumeState:
    """Immutable snapshot of one entity's detector; JSON-compatible via to_dict/from_dict."""

    first_ts: float | None = None
    last_ts: float | None = None
    step_s: float | None = None
    n: int = 0
    level: float = 0.0  # deseasonalised posts per second
    daily: tuple[float, ...] = ()
    daily_w: tuple[float, ...] = ()
    weekly: tuple[float, ...] = ()
    weekly_w: tuple[float, ...] = ()
    disp_num: float = 0.0  # bucket-level negative-binomial k = disp_num / disp_den
    disp_den: float = 0.0
    # one entry per evidence time scale: decayed sums and that scale's own dispersion
    ev_count: tuple[float, ...] = ()
    ev_mean: tuple[float, ...] = ()
    ev_num: tuple[float, ...] = ()
    ev_den: tuple[float, ...] = ()
    elevated: bool = False
    quiet_since: float | None = None
    reported_rank: int = 0
    onset_ts: float | None = None
    # the bucket just added, for evaluate()
    count: float = 0.0
    expected: float = 0.0
    z: float = 0.0
    score: float = 0.0
    severity: str = ""
    onset: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (tuples become lists)."""
        d = asdict(self)
        for key in _TUPLES:
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VolumeState:
        """Rebuild a state from to_dict() output (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        for key in _TUPLES:
            if key in kw:
                kw[key] = tuple(float(x) for x in kw[key])
        return cls(**kw)


@dataclass(frozen=True)
class VolumeSignal:
    """A volume spike report: onset (or severity escalation) of one spike."""

    bucket_ts: float
    count: float
    expected: float
    score: float
    severity: str
    ratio: float
    z: float
    onset: bool  # False for an escalation of an already reported spike
    onset_ts: float


def initial_state(cfg: VolumeConfig = DEFAULT) -> VolumeState:
    """Empty state with flat profiles."""
    n_daily = max(1, round(DAY_S / cfg.daily_slot_s))
    zeros = (0.0,) * len(cfg.evidence_s)
    return VolumeState(
        daily=(1.0,) * n_daily, daily_w=(0.0,) * n_daily, weekly=(1.0,) * 7, weekly_w=(0.0,) * 7,
        ev_count=zeros, ev_mean=zeros, ev_num=zeros, ev_den=zeros,
    )


def _season(state: VolumeState, ts: float) -> float:
    n_daily = len(state.daily)
    a, b, f = slot_weights(ts, DAY_S, n_daily)
    daily = state.daily[a] * (1.0 - f) + state.daily[b] * f
    c, d, g = slot_weights(ts + _WEEK_OFFSET_S, WEEK_S, 7)
    weekly = state.weekly[c] * (1.0 - g) + state.weekly[d] * g
    return max(daily * weekly, 1e-6)


def expected(state: VolumeState, ts: float, cfg: VolumeConfig = DEFAULT) -> float:
    """Expected count of the bucket starting at ts (dashboard baseline)."""
    step_s = state.step_s or cfg.bucket_s or 60.0
    rate = max(state.level * _season(state, ts), cfg.min_rate_per_s)
    return rate * step_s


def is_elevated(state: VolumeState) -> bool:
    """True while a reported spike has not yet returned to normal."""
    return state.elevated


def _dispersion(num: float, den: float, cfg: VolumeConfig, warm: bool) -> float:
    k = num / den if den > 0.0 else cfg.prior_dispersion
    return max(k, 0.0) if warm else max(k, cfg.prior_dispersion)


def _score(z: float, cfg: VolumeConfig) -> float:
    if z <= 0.0:
        return 0.0
    return z * z / (z * z + cfg.z_half * cfg.z_half)


def _severity_rank(score: float, cfg: VolumeConfig) -> int:
    cuts = (cfg.watch_score, cfg.warning_score, cfg.crisis_score)
    return sum(1 for c in cuts if score >= c)


def _ew_update(values: tuple[float, ...], weights: tuple[float, ...], idx: tuple[int, int],
               share: tuple[float, float], target: float, alpha: float,
               ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    vals, ws = list(values), list(weights)
    for i, s in zip(idx, share, strict=True):
        if s <= 0.0:
            continue
        # bias-corrected start: a slot's first observations are averaged, not shrunk to 1
        a = max(alpha * s, s / (ws[i] + s))
        vals[i] += a * (target - vals[i])
        ws[i] = min(ws[i] + s, 1e9)
    mean = sum(vals) / len(vals)
    # a floor keeps a silent slot from pinning its expectation at exactly zero forever
    return tuple(max(v / mean, _MIN_FACTOR) for v in vals), tuple(ws)


def _learn(state: VolumeState, ts: float, count: float, mu: float, k: float, step_s: float,
           cfg: VolumeConfig) -> VolumeState:
    """Winsorised update of level, profiles and dispersion with one bucket."""
    sd = math.sqrt(mu + k * mu * mu)
    capped = min(count, mu + cfg.clip_z * sd)
    rate = capped / step_s
    n_daily = len(state.daily)
    a, b, f = slot_weights(ts, DAY_S, n_daily)
    c, d, g = slot_weights(ts + _WEEK_OFFSET_S, WEEK_S, 7)
    daily_now = state.daily[a] * (1.0 - f) + state.daily[b] * f
    weekly_now = state.weekly[c] * (1.0 - g) + state.weekly[d] * g
    level_floor = cfg.min_rate_per_s
    n = state.n + 1
    a_level = max(ew_alpha(step_s, cfg.level_half_life_s), 1.0 / n)
    deseason = rate / max(daily_now * weekly_now, 1e-6)
    level = state.level + a_level * (deseason - state.level) if state.n else deseason
    base = max(level, level_floor)
    a_daily = ew_alpha(step_s, cfg.daily_half_life_s * cfg.daily_slot_s / DAY_S)
    daily, daily_w = _ew_update(state.daily, state.daily_w, (a, b), (1.0 - f, f),
                                rate / (base * max(weekly_now, _MIN_FACTOR)), a_daily)
    a_weekly = ew_alpha(step_s, cfg.weekly_half_life_s / 7.0)
    weekly, weekly_w = _ew_update(state.weekly, state.weekly_w, (c, d), (1.0 - g, g),
                                  rate / (base * max(daily_now, _MIN_FACTOR)), a_weekly)
    # renormalised profiles: keep the expectation continuous by moving the scale into the level
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
    if not math.isfinite(count) or not math.isfinite(ts):
        return state
    if state.last_ts is None:
        # the first bucket only starts the clock unless the bucket size is configured
        state = replace(state, first_ts=ts, last_ts=ts, step_s=cfg.bucket_s)
        if cfg.bucket_s is None:
            return replace(state, count=count, expected=0.0, z=0.0, score=0.0, severity="",
                           onset=False)
        dt = cfg.bucket_s
    elif ts <= state.last_ts:
        return state  # duplicate or late bucket: already accounted for
    else:
        dt = ts - state.last_ts
    step_s = cfg.bucket_s or min(state.step_s or dt, dt)
    first_ts = state.first_ts if state.first_ts is not None else ts
    warm = ts - first_ts >= cfg.warmup_s
    k = _dispersion(state.disp_num, state.disp_den, cfg, warm)
    mu = (max(state.level * _season(state, ts), cfg.min_rate_per_s) * step_s
          if state.n else count)

    # evidence per time scale; missing buckets add nothing to either side
    a_disp = max(ew_alpha(step_s, cfg.dispersion_half_life_s), 1.0 / (state.n + 1))
    ev_count, ev_mean, ev_num, ev_den = [], [], [], []
    z, excess = -math.inf, 0.0
    for j, tau_s in enumerate(cfg.evidence_s):
        decay = math.exp(-dt / tau_s) if tau_s > 0 else 0.0
        c = state.ev_count[j] * decay + count
        m = state.ev_mean[j] * decay + mu
        kj = _dispersion(state.ev_num[j], state.ev_den[j], cfg, warm)
        sd = math.sqrt(m + kj * m * m)
        zj = overdispersed_z(c, m, sd * sd)
        if zj > z:
            z, excess = zj, c - m
        resid = min(abs(c - m), cfg.clip_z * sd)
        ev_num.append(state.ev_num[j] + a_disp * ((resid * resid - m) - state.ev_num[j]))
        ev_den.append(state.ev_den[j] + a_disp * (m * m - state.ev_den[j]))
        ev_count.append(c)
        ev_mean.append(m)

    elevated, quiet_since, rank, onset_ts = (state.elevated, state.quiet_since,
                                             state.reported_rank, state.onset_ts)
    score, severity, onset = 0.0, "", False
    if warm and state.n:
        s = _score(z, cfg)
        new_rank = _severity_rank(s, cfg)
        strong = z >= cfg.onset_z and excess >= cfg.min_excess
        if not elevated and strong and new_rank > 0:
            elevated, quiet_since, rank, onset_ts = True, None, new_rank, ts
            score, severity, onset = s, SEVERITIES[new_rank - 1], True
        elif elevated:
            if cfg.escalate and strong and new_rank > rank:
                rank = new_rank
                score, severity = s, SEVERITIES[new_rank - 1]
            if z < cfg.rearm_z:
                quiet_since = ts if quiet_since is None else quiet_since
                if ts - quiet_since >= cfg.rearm_s:
                    elevated, quiet_since, rank = False, None, 0
            else:
                quiet_since = None

    new = replace(state, first_ts=first_ts, last_ts=ts, step_s=step_s,
                  ev_count=tuple(ev_count), ev_mean=tuple(ev_mean), ev_num=tuple(ev_num),
                  ev_den=tuple(ev_den), elevated=elevated, quiet_since=quiet_since,
                  reported_rank=rank, onset_ts=onset_ts, count=count, expected=mu, z=z,
                  score=score, severity=severity, onset=onset)
    return _learn(new, ts, count, mu, k, step_s, cfg)


def evaluate(state: VolumeState, cfg: VolumeConfig = DEFAULT) -> VolumeSignal | None:
    """The signal of the last bucket if it is a spike onset/escalation at or above the alert
    threshold."""
    if not state.severity or state.score < cfg.alert_threshold or state.last_ts is None:
        return None
    ratio = state.count / state.expected if state.expected > 0 else math.inf
    return VolumeSignal(
        bucket_ts=state.last_ts, count=state.count, expected=state.expected, score=state.score,
        severity=state.severity, ratio=ratio, z=state.z, onset=state.onset,
        onset_ts=state.onset_ts if state.onset_ts is not None else state.last_ts,
    )


class NabDetector:
    """Adapter for NAB's run_detector.py: one instance per series, score in [0, 1]."""

    def __init__(self, **overrides: Any) -> None:
        self.cfg = replace(DEFAULT, **overrides)
        self.state = initial_state(self.cfg)

    def update(self, timestamp: float, value: float) -> float:
        """Feed one bucket; the score is non-zero only at spike onsets/escalations."""
        self.state = update(self.state, timestamp, value, self.cfg)
        return self.state.score if self.state.severity else 0.0
