"""The per-watch step as the worker drives it: a partial merged (with the early check), a
watermark closing buckets, and the alert documents of what fired.

Pure: every function returns what to write and what to publish; the worker (or the offline
replay) writes the tables, sends the messages and counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from streams import topics
from streams.aggregate.bucket import BucketAgg
from streams.alerts.build import build_alert
from streams.alerts.situation_doc import build_situation
from streams.engine.config import EngineConfig
from streams.engine.loop import close_until, early
from streams.engine.messages import dump_bucket
from streams.engine.watch import Fired, Told, WatchState, WatchStep, merge_partial, purgeable
from streams.events.decode import DeadLetter, dead_letter_record
from streams.events.schemas import validator

log = logging.getLogger(__name__)
RETAIN_BUCKETS = 30  # closed buckets kept in the table behind the last written state
MERGED, DUPLICATE, LATE = "merged", "duplicate", "late"  # what became of a partial


@dataclass(frozen=True)
class PartialStep:
    """A partial merged into its bucket: the state and bucket to write, what the early check
    fired, and a partial for a bucket already closed (a dead letter)."""

    state: WatchState  # write it when it is not the state passed in
    merged: BucketAgg | None  # the bucket to write (None: nothing to write)
    step: WatchStep | None  # the early check
    late: dict[str, Any] | None  # dead-letter.v1 document of a late partial
    outcome: str  # MERGED | DUPLICATE | LATE


def on_partial(cfg: EngineConfig, ws: WatchState | None, partial: BucketAgg, partition: int,
               current: BucketAgg | None, wall_s: float,
               count_of: Callable[[int], int] | None = None,
               memo: dict[str, Any] | None = None) -> PartialStep:
    """Merge one partial into its bucket (current: the bucket as the table holds it)."""
    if ws is None:
        ws = WatchState(watch=partial.watch, partition=partition,
                        first_bucket=partial.bucket_start)
    if ws.last_closed is not None and partial.bucket_start <= ws.last_closed:
        dl = DeadLetter("late", f"bucket {partial.bucket_start} of {partial.watch} already closed",
                        dump_bucket(partial))
        return PartialStep(ws, None, None, dead_letter_record(
            dl, topics.PARTIALS.name, partition, 0, wall_s), LATE)
    if ws.last_closed is None and ws.first_bucket is not None \
            and partial.bucket_start < ws.first_bucket:
        ws = replace(ws, first_bucket=partial.bucket_start)
    merged = merge_partial(current, partial)
    if merged is None:
        return PartialStep(ws, None, None, None, DUPLICATE)
    step = early(ws, merged, cfg.loop, count_of, memo)
    return PartialStep(step.state, merged, step, None, MERGED)


@dataclass(frozen=True)
class CloseStep:
    """A watch's buckets closed against a watermark: what fired, the state to write (with
    the buckets it lets go recorded) and the buckets to delete from the table."""

    step: WatchStep  # its state: the watch after closing, before the purge was recorded
    state: WatchState  # to write when changed
    purge: tuple[int, ...]
    changed: bool


def close_watch(cfg: EngineConfig, ws: WatchState, watermark: float | None,
                get: Callable[[int], BucketAgg | None],
                retain_buckets: int = RETAIN_BUCKETS) -> CloseStep:
    """Close the due buckets of one watch (watermark None: not known yet, nothing closes)."""
    step = WatchStep(ws) if watermark is None else close_until(
        ws, watermark, get, cfg.loop, cfg.office_hours(ws.watch))
    if not step.closed and step.state.watermark == ws.watermark:
        return CloseStep(step, step.state, (), False)
    gone, state = purgeable(ws, step.state, cfg.bucket_s, retain_buckets)
    return CloseStep(step, state, tuple(gone), True)


def latency_s(f: Fired, wall_s: float) -> float | None:
    """Event-to-alert latency of an opening alert: wall clock minus its newest arrival."""
    if f.emission.status != "open" or f.window.max_arrival <= 0:
        return None
    return wall_s - f.window.max_arrival


def signal_docs(cfg: EngineConfig, fired: Iterable[Fired], wall_s: float
                ) -> list[dict[str, Any]]:
    """signal.v1 documents for what fired, validated at the output edge."""
    docs = []
    for f in fired:
        em = f.emission
        sig = em.signal
        doc = build_alert(
            alert_id=em.alert_id, alert_type=f.alert_type, status=em.status,
            severity=em.severity, sequence=em.sequence, reason=em.reason,
            watch_id=f.window.watch, watch_name=cfg.watch_name(f.window.watch),
            opened_bucket=em.opened_bucket, event_ts=em.event_ts, window=f.window,
            bucket_s=cfg.bucket_s, baseline=f.baseline,
            score=sig.score if sig is not None else 0.0,
            peak=max(sig.value if sig is not None else 0.0, f.window.count if
                     em.status == "open" else 0.0),
            emitted_s=wall_s, latency_s=latency_s(f, wall_s),
            details=None if f.details is None else dict(f.details))
        _check("signal.v1", doc)
        docs.append(doc)
    return docs


def situation_latency_s(t: Told, wall_s: float) -> float | None:
    """Event-to-alert latency of a situation's opening: wall clock minus its newest arrival."""
    if t.message.status != "open" or t.window.max_arrival <= 0:
        return None
    return wall_s - t.window.max_arrival


def situation_docs(cfg: EngineConfig, told: Iterable[Told], wall_s: float
                   ) -> list[dict[str, Any]]:
    """alert.v2 documents for the situation messages told, validated at the output edge."""
    docs = []
    for t in told:
        watch = t.window.watch
        doc = build_situation(
            t.message, watch_id=watch, watch_name=cfg.watch_name(watch), window=t.window,
            baseline=t.baseline, peak_count=t.peak, bucket_s=cfg.bucket_s, emitted_s=wall_s,
            latency_s=situation_latency_s(t, wall_s), details=t.details)
        _check("alert.v2", doc)
        docs.append(doc)
    return docs


def _check(schema: str, doc: dict[str, Any]) -> None:
    errors = sorted(validator(schema).iter_errors(doc), key=str)
    if errors:  # a bug, not input: log loudly, still deliver (Kafka is the source of truth)
        log.error("document violates %s alert_id=%s error=%s", schema, doc.get("alert_id"),
                  errors[0])
