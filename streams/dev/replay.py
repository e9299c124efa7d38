"""Send a JSONL file of events to the input topic in batched records, paced by event time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from streams import topics
from streams.events.model import parse_ts

log = logging.getLogger(__name__)
SLICE_S = 0.05  # at most one record per partition per slice of wall time when pacing


@dataclass(frozen=True)
class ReplayStats:
    """What a replay did."""

    events: int
    records: int
    elapsed_s: float

    @property
    def events_per_s(self) -> float:
        """Throughput of the replay."""
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0


def read_events(path: str | Path) -> Iterator[tuple[float, bytes]]:
    """Yield (event time, raw JSON bytes) per non-empty line; bad lines are sent as they are."""
    with Path(path).open("rb") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                ts = parse_ts(orjson.loads(line).get("created_at"), "created_at")
            except Exception:  # bad lines are data for the DLQ: send them, unpaced
                ts = float("nan")
            yield ts, line


def _record(lines: list[bytes]) -> bytes:
    return b"[" + b",".join(lines) + b"]"


async def replay(producer: AIOKafkaProducer, path: str | Path, *, speed: float | None,
                 batch_size: int = 500, topic: str = topics.EVENTS.name,
                 progress: Callable[[int, int, float], None] | None = None) -> ReplayStats:
    """Replay a file; speed=None sends as fast as possible, else keeps gaps N times faster."""
    start = time.monotonic()
    t0: float | None = None
    batch: list[bytes] = []
    events = records = 0
    pending: list[asyncio.Future[object]] = []

    async def flush() -> None:
        nonlocal records, batch
        if batch:
            pending.append(await producer.send(topic, _record(batch)))
            records += 1
            batch = []
            if len(pending) > 64:  # bound what is in flight
                await asyncio.gather(*pending)
                pending.clear()

    for ts, line in read_events(path):
        if speed is not None and ts == ts:  # NaN-safe: unpaced bad lines
            if t0 is None:
                t0 = ts
            due = start + (ts - t0) / speed
            wait = due - time.monotonic()
            if wait > SLICE_S:
                await flush()
                await asyncio.sleep(wait)
        batch.append(line)
        events += 1
        if len(batch) >= batch_size:
            await flush()
        if progress is not None and events % 1000 == 0:
            progress(events, records, time.monotonic() - start)
    await flush()
    if pending:
        await asyncio.gather(*pending)
    await producer.flush()
    stats = ReplayStats(events, records, time.monotonic() - start)
    if progress is not None:
        progress(events, records, stats.elapsed_s)
    log.info("replay done events=%d records=%d elapsed_s=%.2f", events, records,
             stats.elapsed_s)
    return stats


def producer_for(bootstrap: str, **kwargs: object) -> AIOKafkaProducer:
    """A producer tuned for batched JSON records."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks=1,
                            max_request_size=16 * 1024 * 1024, **kwargs)
