"""The one detector protocol, the signal every detector speaks, and the severity ladder.

A detector is a module with these names (mypy checks it against ``Detector``)::

    NAME, ALERT_TYPE, READS, PER_SUBJECT
    initial_state() -> state
    update(state, bucket: BucketView, ts, cfg) -> state      # one closed bucket, pure
    observe(state, cfg) -> list[Signal]                      # what it says now; [] = normal
    describe(state, subject, cfg) -> details | None          # its figures when no signal

Detectors run in a fixed order (``streams.detectors.suite.ORDER``). A detector that builds
on others names them in ``READS``: the bucket view it receives carries the states those
earlier detectors derived from the same bucket, and nothing else is shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from streams.aggregate.bucket import BucketAgg

SEVERITIES = ("watch", "warning", "crisis")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class Signal:
    """What a detector says about the newest bucket, for one subject (a hashtag) or the watch.

    ``severity`` is "" while a signal goes on without a new level; ``bucket_ts`` is the bucket
    an incident opened by it is named after; ``onset`` marks a new report, which may open
    one. ``details`` are the detector's own figures shown in the alert's evidence (None: the
    type has no detector block).
    """

    type: str
    subject: str | None
    severity: str
    score: float
    value: float
    baseline: float
    bucket_ts: int
    onset: bool
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class BucketView:
    """A closed bucket as a detector sees it: the aggregate, whether it falls in the watch's
    office hours (None: unknown), and the states that the detectors it READS derived from
    this very bucket (by detector NAME)."""

    agg: BucketAgg
    office_hours: bool | None = None
    derived: Mapping[str, Any] = field(default_factory=dict)


class Detector(Protocol):
    """What every detector module provides (see the module docstring)."""

    NAME: str  # its key in the per-watch detector states and configs
    ALERT_TYPE: str
    READS: tuple[str, ...]  # NAMEs of earlier detectors whose states it reads
    PER_SUBJECT: bool  # one incident per subject (hashtag) rather than one per watch

    def initial_state(self) -> Any:
        """The state of a watch never seen."""

    def update(self, state: Any, bucket: BucketView, ts: float, cfg: Any) -> Any:
        """The state after the closed bucket starting at ts (POSIX seconds)."""

    def observe(self, state: Any, cfg: Any) -> list[Signal]:
        """The signals of the newest bucket (empty: normal)."""

    def describe(self, state: Any, subject: str | None, cfg: Any) -> dict[str, Any] | None:
        """The detector's figures for an alert without a signal (a resolution)."""
