"""The Faust app: topics, tables, and thin agents and timers over the engine.

The only package that imports faust. The agents hand messages to the worker's glue
(streams.worker.ingest, streams.worker.per_watch), which drives the pure engine and sends what
it returns.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted

from streams import topics
from streams.outputs.redis_store import RedisStore
from streams.outputs.sinks import build_sinks
from streams.settings import Settings
from streams.watches import roster
from streams.worker import input_guard, kafka_shim
from streams.worker.consumer_guard import guard_input, record_lag
from streams.worker.context import WorkerContext, build_context, now_s
from streams.worker.ingest import Ingest
from streams.worker.offload import start_stage
from streams.worker.pages import register_pages
from streams.worker.per_watch import PerWatch
from streams.worker.sensors import Counters

log = logging.getLogger(__name__)
PRODUCER_BUFFER_MESSAGES = 2_000  # see create_app
RAW: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
                       "value_serializer": "raw"}


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


def faust_app(settings: Settings) -> faust.App:
    """The Faust app with the worker's tuning (see DEVELOPERS.md for each choice)."""
    brokers = ";".join(f"kafka://{b.strip()}" for b in settings.kafka_brokers.split(",") if b)
    return faust.App(
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


def create_app(settings: Settings, registry: Any = None) -> tuple[faust.App, WorkerContext]:
    """Build the worker app and its context."""
    ctx = build_context(settings, registry)
    if settings.kafka_end_offset_shim:
        kafka_shim.install()
    app = faust_app(settings)
    events_t = app.topic(topics.EVENTS.name, **RAW)
    partials_t = app.topic(topics.PARTIALS.name, **RAW)
    alerts_t = app.topic(topics.ALERTS.name, **RAW)
    signals_t = app.topic(topics.SIGNALS.name, **RAW)
    dlq_t = app.topic(topics.DLQ.name, **RAW)
    # bytes keys and values: Faust then picks the raw codec for the changelog both ways, so
    # what is written is exactly what recovery returns
    tbl: dict[str, Any] = {"key_type": bytes, "value_type": bytes,
                           "partitions": settings.topic_partitions}
    states = app.Table("watch-state", **tbl)
    buckets = app.Table("buckets", **tbl)
    store = RedisStore(settings.redis_url or "redis://127.0.0.1:6379/0", f"vigie:{settings.app_id}",
                       settings.dedup_ttl_s, settings.redis_timeout_s,
                       lambda op: ctx.metrics.redis_errors.labels(op).inc(),
                       settings.redis_password)
    app.sensors.add(Counters(ctx.metrics))
    # Table writes wait in Faust's producer buffer, and the conductor stops handing messages to
    # every agent while more than max_messages (100) wait. After a catch-up the buffer held
    # ~15k bucket writes and the first alerts waited behind it (p99 1.32/1.39 s -> 0.94/0.97 s
    # with 2,000, same throughput). A commit still flushes the buffer before the offsets.
    app.producer.buffer.max_messages = PRODUCER_BUFFER_MESSAGES

    async def send_partials(value: bytes, partition: int) -> Any:
        return await partials_t.send(value=value, partition=partition)

    async def send_dead(value: bytes) -> Any:
        return await dlq_t.send(value=value)

    async def send_alert(key: bytes | None, value: bytes) -> Any:
        return await alerts_t.send(key=key, value=value)

    async def send_signal(key: bytes | None, value: bytes) -> Any:
        return await signals_t.send(key=key, value=value)

    def assigned() -> tuple[dict[int, int | None], dict[int, int | None]]:
        try:
            consumer = app.consumer
            tps = [tp for tp in consumer.assignment() if tp.topic == topics.EVENTS.name]
        except ConsumerNotStarted:  # an agent under test_context has no consumer
            return {}, {}
        committed = getattr(consumer, "_committed_offset", {})
        return ({tp.partition: consumer.highwater(tp) for tp in tps},
                {tp.partition: committed.get(tp) for tp in tps})

    ingest_glue = Ingest(ctx, send_partials, send_dead, assigned)
    per_watch_glue = PerWatch(ctx, states, buckets, store, send_alert, send_signal,
                              lambda _key, value: send_dead(value),
                              build_sinks(settings, ctx.metrics))

    @app.agent(events_t)
    async def ingest(stream: Any) -> None:
        manual = stream.noack()  # a record is acked once its partials are on the topic

        async def finish(event: Any, out: Any) -> None:
            await ingest_glue.finish(out, lambda: manual.ack(event))

        stage = await start_stage(ctx, finish)
        try:
            async for event in manual.events():
                msg = event.message
                ctx.input_received[msg.partition] = msg.offset
                await stage.put(event, event.value, msg.partition, msg.offset, msg.timestamp)
        finally:
            await stage.stop()

    @app.agent(partials_t)
    async def per_watch(stream: Any) -> None:
        async for event in stream.events():
            await per_watch_glue.on_message(event.message.partition, event.value)

    @app.timer(settings.close_interval_s)
    async def tick() -> None:
        await ingest_glue.send_ticks()
        await store.flush()

    @app.timer(settings.roster_reload_s)
    async def reload() -> None:
        await reload_rosters(ctx, store)

    guard = [input_guard.GuardState()]

    @app.timer(5.0)
    async def watch_consumer() -> None:
        record_lag(app.consumer, ctx)
        if not app.rebalancing:  # positions move during a rebalance and its recovery
            guard[0] = await guard_input(app.consumer, ctx, guard[0], now_s())

    register_pages(app, ctx, states, store)
    app.vigie_context = ctx  # type: ignore[attr-defined]
    app.vigie_store = store  # type: ignore[attr-defined]
    return app, ctx


def run_worker(settings: Settings) -> None:
    """Run a worker until it is stopped (the `vigie worker` command)."""
    from faust.worker import Worker

    app, _ = create_app(settings)
    worker = Worker(app, loglevel=settings.log_level.lower(), quiet=True,
                    redirect_stdouts=False)
    worker.execute_from_commandline()


async def reload_rosters(ctx: WorkerContext, store: RedisStore) -> None:
    """Rosters change while the worker runs: file + Redis sets, swapped in whole."""
    s = ctx.settings
    try:
        from_file = roster.load_roster_file(s.roster_file) if s.roster_file else {}
    except (OSError, roster.RosterError) as exc:
        log.warning("roster file not reloaded path=%s error=%s", s.roster_file, exc)
        return
    from_redis = await store.rosters([w.id for w in ctx.engine.matcher.watches])
    if from_redis is not None:  # Redis down: keep the rosters we have
        ctx.reload_rosters(roster.merged(from_file, from_redis))
