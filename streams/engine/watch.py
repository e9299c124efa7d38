"""One watch as the engine keeps it, and what a step of the per-watch loop returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from streams.aggregate.bucket import BucketAgg
from streams.alerts.lifecycle import Emission, Lifecycle
from streams.alerts.situation import Message, SituationState
from streams.detectors.suite import DetectorStates

IncidentKey = tuple[str, str | None]  # (alert type, subject: a hashtag, or None)
# per closed bucket: (bucket start, posts, expected posts, negative share, mean sentiment)
HistoryRow = tuple[int, int, float, float | None, float | None]


@dataclass(frozen=True)
class Window:
    """Evidence accumulated since an incident opened: its buckets merged, posts expected."""

    agg: BucketAgg
    baseline: float


@dataclass(frozen=True)
class WatchState:
    """Everything Vigie remembers about one watch, as one immutable snapshot."""

    watch: str
    partition: int = 0
    first_bucket: int | None = None
    last_closed: int | None = None
    watermark: float = 0.0
    purged_until: int | None = None  # closed buckets before this were deleted from the table
    detectors: DetectorStates = field(default_factory=DetectorStates)
    lifecycles: Mapping[IncidentKey, Lifecycle] = field(default_factory=dict)
    windows: Mapping[IncidentKey, Window] = field(default_factory=dict)
    history: tuple[HistoryRow, ...] = ()
    situation: SituationState = field(default_factory=SituationState)
    situation_window: Window | None = None  # evidence since the open situation opened
    situation_peak: int = 0  # its busiest bucket


@dataclass(frozen=True, slots=True)
class Fired:
    """An alert to send: a lifecycle emission, its evidence window and the detector's figures
    (None: the type has no detector block)."""

    alert_type: str
    subject: str | None
    emission: Emission
    window: BucketAgg
    baseline: float  # posts expected over the window
    details: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Suppressed:
    """An emission the lifecycle held back, and why (cooldown | rate_limited)."""

    alert_type: str
    reason: str


@dataclass(frozen=True, slots=True)
class Told:
    """A situation message to send, with its evidence window and the figures of its active
    signals (by signal key: "type" or "type:subject")."""

    message: Message
    window: BucketAgg
    baseline: float  # posts expected over the window
    peak: int  # the window's busiest bucket
    details: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class WatchStep:
    """What one step of the per-watch loop (an early check or closing buckets) returns:
    per-type signals fired or held back, situation messages told or held back (why)."""

    state: WatchState
    fired: tuple[Fired, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    closed: tuple[BucketAgg, ...] = ()
    told: tuple[Told, ...] = ()
    held: tuple[str, ...] = ()


def incident_name(key: IncidentKey) -> str:
    """The name an incident's id is derived from: its type, or "type:subject"."""
    alert_type, subject = key
    return alert_type if subject is None else f"{alert_type}:{subject}"


def merge_partial(current: BucketAgg | None, partial: BucketAgg) -> BucketAgg | None:
    """Merge a partial into its bucket; None when it was merged before (redelivery)."""
    if current is None:
        return partial
    for src, off in partial.sources.items():
        if current.sources.get(src, -1) >= off:
            return None
    return current.merge(partial)


def history_row(agg: BucketAgg, expected: float) -> HistoryRow:
    """A closed bucket as the dashboards chart it."""
    scored = agg.scored
    neg_share = agg.negative / scored if scored else None
    mean = agg.sentiment_sum / scored if scored else None
    return (agg.bucket_start, agg.count, round(expected, 3), neg_share, mean)


def purgeable(before: WatchState, after: WatchState, bucket_s: int,
              retain_buckets: int) -> tuple[list[int], WatchState]:
    """Closed buckets that may leave the buckets table, and the state that records it.

    Only buckets closed before the previous tick's state (`before`, already written) minus a
    margin go: if this tick's state write is lost in a crash while the bucket deletions get
    through, the state recovered from its changelog still finds every bucket it must close.
    """
    if before.last_closed is None or after.first_bucket is None:
        return [], after
    cut = before.last_closed - retain_buckets * bucket_s
    start = after.purged_until if after.purged_until is not None else after.first_bucket
    if cut < start:
        return [], after
    return list(range(start, cut + 1, bucket_s)), replace(after, purged_until=cut + bucket_s)
