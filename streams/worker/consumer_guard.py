"""Periodic look at the worker's Kafka consumer: lag per partition, and the input guard."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from streams import topics
from streams.worker import input_guard
from streams.worker.context import WorkerContext

log = logging.getLogger(__name__)
POSITION_TIMEOUT_S = 2.0  # aiokafka waits for a valid position; a check must not


def record_lag(consumer: Any, ctx: WorkerContext) -> None:
    """Faust has no lag metric: end offset (fetch high watermark) minus committed offset."""
    committed = getattr(consumer, "_committed_offset", {})
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        if high is not None:
            ctx.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(
                max(0, high - (committed.get(tp) or 0)))


def stage_idle(ctx: WorkerContext) -> bool:
    """Every record handed to the ingest stage is finished."""
    return all(ctx.input_offsets.get(p) == off for p, off in ctx.input_received.items())


async def _position(consumer: Any, tp: Any) -> int | None:
    try:
        return await asyncio.wait_for(consumer.position(tp), POSITION_TIMEOUT_S)
    except TimeoutError:
        return None


async def guard_input(consumer: Any, ctx: WorkerContext, state: input_guard.GuardState,
                      now_s: float) -> input_guard.GuardState:
    """Seek back input partitions whose records the client consumed and the agent never got."""
    committed = getattr(consumer, "_committed_offset", {})
    tps = {tp.partition: tp for tp in consumer.assignment() if tp.topic == topics.EVENTS.name}
    observed = {p: input_guard.Observed(await _position(consumer, tp),
                                        ctx.input_received.get(p), committed.get(tp))
                for p, tp in tps.items()}
    state, rewinds = input_guard.check(state, observed, stage_idle(ctx), now_s)
    for p, offset in rewinds.items():
        tp = tps[p]
        if offset == input_guard.BEGINNING:
            offset = (await consumer.earliest_offsets(tp)).get(tp, 0)
        log.warning("input records skipped by the consumer: rewinding partition=%d "
                    "position=%s received=%s committed=%s to=%d", p, observed[p].position,
                    observed[p].received, observed[p].committed, offset)
        ctx.metrics.input_rewinds.labels(str(p)).inc()
        await consumer.seek(tp, offset)
    return state
