"""The ingest loop: payloads mapped, validated as the worker validates, batched into records
(a JSON array of events, as `vigie replay` sends), dead letters for what cannot be mapped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from streams.events.decode import DeadLetter, Limits, dead_letter_record, decode_record
from streams.sources.common import Mapped, Outcome, Payload, Skipped, element_bytes

log = logging.getLogger(__name__)
LINGER_S = 0.5  # a partial batch waits at most this long (live sources trickle)
POLL_S = 0.25  # how often the loop looks at its stop conditions while idle
MAX_RECORD_BYTES = 900 * 1024  # under Kafka's default 1 MiB message.max.bytes
RECENT_IDS = 100_000  # post ids remembered to drop the replays of a reconnect

Mapper = Callable[[Payload], list[Outcome]]


class Sink(Protocol):
    """Where records go: Kafka, or files for a dry run."""

    async def events(self, record: bytes, n: int) -> None:
        """Send one record holding a JSON array of n events."""

    async def dead(self, doc: bytes) -> None:
        """Send one dead-letter.v1 document."""

    async def close(self) -> None:
        """Wait until everything sent is delivered."""


@dataclass
class Stats:
    """What an ingest run did; `summary()` is the one line printed at the end."""

    fmt: str
    payloads: int = 0
    events: int = 0
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    dead: Counter[str] = field(default_factory=Counter)

    def summary(self, events_to: str, dead_to: str, extra: str = "") -> str:
        """Read, mapped, skipped and dead-lettered (by kind and reason), records sent."""
        def by(c: Counter[str]) -> str:
            return " (" + ", ".join(f"{k}={v}" for k, v in sorted(c.items())) + ")" if c else ""

        n_dead = sum(self.dead.values())
        return (f"ingest {self.fmt}: read {plural(self.payloads, 'payload')}, mapped "
                f"{plural(self.events, 'event')}, skipped {sum(self.skipped.values())}"
                f"{by(self.skipped)}, dead-lettered {n_dead}{by(self.dead)}; sent "
                f"{plural(self.records, 'record')} to {events_to} and "
                f"{plural(n_dead, 'dead letter')} to {dead_to}{extra}")


def plural(n: int, noun: str) -> str:
    """`1 record`, `2 records`."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


class RecentIds:
    """A bounded set of recently produced post ids (oldest forgotten first)."""

    def __init__(self, size: int = RECENT_IDS) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def seen(self, post_id: str) -> bool:
        """True when the id was produced recently; else remember it."""
        if post_id in self._ids:
            return True
        self._ids[post_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return False


class Ingest:
    """Maps payloads, validates events, batches records and sends them to a sink."""

    def __init__(self, fmt: str, mapper: Mapper, sink: Sink, limits: Limits, *,
                 batch_size: int = 500, dedup: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.stats = Stats(fmt)
        self.source_topic = f"ingest:{fmt}"
        self._mapper = mapper
        self._sink = sink
        self._limits = limits
        self._batch_size = max(1, batch_size)
        self._record_cap = min(MAX_RECORD_BYTES, limits.max_record_bytes)
        self._recent = RecentIds() if dedup else None
        self._clock = clock
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self.batch_since = 0.0

    @property
    def pending(self) -> bool:
        """True while a partial batch waits."""
        return bool(self._batch)

    async def payload(self, p: Payload) -> None:
        """Map one payload and send what it gives."""
        self.stats.payloads += 1
        # no size check here: a payload may be a whole page or file; each event is checked
        for out in self._mapper(p):
            if isinstance(out, Mapped):
                await self._event(p, out)
            elif isinstance(out, Skipped):
                self.stats.skipped[out.kind] += 1
            else:
                await self._dead(p, out.reason, out.detail, out.element, out.index)

    async def _event(self, p: Payload, m: Mapped) -> None:
        if self._recent is not None and self._recent.seen(str(m.event.get("id"))):
            self.stats.skipped["duplicate"] += 1
            return
        data = orjson.dumps(m.event)
        # the worker's own decoder: the contract, the text limit, future and ancient dates
        # (lateness is the worker's call: it depends on its partitions' watermarks)
        decoded = decode_record(data, self._limits, self._clock(), float("-inf"))
        if decoded.dead:
            bad = decoded.dead[0]
            element = None if m.index is None else (element_bytes(m.item) or data)
            await self._dead(p, bad.reason, f"mapped event: {bad.detail}", element, m.index)
            return
        if self._batch and (len(self._batch) >= self._batch_size
                            or self._batch_bytes + len(data) + 2 > self._record_cap):
            await self.flush()
        if not self._batch:
            self.batch_since = time.monotonic()
        self._batch.append(data)
        self._batch_bytes += len(data) + 1
        self.stats.events += 1

    async def _dead(self, p: Payload, reason: str, detail: str, element: bytes | None,
                    index: int | None) -> None:
        self.stats.dead[reason] += 1
        where = f"line {p.line}: " if p.line is not None else ""
        dl = DeadLetter(reason, f"{where}{detail}", p.raw if element is None else element,
                        index)
        doc = dead_letter_record(dl, self.source_topic, 0, p.pos, self._clock())
        await self._sink.dead(orjson.dumps(doc))

    async def flush(self) -> None:
        """Send the partial batch as one record."""
        if self._batch:
            record = b"[" + b",".join(self._batch) + b"]"
            n = len(self._batch)
            self._batch, self._batch_bytes = [], 0
            await self._sink.events(record, n)
            self.stats.records += 1


async def drive(ingest: Ingest, queue: asyncio.Queue[list[Payload] | None],
                stop: asyncio.Event, *, max_events: int | None = None,
                deadline: float | None = None) -> None:
    """Feed queued payloads to `ingest` until the input ends or a stop condition holds."""
    while not stop.is_set():
        if deadline is not None and time.monotonic() >= deadline:
            break
        wait = POLL_S
        if ingest.pending:
            wait = min(wait, max(0.0, ingest.batch_since + LINGER_S - time.monotonic()))
        try:
            chunk = await asyncio.wait_for(queue.get(), wait)
        except TimeoutError:
            if ingest.pending and time.monotonic() - ingest.batch_since >= LINGER_S:
                await ingest.flush()
            continue
        if chunk is None:
            break
        for p in chunk:
            await ingest.payload(p)
            if max_events is not None and ingest.stats.events >= max_events:
                stop.set()
                break
        # a busy input (mostly skipped events) must not hold a partial batch either; on
        # 3.11 wait_for(get, 0) times out even when the queue is full, on 3.12 it may not
        if ingest.pending and time.monotonic() - ingest.batch_since >= LINGER_S:
            await ingest.flush()
    await ingest.flush()
