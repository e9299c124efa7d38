"""The volume-spike detector behind the detector protocol (its maths: volume.py, untouched).

``update`` feeds the bucket's post count to ``volume.update``; ``observe`` turns the newest
bucket into the lifecycle's signal: a reported onset or escalation, or, while the spike has
not re-armed and the count stays above the normal ceiling, a continuing signal that keeps
the incident open. ``early_signal`` is the onset of a projected (still open) bucket, for the
engine's pre-close path.
"""

from __future__ import annotations

from typing import Any

from streams.detectors import volume
from streams.detectors.protocol import BucketView, Signal
from streams.detectors.volume import VolumeConfig, VolumeState

NAME = "volume"
ALERT_TYPE = "volume_spike"
READS: tuple[str, ...] = ()
PER_SUBJECT = False
DEFAULT = volume.DEFAULT


def initial_state() -> VolumeState:
    """Empty state with flat profiles."""
    return volume.initial_state()


def update(state: VolumeState, bucket: BucketView, ts: float, cfg: VolumeConfig = DEFAULT
           ) -> VolumeState:
    """Add the closed bucket starting at ts with its post count."""
    return volume.update(state, ts, float(bucket.agg.count), cfg)


def normal_ceiling(expected: float) -> float:
    """Highest bucket count still read as normal for an expected count (about 3 sigma)."""
    return max(1.5 * expected, expected + 3.0 * expected ** 0.5, 2.0)


def observe(state: VolumeState, cfg: VolumeConfig = DEFAULT) -> list[Signal]:
    """The lifecycle's view of the newest bucket."""
    sig = volume.evaluate(state, cfg)
    if sig is not None:
        return [Signal(ALERT_TYPE, None, sig.severity, sig.score, sig.count, sig.expected,
                       int(sig.onset_ts), sig.onset)]
    if not volume.is_elevated(state) or state.last_ts is None:
        return []
    if state.count <= normal_ceiling(state.expected):
        # back near the baseline: the incident may resolve even though the detector keeps
        # its longer re-arm hysteresis before it reports a new onset
        return []
    # still elevated, no new report: the incident keeps its severity ("" = unchanged)
    return [Signal(ALERT_TYPE, None, "", state.score, state.count, state.expected,
                   int(state.last_ts), False)]


def describe(state: VolumeState, subject: str | None, cfg: Any = None) -> None:
    """A volume alert's figures are its evidence itself: no detector block."""
    return None


def early_signal(projected: VolumeState, bucket_start: int, cfg: VolumeConfig = DEFAULT
                 ) -> Signal | None:
    """The onset signal of an open bucket projected into the state, or None."""
    sig = volume.evaluate(projected, cfg)
    if sig is None or not sig.onset:
        return None
    return Signal(ALERT_TYPE, None, sig.severity, sig.score, sig.count, sig.expected,
                  bucket_start, True)
