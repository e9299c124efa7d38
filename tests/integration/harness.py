"""A real stack for integration tests: own Tansu broker, redis-server, `vigie worker` process.

Alerts and dead letters are read with kafka-python, not the worker's client, and validated
against the JSON Schemas.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams import topics
from streams.dev.demo import start_worker, stop_process, wait_http
from streams.dev.embedded import EmbeddedBroker, create_topics, free_port
from streams.settings import Settings

PARTITIONS = 2


@dataclass
class Stack:
    """A broker, a Redis URL and (re)startable workers sharing one app id."""

    broker: EmbeddedBroker
    redis_url: str
    app_id: str
    work: Path
    workers: list[Any] = field(default_factory=list)
    port: int = 0

    def settings(self, **over: Any) -> Settings:
        """Worker settings for this stack."""
        base = Settings(kafka_brokers=self.broker.bootstrap, kafka_end_offset_shim=True,
                        redis_url=self.redis_url, app_id=self.app_id,
                        topic_partitions=PARTITIONS, data_dir=str(self.work / "data"),
                        web_port=self.port, idle_close_s=3.0, log_level="INFO")
        return base.with_overrides(**over)

    def start_worker(self, **over: Any) -> Any:
        """Start a worker and wait for its web port."""
        self.port = free_port()
        proc = start_worker(self.settings(**over), self.work / f"worker-{len(self.workers)}.log")
        self.workers.append(proc)
        wait_http(f"http://127.0.0.1:{self.port}/healthz", 90.0, proc)
        return proc

    def log(self, i: int = -1) -> str:
        """A worker's log."""
        return (self.work / f"worker-{i % max(len(self.workers), 1)}.log").read_text()


@contextlib.contextmanager
def stack(tmp: Path, redis_url: str, app_id: str) -> Iterator[Stack]:
    """Own broker (topics are global names), shared Redis, workers stopped on exit."""
    with EmbeddedBroker(tmp) as broker:
        create_topics(broker.bootstrap, [(t, PARTITIONS) for t in topics.names()])
        st = Stack(broker, redis_url, app_id, tmp)
        try:
            yield st
        finally:
            for w in st.workers:
                stop_process(w, 20.0)


def produce(bootstrap: str, records: Iterable[bytes]) -> int:
    """Send raw records with kafka-python; return how many."""
    p = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_request_size=32 * 2**20)
    n = 0
    for r in records:  # round-robin: every input partition spans the whole event time
        p.send(topics.EVENTS.name, r, partition=n % PARTITIONS)
        n += 1
    p.flush(30)
    p.close()
    return n


def batched(lines: list[bytes], size: int = 500) -> Iterator[bytes]:
    """JSON-array records of `size` events."""
    for i in range(0, len(lines), size):
        yield b"[" + b",".join(lines[i:i + size]) + b"]"


def read_all(bootstrap: str, topic: str, *, idle_s: float = 4.0, timeout_s: float = 120.0,
             until: Any = None) -> list[dict[str, Any]]:
    """Read a topic from the beginning until `until(docs)` holds and it has been idle."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      consumer_timeout_ms=500)
    parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    c.assign(parts)
    c.seek_to_beginning(*parts)
    docs: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    last_new = time.monotonic()
    try:
        while time.monotonic() < deadline:
            got = c.poll(timeout_ms=500)
            for recs in got.values():
                for rec in recs:
                    docs.append({"_ts": rec.timestamp / 1000.0, **orjson.loads(rec.value)})
                    last_new = time.monotonic()
            done = until is None or until(docs)
            if done and time.monotonic() - last_new > idle_s:
                break
    finally:
        c.close()
    return docs


def scenario_lines(path: Path) -> list[bytes]:
    """Lines of a simulated JSONL file."""
    return [ln for ln in path.read_bytes().splitlines() if ln.strip()]


def metric(port: int, name: str, **labels: str) -> float:
    """Sum of a metric's samples on a worker's /metrics matching labels."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    total = 0.0
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total
