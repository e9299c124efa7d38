"""Where `vigie ingest` sends records: Kafka topics, or JSONL files for a dry run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import IO, Any

import orjson
from aiokafka import AIOKafkaProducer

MAX_IN_FLIGHT = 64  # sends awaited together before more are queued


def producer(bootstrap: str, **kwargs: Any) -> AIOKafkaProducer:
    """A producer for batched JSON records; every replica acknowledges (what a collector
    sends exists nowhere else)."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all",
                            max_request_size=2 * 1024 * 1024, **kwargs)


class KafkaSink:
    """Records to the input topic (no key, as `vigie replay`), dead letters to the DLQ."""

    def __init__(self, producer: AIOKafkaProducer, events_topic: str, dlq_topic: str) -> None:
        self._producer = producer
        self._events_topic = events_topic
        self._dlq_topic = dlq_topic
        self._pending: list[asyncio.Future[object]] = []

    async def _send(self, topic: str, value: bytes) -> None:
        self._pending.append(await self._producer.send(topic, value))
        if len(self._pending) >= MAX_IN_FLIGHT:
            await self._drain()

    async def _drain(self) -> None:
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)  # a failed delivery raises here

    async def events(self, record: bytes, n: int) -> None:
        """Send one batched record."""
        await self._send(self._events_topic, record)

    async def dead(self, doc: bytes) -> None:
        """Send one dead letter."""
        await self._send(self._dlq_topic, doc)

    async def close(self) -> None:
        """Wait for every delivery, then stop the producer."""
        try:
            await self._drain()
            await self._producer.flush()
        finally:
            await self._producer.stop()


class FileSink:
    """Events as JSONL (one per line, ready for `vigie replay`), dead letters beside them."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.dlq_path = self.path.with_name(self.path.name + ".dlq.jsonl")
        self._events: IO[bytes] = self.path.open("wb")
        self._dead: IO[bytes] = self.dlq_path.open("wb")

    async def events(self, record: bytes, n: int) -> None:
        """Write the events of one record, one per line."""
        self._events.write(b"".join(orjson.dumps(ev) + b"\n" for ev in orjson.loads(record)))
        self._events.flush()  # a live source's events show up as they come

    async def dead(self, doc: bytes) -> None:
        """Write one dead letter."""
        self._dead.write(doc + b"\n")
        self._dead.flush()

    async def close(self) -> None:
        """Close both files."""
        self._events.close()
        self._dead.close()
