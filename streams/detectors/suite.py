"""The detectors of a watch in their fixed order, with their configurations and states.

Order matters only through READS: bad buzz reads what volume, sentiment shift and influencer
derived from the same bucket, so it runs after them. ``ORDER`` is checked at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.detectors import (
    badbuzz,
    influencer,
    mobilisation,
    sentiment_shift,
    trending,
    volume,
    volume_spike,
)
from streams.detectors.protocol import Detector

ORDER: tuple[Detector, ...] = (volume_spike, sentiment_shift, influencer, badbuzz, trending,
                               mobilisation)
VOLUME_ONLY: tuple[Detector, ...] = (volume_spike,)
# the global scope ranks hashtags (and keeps a volume baseline), never alerts
RANKING_ONLY: tuple[Detector, ...] = (volume_spike, trending)


def _check_order(order: tuple[Detector, ...]) -> None:
    seen: set[str] = set()
    for det in order:
        missing = [n for n in det.READS if n not in seen]
        if missing:
            raise ValueError(f"detector {det.NAME} reads {missing}, which do not run before it")
        seen.add(det.NAME)


_check_order(ORDER)


@dataclass(frozen=True)
class DetectorConfigs:
    """Every detector's configuration, by detector NAME, and which detectors run."""

    volume: volume.VolumeConfig = field(
        default_factory=lambda: volume.VolumeConfig(bucket_s=60.0))
    shift: sentiment_shift.SentimentShiftConfig = sentiment_shift.DEFAULT
    influencer: influencer.InfluencerConfig = influencer.DEFAULT
    buzz: badbuzz.BadBuzzConfig = badbuzz.DEFAULT
    trend: trending.TrendConfig = trending.DEFAULT
    mob: mobilisation.MobilisationConfig = mobilisation.DEFAULT
    # the lowest level that may OPEN an incident, per type (a quiet day's watch-level bad-buzz
    # score is noise; an open incident still follows every level)
    min_open: Mapping[str, str] = field(default_factory=lambda: {badbuzz.ALERT_TYPE: "warning"})
    volume_only: bool = False  # VIGIE_DETECTORS_ENABLED=false: volume spikes only

    def __post_init__(self) -> None:
        if (self.buzz.volume_warmup_s != self.volume.warmup_s
                or self.buzz.shift != self.shift):
            raise ValueError("the bad-buzz config must read the volume and shift settings in "
                             "use (buzz.volume_warmup_s, buzz.shift)")

    def of(self, det: Detector) -> Any:
        """The configuration of one detector."""
        return getattr(self, det.NAME)

    def running(self, alerting: bool) -> tuple[Detector, ...]:
        """The detectors of a watch (alerting) or of the global scope (ranking only)."""
        if self.volume_only:
            return VOLUME_ONLY
        return ORDER if alerting else RANKING_ONLY


@dataclass(frozen=True)
class DetectorStates:
    """Every detector's state for one watch, by detector NAME."""

    volume: volume.VolumeState = field(default_factory=volume_spike.initial_state)
    shift: sentiment_shift.SentimentShiftState = field(
        default_factory=sentiment_shift.initial_state)
    influencer: influencer.InfluencerState = field(default_factory=influencer.initial_state)
    buzz: badbuzz.BadBuzzState = field(default_factory=badbuzz.initial_state)
    trend: trending.TrendState = field(default_factory=trending.initial_state)
    mob: mobilisation.MobilisationState = field(default_factory=mobilisation.initial_state)

    def of(self, det: Detector) -> Any:
        """The state of one detector."""
        return getattr(self, det.NAME)
