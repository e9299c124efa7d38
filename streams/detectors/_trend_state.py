"""Configuration, state and signal types of the trending-hashtag detector (see trending.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.aggregate.sketches import SpaceSaving
from streams.codec import TRANSIENT
from streams.detectors.protocol import Signal

ALERT_TYPE = "trending_hashtag"
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
