"""The ingest agent's work: a processed record's partials, dead letters and watermark sent,
and the ticks that announce the input watermarks on every internal partition."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from streams.engine.ingest import RecordOut
from streams.engine.messages import closes_bucket, partial_messages, tick_doc
from streams.worker.context import WorkerContext, now_s

EAGER_TICK_GAP_S = 0.2  # at most five eager ticks a second (a replay crosses buckets fast)
SendTo = Callable[[bytes, int], Awaitable[Any]]  # (value, partition)
Send = Callable[[bytes], Awaitable[Any]]
# the input partitions assigned here: (end offsets as last fetched, committed offsets)
Assigned = Callable[[], tuple[Mapping[int, int | None], Mapping[int, int | None]]]


class Ingest:
    """Sends what the ingest stage made of each record, and the ticks."""

    def __init__(self, ctx: WorkerContext, send_partials: SendTo, send_dead: Send,
                 assigned: Assigned) -> None:
        self.ctx, self.send_partials, self.send_dead = ctx, send_partials, send_dead
        self.assigned = assigned
        self.last_tick = 0.0  # wall time of the last tick sent by this worker

    async def finish(self, out: RecordOut, ack: Callable[[], Awaitable[Any]]) -> None:
        """Send a record's results in input order, then ack it; tick at once when its event
        time made a bucket closable (rather than at the next timer)."""
        ctx = self.ctx
        ctx.account(out)
        for part, value in out.messages:
            await self.send_partials(value, part)
        for d in out.dead:
            await self.send_dead(orjson.dumps(d))
        p = out.partition
        before = ctx.input_watermarks.get(p, 0.0)
        ctx.input_watermarks[p] = out.watermark_s
        ctx.input_offsets[p] = out.offset
        await ack()
        if closes_bucket(before, out.watermark_s, ctx.engine.bucket_s,
                         ctx.engine.loop.lateness_s) \
                and now_s() - self.last_tick >= EAGER_TICK_GAP_S:
            await self.send_ticks()

    async def send_ticks(self) -> None:
        """Announce the input watermarks (None: assigned, nothing read yet) and the partitions
        with records still to read ("busy") on every internal partition."""
        ctx = self.ctx
        self.last_tick = now_s()
        ends, committed = self.assigned()
        # snapshot, with no await in between: the marks and the held global counts describe
        # the same records (ingest may run while the sends below wait)
        value = orjson.dumps(tick_doc(now_s(), ctx.input_watermarks, ends, ctx.input_offsets,
                                      committed))
        held = partial_messages(ctx.held.take(), ctx.engine.partition_of)
        # the global scope's held partials go first: the tick after them announces event time
        # whose global counts are all on the internal topic
        for part, msg in held:
            await self.send_partials(msg, part)
        for p in range(ctx.settings.topic_partitions):
            await self.send_partials(value, p)
