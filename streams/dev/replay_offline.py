"""Replay a scenario through the pure pipeline in-process: no Kafka, no Redis, no Faust.

The worker's two agents are driven exactly as on a broker, deterministically: the events are
cut into records of ``batch_size`` events spread over the input partitions (round robin, the
whole stream already in the topic, as after a `vigie replay`), each record goes through the
ingest step, its partials reach the per-watch step at once, and ticks carry the input
watermarks after every record. The wall clock is fake, derived from event time (a record is
produced one second after its last event), so idle closing and latency are deterministic;
after the last record it runs on for ``drain_s`` so the last buckets close. Alerts go through
a dedup ledger (a set) as through Redis.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from streams import codec
from streams.aggregate.bucket import BucketAgg
from streams.engine import ingest as _ingest_stage
from streams.engine import messages as pipeline
from streams.engine.ingest import account, process_record
from streams.engine.watch import Fired, Suppressed, WatchState, purgeable
from streams.outputs.views import redis_view
from streams.settings import Settings
from streams.worker.runtime import Runtime, build_runtime

RETAIN_BUCKETS = 30  # as the worker
WALL_FIELDS = ("emitted_at", "latency_s")  # the only wall-clock fields of an alert
DEFAULT_END = datetime(2026, 3, 13, 20, 0, tzinfo=UTC)  # a Friday evening, Paris time


@dataclass
class OfflineRun:
    """What a replay produced: alert documents in emission order, counters, final views."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)  # "watch/type/reason" -> n
    counters: dict[str, Any] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    # CPU spent per stage (perf_counter seconds): ingest step, partial merges, ticks
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("ingest", "partials", "ticks"), 0.0))
    events: int = 0

    def golden(self) -> dict[str, Any]:
        """The run without wall-clock fields, as recorded in tests/golden."""
        return {"alerts": [{k: v for k, v in a.items() if k not in WALL_FIELDS}
                           for a in self.alerts],
                "suppressed": dict(sorted(self.suppressed.items())),
                "counters": self.counters, "views": self.views}


class _Clock:
    """The fake wall clock: moved by the driver only."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def _fake_wall(clock: _Clock) -> Iterator[None]:
    saved = (pipeline.now_s, _ingest_stage.now_s)
    pipeline.now_s = clock
    _ingest_stage.now_s = clock
    try:
        yield
    finally:
        pipeline.now_s, _ingest_stage.now_s = saved


class _Table(dict[Any, Any]):
    """A table that keeps values encoded, as the changelog does (roundtrip mode)."""

    def __init__(self, decode: Any) -> None:
        super().__init__()
        self._decode = decode

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, codec.dumps(value) if isinstance(value, WatchState)
                            else orjson.dumps(value.to_dict()))

    def get(self, key: Any, default: Any = None) -> Any:
        raw = super().get(key)
        return default if raw is None else self._decode(raw)

    def items(self) -> Any:
        return [(k, self._decode(v)) for k, v in super().items()]


class _Driver:
    def __init__(self, rt: Runtime, clock: _Clock, roundtrip: bool = False) -> None:
        self.rt, self.clock = rt, clock
        self.states: dict[bytes, WatchState] = _Table(pipeline.load_state) if roundtrip else {}
        self.buckets: dict[bytes, BucketAgg] = _Table(pipeline.load_bucket) if roundtrip \
            else {}
        self.early_memo: dict[str, Any] = {}
        self.ledger: set[str] = set()
        self.run = OfflineRun()
        self.ends: dict[int, int] = {}

    # --- the per_watch agent -------------------------------------------------------------
    def emit(self, fired: tuple[Fired, ...]) -> None:
        for doc in pipeline.alerts_for(self.rt, fired, self.clock()):
            if doc["dedup_key"] in self.ledger:
                self._suppressed(doc["watch"]["id"], (Suppressed(doc["type"], "dedup"),))
                continue
            self.ledger.add(doc["dedup_key"])
            self.run.alerts.append(doc)

    def _suppressed(self, watch: str, held: tuple[Suppressed, ...]) -> None:
        for s in held:
            key = f"{watch}/{s.alert_type}/{s.reason}"
            self.run.suppressed[key] = self.run.suppressed.get(key, 0) + 1

    def apply(self, partial: BucketAgg, part: int) -> None:
        wkey = partial.watch.encode()
        key = pipeline.bucket_key(partial.watch, partial.bucket_start)
        before = self.states.get(wkey)
        buckets = self.buckets

        def count_of(b: int) -> int:
            agg = buckets.get(pipeline.bucket_key(partial.watch, b))
            return 0 if agg is None else agg.count

        ws, merged, out, late = pipeline.on_partial(
            self.rt, partial, part, before, buckets.get(key), count_of, self.early_memo)
        if late is not None:
            self._count("dead_letters", late["reason"])
        if merged is not None:
            buckets[key] = merged
        if out is not None and out.fired:
            self.emit(out.fired)
        if ws is not before:
            self.states[wkey] = ws
        self._suppressed(partial.watch, out.suppressed if out else ())

    def close_partition(self, part: int) -> None:
        wall = self.clock()
        bucket_s = self.rt.settings.bucket_s
        for wkey, ws in list(self.states.items()):
            if ws.partition != part:
                continue
            watch = ws.watch

            def get(b: int, watch: str = watch) -> BucketAgg | None:
                return self.buckets.get(pipeline.bucket_key(watch, b))

            out, _publish = pipeline.on_tick(self.rt, ws, part, wall, get)
            if not out.closed and out.state.watermark == ws.watermark:
                continue
            gone, new_state = purgeable(ws, out.state, bucket_s, RETAIN_BUCKETS)
            self.states[wkey] = new_state
            for b in gone:
                self.buckets.pop(pipeline.bucket_key(watch, b), None)
            if out.fired:
                self.emit(out.fired)
            self._suppressed(watch, out.suppressed)

    def per_watch(self, part: int, value: bytes) -> None:
        doc = orjson.loads(value)
        if "tick" in doc:
            pipeline.observe_tick(self.rt, part, doc, self.clock())
            self.close_partition(part)
            return
        for partial in pipeline.partials_of(doc):
            self.apply(partial, part)

    # --- the ingest agent and the timer --------------------------------------------------
    def ingest(self, value: bytes, partition: int, offset: int) -> None:
        rt = self.rt
        wm = rt.input_watermarks.get(partition, 0.0)
        t0 = time.perf_counter()
        out = process_record(rt, value, partition, offset, self.clock(), wm)
        account(rt, out)
        t1 = time.perf_counter()
        for part, msg in out.messages:
            self.per_watch(part, msg)
        seconds = self.run.seconds
        seconds["ingest"] += t1 - t0
        seconds["partials"] += time.perf_counter() - t1
        for d in out.dead:
            self._count("dead_letters", d["reason"])
        rt.input_watermarks[partition] = out.watermark_s
        rt.input_offsets[partition] = out.offset

    def tick(self) -> None:
        t0 = time.perf_counter()
        self._tick()
        self.run.seconds["ticks"] += time.perf_counter() - t0

    def _tick(self) -> None:
        rt = self.rt
        value = orjson.dumps(pipeline.tick_doc(self.clock(), rt.input_watermarks, self.ends,
                                               rt.input_offsets, {}))
        for part, msg in pipeline.partial_messages(rt.take_global(), rt.partition_of):
            self.per_watch(part, msg)
        for p in range(rt.settings.topic_partitions):
            self.per_watch(p, value)

    def _count(self, name: str, key: str) -> None:
        c = self.run.counters.setdefault(name, {})
        c[key] = c.get(key, 0) + 1


def _records(events: Iterable[Mapping[str, Any] | bytes], batch_size: int
             ) -> Iterator[tuple[float, int, bytes]]:
    """(max event time, events, record) of consecutive batches of events."""
    batch: list[bytes] = []
    newest = 0.0
    for ev in events:
        raw = ev if isinstance(ev, bytes) else orjson.dumps(ev)
        if not isinstance(ev, bytes):
            newest = max(newest, datetime.fromisoformat(
                str(ev["created_at"]).replace("Z", "+00:00")).timestamp())
        batch.append(raw)
        if len(batch) >= batch_size:
            yield newest, len(batch), b"[" + b",".join(batch) + b"]"
            batch = []
    if batch:
        yield newest, len(batch), b"[" + b",".join(batch) + b"]"


def run_offline(events: Iterable[Mapping[str, Any] | bytes], settings: Settings | None = None,
                *, batch_size: int = 100, input_partitions: int | None = None,
                rosters: Mapping[str, Iterable[str]] | None = None, drain_s: float = 3600.0,
                roundtrip: bool = False) -> OfflineRun:
    """Replay events (dicts or raw JSON) through the pipeline; see the module docstring.

    ``roundtrip``: keep the watch states and buckets encoded between steps, as the tables'
    changelog would after a restart (slower; proves the codec loses nothing).
    """
    s = settings or Settings()
    rt = build_runtime(s, CollectorRegistry())
    if rosters:
        rt.reload_rosters({w: tuple(h) for w, h in rosters.items()})
    clock = _Clock()
    d = _Driver(rt, clock, roundtrip)
    n_in = input_partitions or s.topic_partitions
    records = list(_records(events, batch_size))
    d.run.events = sum(n for _, n, _ in records)
    for i in range(len(records)):
        p = i % n_in
        d.ends[p] = d.ends.get(p, 0) + 1
    for p in range(n_in):
        d.ends.setdefault(p, 0)
    with _fake_wall(clock):
        offsets = dict.fromkeys(range(n_in), 0)
        for i, (newest, _, value) in enumerate(records):
            p = i % n_in
            clock.now = max(clock.now, newest + 1.0)
            d.ingest(value, p, offsets[p])
            offsets[p] += 1
            d.tick()
        end = clock.now + drain_s
        while clock.now < end:
            clock.now += float(s.bucket_s)
            d.tick()
        d.run.counters["buckets_closed"] = _metric_total(rt, "vigie_buckets_closed_total")
        d.run.counters["partials"] = {
            "in": _metric_total(rt, "vigie_partials_in_total"),
            "duplicate": _metric_total(rt, "vigie_partials_duplicate_total"),
            "late": _metric_total(rt, "vigie_partials_late_total")}
        d.run.views = {ws.watch: redis_view(ws, rt)
                       for _, ws in sorted(d.states.items(), key=lambda kv: kv[0])}
    return d.run


def _metric_total(rt: Runtime, name: str) -> int:
    total = 0.0
    for fam in rt.metrics.registry.collect():
        for sample in fam.samples:
            if sample.name == name:
                total += sample.value
    return int(total)


def run_scenario(name: str, *, seed: int = 7, end: datetime = DEFAULT_END,
                 days: float | None = None, settings: Settings | None = None, **kw: Any
                 ) -> OfflineRun:
    """Generate a built-in scenario (fixed seed and end) and replay it offline."""
    from streams.dev import scenarios, simulate

    make = scenarios.SCENARIOS[name]
    sc = make(end=end) if days is None else make(end=end, days=days)
    rosters = sc.truth()["roster"] if name == "mobilisation" else None
    return run_offline(simulate.generate(sc, seed), settings, rosters=rosters, **kw)
