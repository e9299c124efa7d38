"""The Faust app: topics, tables, and thin agents over the engine."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from typing import Any

import faust
import orjson
from faust.exceptions import ConsumerNotStarted

from streams import codec, topics
from streams.aggregate.bucket import BucketAgg
from streams.engine.ingest import RecordOut, account
from streams.engine.messages import (
    TableMemo,
    alerts_for,
    bucket_key,
    closes_bucket,
    load_bucket,
    load_state,
    now_s,
    observe_tick,
    on_partial,
    on_tick,
    partial_messages,
    partials_of,
    tick_doc,
)
from streams.engine.watch import Fired, Suppressed, purgeable
from streams.outputs.redis_store import RedisStore
from streams.outputs.sinks import build_sinks
from streams.outputs.views import redis_view
from streams.settings import Settings
from streams.watches import roster
from streams.worker import input_guard, kafka_shim
from streams.worker.consumer_guard import guard_input, record_lag
from streams.worker.offload import start_stage
from streams.worker.pages import register_pages
from streams.worker.runtime import Runtime, build_runtime
from streams.worker.sensors import Counters

log = logging.getLogger(__name__)


def credentials(s: Settings) -> Any:
    """Faust broker credentials from settings (TLS and SASL passed through)."""
    proto = s.kafka_security_protocol
    if proto == "PLAINTEXT":
        return None
    ctx: ssl.SSLContext | None = None
    if proto in ("SSL", "SASL_SSL"):
        ctx = ssl.create_default_context(cafile=s.kafka_ssl_cafile or None)
        if s.kafka_ssl_certfile:
            ctx.load_cert_chain(s.kafka_ssl_certfile, s.kafka_ssl_keyfile or None)
    if proto == "SSL":
        return faust.SSLCredentials(ctx)
    return faust.SASLCredentials(username=s.kafka_sasl_username, password=s.kafka_sasl_password,
                                 ssl_context=ctx, mechanism=s.kafka_sasl_mechanism or "PLAIN")


RETAIN_BUCKETS = 30


EAGER_TICK_GAP_S = 0.2  # at most five eager ticks a second (a replay crosses buckets fast)
PRODUCER_BUFFER_MESSAGES = 2_000  # see create_app
MEMO_STATES = 10_000  # decoded watch states kept per worker (one per watch)
MEMO_BUCKETS = 4096  # decoded buckets kept per worker (the open ones are the ones reused)


def create_app(settings: Settings, registry: Any = None) -> tuple[faust.App, Runtime]:
    """Build the worker app and its runtime context."""
    rt = build_runtime(settings, registry)
    if settings.kafka_end_offset_shim:
        kafka_shim.install()
    brokers = ";".join(f"kafka://{b.strip()}" for b in settings.kafka_brokers.split(",") if b)
    app = faust.App(
        settings.app_id, broker=brokers or "kafka://127.0.0.1:9092", store="memory://",
        datadir=settings.data_dir, web_bind=settings.web_host, web_port=settings.web_port,
        web_in_thread=False, topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication, broker_session_timeout=6.0,
        broker_heartbeat_interval=1.0, table_standby_replicas=0, topic_allow_declare=True,
        consumer_auto_offset_reset="earliest", broker_credentials=credentials(settings),
        producer_linger_ms=5, stream_buffer_maxsize=1024, broker_max_poll_records=500,
        # a batched record is ~300 KB: fetch several per partition per round trip
        consumer_max_fetch_size=8 * 1024 * 1024,
        # aiokafka buffers one batch per partition and a send waits while it is full: with
        # 16 KB batches (the default) nearly every internal message waited for a broker ack
        producer_max_batch_size=1024 * 1024, producer_max_request_size=8 * 1024 * 1024,
        table_cleanup_interval=3600.0,
        # every Vigie topic carries orjson bytes; tables' changelogs must decode as raw too
        key_serializer="raw", value_serializer="raw",
    )
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
                           "value_serializer": "raw"}
    events_t = app.topic(topics.EVENTS.name, **raw)
    partials_t = app.topic(topics.PARTIALS.name, **raw)
    alerts_t = app.topic(topics.ALERTS.name, **raw)
    dlq_t = app.topic(topics.DLQ.name, **raw)
    tbl: dict[str, Any] = {
        # bytes keys and values: Faust then picks the raw codec for the changelog both ways,
        # so what is written is exactly what recovery returns
        "key_type": bytes, "value_type": bytes,
        "partitions": settings.topic_partitions}
    states = app.Table("watch-state", **tbl)
    buckets = app.Table("buckets", **tbl)
    # decoded table values, reused while the table holds the same bytes (the table decides)
    state_memo = TableMemo(load_state, MEMO_STATES)
    bucket_memo = TableMemo(load_bucket, MEMO_BUCKETS)
    early_memo: dict[str, Any] = {}

    def bucket_count(key: bytes) -> int:
        agg = bucket_memo.get(key, buckets.get(key))
        return 0 if agg is None else agg.count
    store = RedisStore(settings.redis_url or "redis://127.0.0.1:6379/0", f"vigie:{settings.app_id}",
                       settings.dedup_ttl_s, settings.redis_timeout_s,
                       lambda op: rt.metrics.redis_errors.labels(op).inc(),
                       settings.redis_password)

    sinks = build_sinks(settings, rt.metrics)
    app.sensors.add(Counters(rt))
    # Table writes wait in Faust's producer buffer, and the conductor stops handing messages to
    # every agent while more than max_messages (100) wait. After a catch-up the buffer held
    # ~15k bucket writes and the first alerts waited behind it (p99 1.32/1.39 s -> 0.94/0.97 s
    # with 2,000, same throughput). A commit still flushes the buffer before the offsets.
    app.producer.buffer.max_messages = PRODUCER_BUFFER_MESSAGES

    async def emit(fired: tuple[Fired, ...]) -> None:
        for doc in alerts_for(rt, fired, now_s()):
            labels = (doc["watch"]["id"], doc["type"])
            if not await store.claim(doc["dedup_key"]):
                rt.metrics.alerts_suppressed.labels(*labels, "dedup").inc()
                continue
            await alerts_t.send(key=doc["watch"]["id"].encode(), value=orjson.dumps(doc))
            rt.metrics.alerts_emitted.labels(*labels, doc["severity"], doc["status"]).inc()
            await store.record_alert(doc)
            for sink in sinks:  # non-blocking: bounded queues drained in the background
                sink.submit(doc)
            log.info("alert alert_id=%s type=%s status=%s severity=%s watch=%s",
                     doc["alert_id"], doc["type"], doc["status"], doc["severity"], labels[0])

    def suppressed(watch: str, held: tuple[Suppressed, ...]) -> None:
        for s in held:
            rt.metrics.alerts_suppressed.labels(watch, s.alert_type, s.reason).inc()

    @app.agent(events_t)
    async def ingest(stream: Any) -> None:
        manual = stream.noack()  # a record is acked once its partials are on the topic

        async def finish(event: Any, out: RecordOut) -> None:
            account(rt, out)
            for part, value in out.messages:
                await partials_t.send(value=value, partition=part)
            for d in out.dead:
                await dlq_t.send(value=orjson.dumps(d))
            p = out.partition
            before = rt.input_watermarks.get(p, 0.0)
            rt.input_watermarks[p] = out.watermark_s
            rt.input_offsets[p] = out.offset
            await manual.ack(event)
            # event time just made a bucket closable: tick now rather than at the next timer
            if closes_bucket(before, out.watermark_s, settings.bucket_s,
                             settings.allowed_lateness_s) \
                    and now_s() - last_tick[0] >= EAGER_TICK_GAP_S:
                await send_ticks()

        stage = await start_stage(rt, finish)
        try:
            async for event in manual.events():
                msg = event.message
                rt.input_received[msg.partition] = msg.offset
                await stage.put(event, event.value, msg.partition, msg.offset, msg.timestamp)
        finally:
            await stage.stop()

    def partial_counts(watch: str) -> Callable[[int], int]:
        return lambda b: bucket_count(bucket_key(watch, b))

    def closed_buckets(watch: str) -> Callable[[int], BucketAgg | None]:
        return lambda b: bucket_memo.get(bucket_key(watch, b), buckets.get(bucket_key(watch, b)))

    async def apply(partial: BucketAgg, part: int) -> None:
        wkey = partial.watch.encode()
        key = bucket_key(partial.watch, partial.bucket_start)
        before = state_memo.get(wkey, states.get(wkey))
        ws, merged, out, late = on_partial(
            rt, partial, part, before, bucket_memo.get(key, buckets.get(key)),
            partial_counts(partial.watch), early_memo)
        if late is not None:
            await dlq_t.send(value=orjson.dumps(late))
        if merged is not None:
            raw_bucket = orjson.dumps(merged.to_dict())
            buckets[key] = raw_bucket
            bucket_memo.put(key, raw_bucket, merged)
        if out is not None and out.fired:
            await emit(out.fired)
        if ws is not before:  # on_partial returns the same snapshot when nothing changed
            raw_state = codec.dumps(ws)
            states[wkey] = raw_state
            state_memo.put(wkey, raw_state, ws)
        suppressed(partial.watch, out.suppressed if out else ())

    @app.agent(partials_t)
    async def per_watch(stream: Any) -> None:
        async for event in stream.events():
            part = event.message.partition
            doc = orjson.loads(event.value)
            if "tick" in doc:
                observe_tick(rt, part, doc, now_s())
                await close_partition(part)
                continue
            for partial in partials_of(doc):
                await apply(partial, part)

    async def close_partition(part: int) -> None:
        wall = now_s()
        bucket_s = settings.bucket_s
        for wkey, raw_state in list(states.items()):
            ws = state_memo.get(wkey, raw_state)
            if ws is None or ws.partition != part:
                continue  # a deleted key, or a watch of another partition
            watch = ws.watch
            out, publish = on_tick(rt, ws, part, wall, closed_buckets(watch))
            if publish:
                await store.publish_state(watch, redis_view(out.state, rt))
            if not out.closed and out.state.watermark == ws.watermark:
                continue
            gone, new_state = purgeable(ws, out.state, bucket_s, RETAIN_BUCKETS)
            raw_new = codec.dumps(new_state)
            states[wkey] = raw_new
            state_memo.put(wkey, raw_new, new_state)
            for agg in out.closed:  # a closed bucket is not read again: memory back
                bucket_memo.discard(bucket_key(watch, agg.bucket_start))
            for b in gone:
                buckets.pop(bucket_key(watch, b), None)
            if out.fired:
                await emit(out.fired)
            suppressed(watch, out.suppressed)

    last_tick = [0.0]  # wall time of the last tick sent by this worker

    @app.timer(settings.close_interval_s)
    async def tick() -> None:
        await send_ticks()
        await store.flush()

    async def send_ticks() -> None:
        last_tick[0] = now_s()
        # every worker announces the watermarks of the input partitions it consumes
        # (None: assigned, nothing read yet) and those with records still to read ("busy")
        try:
            consumer = app.consumer
            tps = [tp for tp in consumer.assignment() if tp.topic == topics.EVENTS.name]
        except ConsumerNotStarted:  # an agent under test_context has no consumer
            tps = []
        committed = getattr(consumer, "_committed_offset", {}) if tps else {}
        # snapshot, with no await in between: the marks and the held global counts describe
        # the same records (ingest may run while the sends below wait)
        value = orjson.dumps(tick_doc(
            now_s(), rt.input_watermarks, {tp.partition: consumer.highwater(tp) for tp in tps},
            rt.input_offsets, {tp.partition: committed.get(tp) for tp in tps}))
        held = partial_messages(rt.take_global(), rt.partition_of)
        # the global scope's held partials go first: the tick after them announces event time
        # whose global counts are all on the internal topic
        for part, msg in held:
            await partials_t.send(value=msg, partition=part)
        for p in range(settings.topic_partitions):
            await partials_t.send(value=value, partition=p)

    @app.timer(settings.roster_reload_s)
    async def reload_rosters() -> None:
        # rosters change while the worker runs: file + Redis sets, swapped in whole
        try:
            from_file = roster.load_roster_file(settings.roster_file) \
                if settings.roster_file else {}
        except (OSError, roster.RosterError) as exc:
            log.warning("roster file not reloaded path=%s error=%s", settings.roster_file, exc)
            return
        from_redis = await store.rosters([w.id for w in rt.matcher.watches])
        if from_redis is not None:  # Redis down: keep the rosters we have
            rt.reload_rosters(roster.merged(from_file, from_redis))

    guard = [input_guard.GuardState()]

    @app.timer(5.0)
    async def watch_consumer() -> None:
        record_lag(app.consumer, rt)
        if not app.rebalancing:  # positions move during a rebalance and its recovery
            guard[0] = await guard_input(app.consumer, rt, guard[0], now_s())

    register_pages(app, rt, states, store)
    app.vigie_runtime = rt  # type: ignore[attr-defined]
    app.vigie_store = store  # type: ignore[attr-defined]
    return app, rt
