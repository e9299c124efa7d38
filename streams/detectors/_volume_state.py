"""Configuration, state and signal types of the volume-spike detector (see volume.py)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

DAY_S = 86400.0
WEEK_S = 7 * DAY_S
WEEK_OFFSET_S = 3 * DAY_S  # 1970-01-01 was a Thursday: weekly slot 0 is Monday (UTC)
SEVERITIES = ("watch", "warning", "crisis")
_TUPLES = ("daily", "daily_w", "weekly", "weekly_w", "ev_count", "ev_mean", "ev_var", "log_k",
           "past_ts", "past_size")


@dataclass(frozen=True)
class VolumeConfig:
    """Detector parameters; durations in seconds, rarities in days between false alarms.

    Why each value: streams/eval/VOLUME.md (section "parameters").
    """

    bucket_s: float | None = None  # None: inferred as the smallest gap between buckets
    # baseline: level x hour-of-day x day-of-week, each an EW average
    level_half_life_s: float = 2 * DAY_S
    daily_half_life_s: float = 4 * DAY_S
    weekly_half_life_s: float = 14 * DAY_S
    daily_slot_s: float = 3600.0
    clip_z: float = 3.0  # the baseline learns a count capped at its upper Poisson bound
    elevated_slowdown: float = 4.0  # half-lives stretched this much while a spike is on
    warmup_s: float = DAY_S  # nothing is reported before a day of data
    # evidence: decayed sums of counts and expectations with these time constants
    evidence_s: tuple[float, ...] = (900.0, 3600.0, 14400.0)
    dispersion_rate_per_day: float = 4.0  # step of the median-matching of log k, per day
    # spikes of a quiet watch per predicted crossing of the most significant scale: the three
    # scales overlap, nearby crossings merge into one spike, the baseline is itself fitted.
    # Measured on simulated quiet watches (VOLUME.md), not on labelled data
    spikes_per_crossing: float = 0.55
    prior_dispersion: float = 0.1  # k used during the warm-up (cv ~ 30 %)
    min_rate_per_s: float = 1.0 / DAY_S  # floor of the expected rate (one post a day)
    min_excess: float = 3.0  # posts above expectation needed for an onset
    # the score is a return period: "a spike at least this strong happens once in T days"
    watch_days: float = 10.0  # an onset
    warning_days: float = 30.0  # what the product alerts at (score 0.6)
    crisis_days: float = 365.0
    rearm_days: float = 1.0  # a spike is over once it reads as a daily event ...
    rearm_s: float = 7200.0  # ... for this long
    escalation_gap_s: float = 1800.0  # at most one report per spike this often
    # self-calibration: bursts the model calls rarer than crisis_days, remembered for this long
    history_half_life_s: float = 14 * DAY_S
    history_size: int = 48
    history_z: float = 1.28  # one-sided 90 % lower bound of their rate

    @property
    def alert_threshold(self) -> float:
        """Score of a warning-level spike: the product alerts at and above it."""
        return score_of(self.warning_days, self)


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
    # per evidence scale: decayed sums of counts, expectations, Poisson variances; ln k
    ev_count: tuple[float, ...] = ()
    ev_mean: tuple[float, ...] = ()
    ev_var: tuple[float, ...] = ()
    log_k: tuple[float, ...] = ()
    # the watch's own bursts that the model calls rarer than crisis_days: when and how big
    past_ts: tuple[float, ...] = ()
    past_size: tuple[float, ...] = ()
    exposure_days: float = 0.0  # decayed days of history behind them
    run_days: float = 0.0  # model return period peak of the current excursion (0: none)
    run_size: float = 0.0  # its largest size so far
    elevated: bool = False
    quiet_since: float | None = None
    rank: int = 0  # severity index + 1 of the last report of the current spike
    onset_ts: float | None = None
    last_report_ts: float | None = None  # for the escalation cooldown
    # the bucket just added, for evaluate()
    count: float = 0.0
    expected: float = 0.0
    z: float = 0.0  # strongest tail z over the evidence scales
    size: float = 0.0  # short-scale rate / max(expected rate, daily average rate)
    return_days: float = 0.0  # calibrated: such a spike happens once in this many days
    score: float = 0.0
    severity: str = ""
    onset: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (tuples become lists, infinities are capped)."""
        d = asdict(self)
        for key in _TUPLES:
            d[key] = list(d[key])
        d["return_days"] = min(d["return_days"], 1e300)
        d["run_days"] = min(d["run_days"], 1e300)
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
    """A volume spike report: onset (or escalation) of one spike."""

    bucket_ts: float
    count: float
    expected: float
    score: float
    severity: str
    ratio: float
    z: float
    size: float  # short-scale rate / max(expected rate, daily average rate)
    return_days: float  # such a spike happens once in this many days on this watch
    onset: bool  # False for an escalation of an already reported spike
    onset_ts: float


def initial_state(cfg: VolumeConfig = DEFAULT) -> VolumeState:
    """Empty state with flat profiles."""
    n_daily = max(1, round(DAY_S / cfg.daily_slot_s))
    zeros = (0.0,) * len(cfg.evidence_s)
    return VolumeState(
        daily=(1.0,) * n_daily, daily_w=(0.0,) * n_daily, weekly=(1.0,) * 7, weekly_w=(0.0,) * 7,
        ev_count=zeros, ev_mean=zeros, ev_var=zeros,
        log_k=(math.log(cfg.prior_dispersion),) * len(cfg.evidence_s),
    )


def score_of(return_days: float, cfg: VolumeConfig = DEFAULT) -> float:
    """Score in [0, 1) of a return period: 0.5 at watch_days, 0.6 at warning_days.

    x / (1 + x) with x = (T / watch_days) ** beta, beta set by the two levels, so the score
    grows with the log of the rarity and one threshold means the same on every watch.
    """
    if return_days <= 0.0:
        return 0.0
    beta = math.log(1.5) / math.log(cfg.warning_days / cfg.watch_days)
    log_x = beta * (math.log(return_days) - math.log(cfg.watch_days))
    if log_x > 700.0:
        return 1.0 - 1e-12
    x = math.exp(log_x)
    return min(x / (1.0 + x), 1.0 - 1e-12)


def rank_of(return_days: float, cfg: VolumeConfig = DEFAULT) -> int:
    """0 below watch_days, then 1 (watch), 2 (warning), 3 (crisis)."""
    if return_days >= cfg.crisis_days:
        return 3
    if return_days >= cfg.warning_days:
        return 2
    return 1 if return_days >= cfg.watch_days else 0


def severity_of(score: float, cfg: VolumeConfig = DEFAULT) -> str:
    """Severity label of a score (the inverse of score_of at the three levels)."""
    if score >= score_of(cfg.crisis_days, cfg):
        return "crisis"
    return "warning" if score >= score_of(cfg.warning_days, cfg) else "watch"
