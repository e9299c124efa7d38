"""Configuration, state and signal types of the volume-spike detector (see volume.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

DAY_S = 86400.0
WEEK_S = 7 * DAY_S
WEEK_OFFSET_S = 3 * DAY_S  # 1970-01-01 was a Thursday: weekly slot 0 is Monday (UTC)
SEVERITIES = ("watch", "warning", "crisis")
_TUPLES = ("daily", "daily_w", "weekly", "weekly_w", "ev_count", "ev_mean", "ev_time",
           "ev_num", "ev_den", "peak", "ref")


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
    evidence_s: tuple[float, ...] = (120.0, 7200.0)
    clip_z: float = 3.0  # baseline updates are capped at expected + clip_z sd
    prior_dispersion: float = 0.1  # k used until the data says otherwise (cv ~ 30%)
    min_rate_per_s: float = 1.0 / DAY_S  # floor of the expected rate (one post a day)
    min_excess: float = 3.0  # posts above expectation needed for an onset
    onset_z: float = 3.5  # significance of a burst onset
    novelty_z: float = 2.0  # lower significance accepted when the sustained rate is a record
    rearm_z: float = 2.0  # the quiet clock restarts only on a significant burst
    rearm_s: float = 7200.0
    peak_half_life_s: float = 3 * DAY_S  # memory of "the highest volume seen lately"
    escalation_factor: float = 1.5  # re-report a spike that grows this much stronger
    escalation_gap_s: float = 1800.0  # cooldown: at most one report per spike this often
    warning_score: float = 0.6  # 1.5 times the recent peak (an onset: about 2.5 times)
    crisis_score: float = 0.8  # four times the recent peak (an onset: about 10 times)
    alert_threshold: float = 0.6
    # an onset rests on the first bucket(s) of a spike, where one-bucket blips are common: its
    # score is lowered by this margin; an escalation (the spike lasted and grew) is not.  A
    # constant in score units, so that 60 s and 300 s buckets keep comparable scores
    onset_margin: float = 0.11


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
    # per evidence scale: decayed sums of counts, expectations, durations, own dispersion,
    # decayed max of the rate, and that max frozen at the current spike's onset
    ev_count: tuple[float, ...] = ()
    ev_mean: tuple[float, ...] = ()
    ev_time: tuple[float, ...] = ()
    ev_num: tuple[float, ...] = ()
    ev_den: tuple[float, ...] = ()
    peak: tuple[float, ...] = ()
    ref: tuple[float, ...] = ()
    elevated: bool = False
    quiet_since: float | None = None
    best: float = 0.0  # strongest novelty reported for the current spike
    onset_ts: float | None = None
    last_report_ts: float | None = None  # for the escalation cooldown
    # the bucket just added, for evaluate()
    count: float = 0.0
    expected: float = 0.0
    z: float = 0.0
    novelty: float = 0.0
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
    """A volume spike report: onset (or escalation) of one spike."""

    bucket_ts: float
    count: float
    expected: float
    score: float
    severity: str
    ratio: float
    z: float
    novelty: float  # rate / highest rate of the last days
    onset: bool  # False for an escalation of an already reported spike
    onset_ts: float


def initial_state(cfg: VolumeConfig = DEFAULT) -> VolumeState:
    """Empty state with flat profiles."""
    n_daily = max(1, round(DAY_S / cfg.daily_slot_s))
    zeros = (0.0,) * len(cfg.evidence_s)
    return VolumeState(
        daily=(1.0,) * n_daily, daily_w=(0.0,) * n_daily, weekly=(1.0,) * 7, weekly_w=(0.0,) * 7,
        ev_count=zeros, ev_mean=zeros, ev_time=zeros, ev_num=zeros, ev_den=zeros, peak=zeros,
        ref=zeros,
    )


def score_of(novelty: float) -> float:
    """Score in [0, 1) of a novelty ratio: 0.5 = as high as the recent peak."""
    return novelty / (novelty + 1.0) if novelty > 0.0 else 0.0


def severity_of(score: float, cfg: VolumeConfig = DEFAULT) -> str:
    """Severity label of a score."""
    if score >= cfg.crisis_score:
        return "crisis"
    return "warning" if score >= cfg.warning_score else "watch"
