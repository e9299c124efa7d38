"""Kafka and process probes of `vigie bench`: producers, the raw ceiling, /metrics, RSS."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.dev._bench_load import Rec
from streams.dev.replay import producer_for
from streams.outputs.clients import kafka_kwargs
from streams.settings import Settings

IN_FLIGHT = 256  # records awaiting their acknowledgement


async def produce(s: Settings, topic: str, values: Sequence[bytes]) -> list[float]:
    """Send records round-robin over the partitions, unpaced; return their timestamps (s)."""
    producer = producer_for(s.kafka_brokers, **kafka_kwargs(s))
    await producer.start()
    try:
        futures: list[asyncio.Future[Any]] = []
        out: list[float] = []
        for i, value in enumerate(values):
            futures.append(await producer.send(topic, value,
                                               partition=i % s.topic_partitions))
            if len(futures) >= IN_FLIGHT:
                out += [m.timestamp / 1000 for m in await asyncio.gather(*futures)]
                futures = []
        out += [m.timestamp / 1000 for m in await asyncio.gather(*futures)]
        return out
    finally:
        await producer.stop()


async def _open(s: Settings, topic: str, starts: dict[int, int]) -> AIOKafkaConsumer:
    """A started consumer without a group, reading each partition from its start offset."""
    consumer = AIOKafkaConsumer(bootstrap_servers=s.kafka_brokers, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                **kafka_kwargs(s))
    await consumer.start()
    tps = {TopicPartition(topic, p): off for p, off in starts.items()}
    consumer.assign(list(tps))
    for tp, off in tps.items():
        consumer.seek(tp, off)
    return consumer


async def end_offsets(s: Settings, topic: str) -> dict[int, int]:
    """Current end offset of each partition (where a phase's new records will start)."""
    consumer = await _open(s, topic, {})
    try:
        tps = [TopicPartition(topic, p) for p in range(s.topic_partitions)]
        ends = await consumer.end_offsets(tps)
        return {tp.partition: off for tp, off in ends.items()}
    finally:
        await consumer.stop()


async def precommit(s: Settings, group: str, topics: Sequence[str]) -> None:
    """Commit a new group's offsets at the end of topics, so its worker skips older records."""
    consumer = AIOKafkaConsumer(bootstrap_servers=s.kafka_brokers, group_id=group,
                                enable_auto_commit=False, **kafka_kwargs(s))
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in range(s.topic_partitions)]
        ends = await consumer.end_offsets(tps)
        consumer.assign(tps)
        await consumer.commit(dict(ends))
    finally:
        await consumer.stop()


async def ceiling(s: Settings, topic: str, starts: dict[int, int], n_records: int,
                  timeout_s: float = 120.0) -> tuple[int, float]:
    """Read n_records with a plain consumer, orjson-decoding each; return (events, seconds).

    Like the worker's figure, the clock starts once the first fetch is in and decoded, and the
    events of that first fetch are not counted.
    """
    consumer = await _open(s, topic, starts)
    try:
        records = events = first_events = 0
        t0 = t1 = 0.0
        deadline = time.monotonic() + timeout_s
        while records < n_records and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=2000)
            for recs in batch.values():
                for rec in recs:
                    doc = orjson.loads(rec.value)
                    events += len(doc) if type(doc) is list else 1
                    records += 1
            t1 = time.perf_counter()
            if batch and not t0:
                t0, first_events = t1, events
        if records < n_records:
            raise TimeoutError(f"ceiling read {records} of {n_records} records")
        return events - first_events, t1 - t0
    finally:
        await consumer.stop()


@dataclass
class AlertLog:
    """Alert records read during the latency phase: (record timestamp s, receive s, doc)."""

    rows: list[tuple[float, float, dict[str, Any]]] = field(default_factory=list)


async def read_alerts(s: Settings, topic: str, starts: dict[int, int], out: AlertLog,
                      stop: asyncio.Event) -> None:
    """Collect alert records until stop is set."""
    consumer = await _open(s, topic, starts)
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            wall = time.time()
            for recs in batch.values():
                out.rows += [(r.timestamp / 1000, wall, orjson.loads(r.value)) for r in recs]
    finally:
        await consumer.stop()


async def produce_paced(s: Settings, topic: str, recs: Sequence[Rec],
                        sent: list[int] | None = None) -> tuple[list[float], float]:
    """Send records at their due wall time, round-robin; return timestamps and elapsed s."""
    producer = producer_for(s.kafka_brokers, **kafka_kwargs(s))
    await producer.start()
    try:
        futures: list[asyncio.Future[Any]] = []
        start = time.monotonic()
        for i, rec in enumerate(recs):
            wait = start + rec.due_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            futures.append(await producer.send(topic, rec.value,
                                               partition=i % s.topic_partitions))
            if sent is not None:
                sent[0] += 1
        metas = await asyncio.gather(*futures)
        return [m.timestamp / 1000 for m in metas], time.monotonic() - start
    finally:
        await producer.stop()


def scrape(url: str) -> dict[str, float]:
    """Sum the samples of each vigie_* counter/gauge of a /metrics page; DLQ also by reason."""
    with urllib.request.urlopen(url, timeout=2.0) as resp:
        body = resp.read().decode()
    out: dict[str, float] = {}
    for line in body.splitlines():
        if not line.startswith("vigie_"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name, _, labels = name_labels.partition("{")
        out[name] = out.get(name, 0.0) + float(value)
        if name == "vigie_dead_letters_total":
            reason = labels.split('reason="', 1)[-1].split('"', 1)[0]
            out[f"dlq:{reason}"] = out.get(f"dlq:{reason}", 0.0) + float(value)
    return out


@dataclass(frozen=True)
class Progress:
    """/metrics samples while a worker consumes a pre-produced topic."""

    samples: list[tuple[float, dict[str, float]]]
    complete: bool


def follow(url: str, n_records: int, timeout_s: float, proc: Popen[bytes],
           interval_s: float = 0.1) -> Progress:
    """Poll /metrics until vigie_records_in_total reaches n_records (or timeout / stall)."""
    samples: list[tuple[float, dict[str, float]]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with code {proc.returncode}")
        with contextlib.suppress(OSError):
            m = scrape(url)
            m["cpu_s"] = cpu_seconds(proc.pid)
            samples.append((time.perf_counter(), m))
            if m.get("vigie_records_in_total", 0.0) >= n_records:
                return Progress(samples, True)
        time.sleep(interval_s)
    return Progress(samples, False)


def rate(p: Progress) -> tuple[float, float, float, float]:
    """(events, seconds, events/s, worker CPU share) from the first sample showing input to
    the last one."""
    seen = [(t, m) for t, m in p.samples if m.get("vigie_records_in_total", 0.0) > 0]
    if len(seen) < 2 or seen[-1][0] <= seen[0][0]:
        return 0.0, 0.0, float("nan"), float("nan")
    (t0, m0), (t1, m1) = seen[0], seen[-1]
    n = m1.get("vigie_events_in_total", 0.0) - m0.get("vigie_events_in_total", 0.0)
    cpu = m1.get("cpu_s", 0.0) - m0.get("cpu_s", 0.0)
    return n, t1 - t0, n / (t1 - t0), cpu / (t1 - t0)


def _children(pid: int) -> list[int]:
    """Live child processes of pid (the worker's ingest child)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children so far (NaN when
    unreadable)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            if p == pid:
                return float("nan")
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _hwm_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_mib(pid: int) -> float | None:
    """Peak resident set (VmHWM) in MiB of a process plus its live children (the ingest
    child), None when unreadable."""
    own = _hwm_mib(pid)
    if own is None:
        return None
    return own + sum(_hwm_mib(c) or 0.0 for c in _children(pid))
