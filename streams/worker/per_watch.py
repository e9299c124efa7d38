"""The per-watch agent's work: partials merged into the tables, ticks closing buckets, signals
and situation messages claimed and sent. The engine decides (streams.engine.per_watch); this
writes and sends."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from streams import codec
from streams.aggregate.bucket import BucketAgg
from streams.engine.messages import (
    bucket_key,
    dump_bucket,
    load_bucket,
    load_state,
    partials_of,
)
from streams.engine.per_watch import (
    DUPLICATE,
    LATE,
    close_watch,
    latency_s,
    on_partial,
    signal_docs,
    situation_docs,
    situation_latency_s,
)
from streams.engine.watch import WatchState, WatchStep
from streams.outputs.delivery import Sink
from streams.outputs.redis_store import RedisStore
from streams.outputs.views import redis_view
from streams.worker.context import WorkerContext, now_s
from streams.worker.tables import MEMO_BUCKETS, MEMO_STATES, TableMemo

log = logging.getLogger(__name__)
Send = Callable[[bytes | None, bytes], Awaitable[Any]]  # (key, value)


class PerWatch:
    """Applies internal messages to the watch-state and buckets tables."""

    def __init__(self, ctx: WorkerContext, states: Any, buckets: Any, store: RedisStore,
                 send_alert: Send, send_signal: Send, send_dead: Send, sinks: list[Sink]
                 ) -> None:
        self.ctx, self.states, self.buckets, self.store = ctx, states, buckets, store
        self.send_alert, self.send_signal = send_alert, send_signal
        self.send_dead, self.sinks = send_dead, sinks
        # decoded table values, reused while the table holds the same bytes (the table decides)
        self.state_memo: TableMemo[WatchState] = TableMemo(load_state, MEMO_STATES)
        self.bucket_memo: TableMemo[BucketAgg] = TableMemo(load_bucket, MEMO_BUCKETS)
        self.early_memo: dict[str, Any] = {}  # the early check's projections, per watch

    def bucket(self, watch: str, b: int) -> BucketAgg | None:
        """A bucket as the table holds it now."""
        key = bucket_key(watch, b)
        return self.bucket_memo.get(key, self.buckets.get(key))

    async def on_message(self, part: int, value: bytes) -> None:
        """One internal message: a tick, or a batch of partials."""
        doc = orjson.loads(value)
        if "tick" in doc:
            self.ctx.observe_tick(part, doc, now_s())
            await self.close_partition(part)
            return
        for partial in partials_of(doc):
            await self.apply(partial, part)

    async def apply(self, partial: BucketAgg, part: int) -> None:
        """Merge one partial; an early onset is sent at once."""
        ctx, m = self.ctx, self.ctx.metrics
        watch = partial.watch
        wkey, key = watch.encode(), bucket_key(watch, partial.bucket_start)
        before = self.state_memo.get(wkey, self.states.get(wkey))

        def count_of(b: int) -> int:
            agg = self.bucket(watch, b)
            return 0 if agg is None else agg.count

        res = on_partial(ctx.engine, before, partial, part,
                         self.bucket(watch, partial.bucket_start), now_s(), count_of,
                         self.early_memo)
        if res.outcome == LATE:
            m.partials_late.inc()
        elif res.outcome == DUPLICATE:
            m.partials_duplicate.inc()
        else:
            m.partials_in.inc()
        if res.late is not None:
            ctx.count_dead_letter(res.late)
            await self.send_dead(None, orjson.dumps(res.late))
        if res.merged is not None:
            raw_bucket = dump_bucket(res.merged)
            self.buckets[key] = raw_bucket
            self.bucket_memo.put(key, raw_bucket, res.merged)
        if res.step is not None:
            await self.emit(watch, res.step)
        if res.state is not before:  # the same snapshot comes back when nothing changed
            raw_state = codec.dumps(res.state)
            self.states[wkey] = raw_state
            self.state_memo.put(wkey, raw_state, res.state)

    async def close_partition(self, part: int) -> None:
        """Close the due buckets of every watch of an internal partition."""
        ctx = self.ctx
        wall = now_s()
        wm = ctx.watermark(part, wall)
        for wkey, raw_state in list(self.states.items()):
            ws = self.state_memo.get(wkey, raw_state)
            if ws is None or ws.partition != part:
                continue  # a deleted key, or a watch of another partition
            watch = ws.watch

            def get(b: int, w: str = watch) -> BucketAgg | None:
                return self.bucket(w, b)

            res = close_watch(ctx.engine, ws, wm, get)
            if ctx.closed(res, wall):
                await self.store.publish_state(watch, redis_view(res.step.state, ctx.engine))
            if not res.changed:
                continue
            raw_new = codec.dumps(res.state)
            self.states[wkey] = raw_new
            self.state_memo.put(wkey, raw_new, res.state)
            for agg in res.step.closed:  # a closed bucket is not read again: memory back
                self.bucket_memo.discard(bucket_key(watch, agg.bucket_start))
            for b in res.purge:
                self.buckets.pop(bucket_key(watch, b), None)
            await self.emit(watch, res.step)

    async def emit(self, watch: str, step: WatchStep) -> None:
        """Claim, send, record and deliver what a step fired and told; count what it held."""
        m = self.ctx.metrics
        for s in step.suppressed:
            m.signals_suppressed.labels(watch, s.alert_type, s.reason).inc()
        for why in step.held:
            m.situation_held.labels(watch, why).inc()
        if not (step.fired or step.told):
            return
        wall = now_s()
        for f, doc in zip(step.fired, signal_docs(self.ctx.engine, step.fired, wall),
                          strict=True):
            latency = latency_s(f, wall)
            if latency is not None:
                m.alert_latency.labels(f.alert_type).observe(max(latency, 0.0))
            if not await self.store.claim(doc["dedup_key"]):
                m.signals_suppressed.labels(watch, doc["type"], "dedup").inc()
                continue
            await self.send_signal(watch.encode(), orjson.dumps(doc))
            m.signals_emitted.labels(watch, doc["type"], doc["severity"], doc["status"]).inc()
        for t, doc in zip(step.told, situation_docs(self.ctx.engine, step.told, wall),
                          strict=True):
            latency = situation_latency_s(t, wall)
            if latency is not None:
                m.alert_latency.labels("situation").observe(max(latency, 0.0))
            self.ctx.last_alerts.appendleft(doc)
            if not await self.store.claim(doc["dedup_key"]):
                m.situation_held.labels(watch, "dedup").inc()
                continue
            await self.send_alert(watch.encode(), orjson.dumps(doc))
            m.situation_messages.labels(watch, doc["severity"], doc["status"],
                                        doc["reason"]).inc()
            await self.store.record_alert(doc)
            for sink in self.sinks:  # non-blocking: bounded queues drained in the background
                sink.submit(doc)
            log.info("situation id=%s status=%s severity=%s reason=%s watch=%s",
                     doc["situation_id"], doc["status"], doc["severity"], doc["reason"], watch)
