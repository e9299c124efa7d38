"""Glue between Faust messages and the pure core: ingest, merge, close, emit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson

from streams import codec, topics
from streams.aggregate.bucket import BucketAgg
from streams.alerts.build import build_alert
from streams.engine.loop import close_until, early
from streams.engine.watch import Fired, WatchState, WatchStep, merge_partial
from streams.events.decode import DeadLetter, dead_letter_record
from streams.outputs.views import gauges
from streams.worker.runtime import Runtime, validator

log = logging.getLogger(__name__)
PARTIALS_KEY = "ps"  # an internal message: {"ps": [partial, ...]} or a tick {"tick": ...}
T = TypeVar("T")


def now_s() -> float:
    """Wall clock, POSIX seconds."""
    return datetime.now(UTC).timestamp()


def bucket_key(watch: str, bucket: int) -> bytes:
    """Key of the buckets table."""
    return f"{watch}|{bucket}".encode()


def tick_doc(wall: float, watermarks: Mapping[int, float], ends: Mapping[int, int | None],
             done: Mapping[int, int], committed: Mapping[int, int | None]) -> dict[str, Any]:
    """A tick: input watermarks, and which partitions still have records to read ("busy").

    ``ends``: assigned input partition -> end offset as last fetched (None: not known yet);
    ``done``: last offset processed here; ``committed``: next offset to read as committed
    (a partition this worker has not read yet starts there, e.g. after a restart).
    """
    marks: dict[str, float | None] = {str(p): None for p in ends}
    marks.update({str(p): wm for p, wm in watermarks.items()})
    busy = [str(p) for p, end in sorted(ends.items())
            if end is None or max(done.get(p, -1) + 1, committed.get(p) or 0) < end]
    return {"tick": wall, "wm": marks, "busy": busy}


def closes_bucket(before_s: float, after_s: float, bucket_s: int, lateness_s: float) -> bool:
    """Whether a watermark moving from before_s to after_s makes another bucket closable."""
    return (after_s - lateness_s) // bucket_s > (before_s - lateness_s) // bucket_s


def partial_messages(partials: Iterable[BucketAgg],
                     partition_of: Callable[[str], int]) -> list[tuple[int, bytes]]:
    """One internal message per partition of the partials topic, holding all its partials.

    Faust's cost is per message: a record touching several watches and buckets pays it once
    per partition, not once per (watch, bucket).
    """
    by_part: dict[int, list[dict[str, Any]]] = {}
    for p in partials:
        by_part.setdefault(partition_of(p.watch), []).append(p.to_dict())
    return [(part, orjson.dumps({PARTIALS_KEY: docs})) for part, docs in sorted(by_part.items())]


def partials_of(doc: dict[str, Any]) -> list[BucketAgg]:
    """The partials of an internal message (a batch, or one partial as older workers sent)."""
    docs = doc.get(PARTIALS_KEY)
    return [BucketAgg.from_dict(doc)] if docs is None else [BucketAgg.from_dict(d) for d in docs]


def count_dead_letter(rt: Runtime, doc: Mapping[str, Any]) -> None:
    """Count a dead-letter.v1 document by reason (and log where it came from)."""
    rt.metrics.dead_letters.labels(doc["reason"]).inc()
    src = doc["source"]
    log.debug("dead letter reason=%s topic=%s partition=%d offset=%d", doc["reason"],
              src["topic"], src["partition"], src["offset"])


def _dead(rt: Runtime, dl: DeadLetter, topic: str, partition: int, offset: int,
          wall: float) -> dict[str, Any]:
    doc = dead_letter_record(dl, topic, partition, offset, wall)
    count_dead_letter(rt, doc)
    return doc


def _doc(raw: Any) -> Any:
    if raw is None or isinstance(raw, (bytes, bytearray, memoryview, str)):
        return None if not raw else orjson.loads(raw)
    raise TypeError(f"unexpected table value type {type(raw).__name__}: {raw!r:.200}")


def load_state(raw: bytes | None) -> WatchState | None:
    """Decode a watch-state table value (None for a missing or deleted key)."""
    doc = _doc(raw)
    return None if doc is None else codec.decode(WatchState, doc)


def load_bucket(raw: bytes | None) -> BucketAgg | None:
    """Decode a buckets table value (None for a missing or deleted key)."""
    doc = _doc(raw)
    return None if doc is None else BucketAgg.from_dict(doc)


class TableMemo(Generic[T]):
    """Process-local memo of decoded table values: key -> (raw value, decoded snapshot).

    The table stays the source of truth: a memo entry is used only while the table still
    holds the very bytes it was decoded from (same object, or equal bytes after a changelog
    recovery), so it can never serve a stale value. Snapshots are immutable, so sharing one
    between reads is safe. At most max_items keys are kept (oldest dropped first).
    """

    __slots__ = ("_decode", "_items", "_max")

    def __init__(self, decode: Callable[[Any], T | None], max_items: int) -> None:
        self._decode = decode
        self._items: dict[bytes, tuple[Any, T | None]] = {}
        self._max = max_items

    def get(self, key: bytes, raw: Any) -> T | None:
        """The decoded form of raw, the current table value at key."""
        if raw is None:  # a missing or deleted key
            self._items.pop(key, None)
            return None
        hit = self._items.get(key)
        if hit is not None and (hit[0] is raw or hit[0] == raw):
            return hit[1]
        value = self._decode(raw)
        self.put(key, raw, value)
        return value

    def discard(self, key: bytes) -> None:
        """Forget key (a value that will not be read again, e.g. a closed bucket)."""
        self._items.pop(key, None)

    def put(self, key: bytes, raw: Any, value: T | None) -> None:
        """Remember that raw (just written at key) decodes to value."""
        items = self._items
        items.pop(key, None)  # re-inserted last: insertion order is the eviction order
        items[key] = (raw, value)
        if len(items) > self._max:
            del items[next(iter(items))]


def on_partial(rt: Runtime, partial: BucketAgg, partition: int, ws: WatchState | None,
               current: BucketAgg | None, count_of: Callable[[int], int] | None = None,
               memo: dict[str, Any] | None = None,
               ) -> tuple[WatchState, BucketAgg | None, WatchStep | None, dict[str, Any] | None]:
    """Merge one partial; return (state, merged bucket or None, early outcome, late DLQ doc)."""
    m = rt.metrics
    if ws is None:
        ws = WatchState(watch=partial.watch, partition=partition,
                        first_bucket=partial.bucket_start)
    if ws.last_closed is not None and partial.bucket_start <= ws.last_closed:
        m.partials_late.inc()
        dl = DeadLetter("late", f"bucket {partial.bucket_start} of {partial.watch} already closed",
                        orjson.dumps(partial.to_dict()))
        return ws, None, None, _dead(rt, dl, topics.PARTIALS.name, partition, 0, now_s())
    if ws.last_closed is None and ws.first_bucket is not None \
            and partial.bucket_start < ws.first_bucket:
        ws = replace(ws, first_bucket=partial.bucket_start)
    merged = merge_partial(current, partial)
    if merged is None:
        m.partials_duplicate.inc()
        return ws, None, None, None
    m.partials_in.inc()
    outcome = early(ws, merged, rt.loop, count_of, memo)
    return outcome.state, merged, outcome, None


PUBLISH_EVERY_S = 1.0  # gauges and the Redis view of a watch, at most this often (wall)


def on_tick(rt: Runtime, ws: WatchState, partition: int, wall: float,
            get: Callable[[int], BucketAgg | None]) -> tuple[WatchStep, bool]:
    """Close the due buckets of one watch against its partition's watermark.

    Also says whether to publish the watch's view now: a replay closes buckets many times a
    second, dashboards need it once a second (at once when an alert fired).
    """
    w = ws.watch
    wm = rt.clock(partition).effective(wall, rt.settings.idle_close_s)
    out = WatchStep(ws)
    if wm is not None:
        aff = rt.affiliations.get(w)
        out = close_until(ws, wm, get, rt.loop, None if aff is None else aff.in_office_hours)
    if out.closed:
        rt.metrics.buckets_closed.labels(w).inc(len(out.closed))
        rt.unpublished.add(w)
    due = bool(out.fired) or wall - rt.published.get(w, -PUBLISH_EVERY_S) >= PUBLISH_EVERY_S
    if not (due and w in rt.unpublished):
        return out, False
    rt.unpublished.discard(w)
    rt.published[w] = wall
    gauges(rt, out.state)
    return out, True


def observe_tick(rt: Runtime, partition: int, doc: dict[str, Any], wall: float) -> None:
    """Feed a tick's input-partition watermarks to the partition clock."""
    clock = rt.clock(partition)
    busy = set(doc.get("busy", ()))  # input partitions with records still to read
    for src, wm in doc.get("wm", {}).items():
        clock.observe(src, None if wm is None else float(wm), wall, src in busy)
    eff = clock.effective(wall, rt.settings.idle_close_s)
    if eff is not None:
        rt.metrics.watermark_lag.labels(str(partition)).set(max(0.0, wall - eff))


def alerts_for(rt: Runtime, fired: Iterable[Fired], wall: float) -> list[dict[str, Any]]:
    """alert.v1 documents for fired emissions, validated at the output edge."""
    docs = []
    for f in fired:
        em = f.emission
        obs = em.signal
        latency = wall - f.window.max_arrival if f.window.max_arrival > 0 else None
        doc = build_alert(
            alert_id=em.alert_id, alert_type=f.alert_type, status=em.status,
            severity=em.severity, sequence=em.sequence, reason=em.reason,
            watch_id=f.window.watch, watch_name=rt.watch_name(f.window.watch),
            opened_bucket=em.opened_bucket, event_ts=em.event_ts, window=f.window,
            bucket_s=rt.settings.bucket_s, baseline=f.baseline,
            score=obs.score if obs is not None else 0.0,
            peak=max(obs.value if obs is not None else 0.0, f.window.count if
                     em.status == "open" else 0.0),
            emitted_s=wall, latency_s=latency if em.status == "open" else None,
            details=None if f.details is None else dict(f.details))
        errors = sorted(validator("alert.v1").iter_errors(doc), key=str)
        if errors:  # a bug, not input: log loudly, still deliver (Kafka is the source of truth)
            log.error("alert violates alert.v1 alert_id=%s error=%s", em.alert_id, errors[0])
        if latency is not None and em.status == "open":
            rt.metrics.alert_latency.labels(f.alert_type).observe(max(latency, 0.0))
        docs.append(doc)
        rt.last_alerts.appendleft(doc)
    return docs
