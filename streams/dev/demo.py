"""`vigie demo`: embedded broker and Redis, a worker, a replayed scenario, live alerts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import orjson

from streams import topics
from streams.dev import scenarios
from streams.dev.embedded import EmbeddedBroker, EmbeddedRedis, create_topics, free_port
from streams.dev.replay import producer_for, replay
from streams.outputs.clients import format_alert, kafka_kwargs, tail_consumer
from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Infra:
    """Broker and Redis addresses, and the children we started."""

    settings: Settings
    children: list[EmbeddedBroker | EmbeddedRedis]


@contextlib.contextmanager
def infrastructure(settings: Settings, log_dir: str) -> Iterator[Infra]:
    """Start an embedded broker/Redis where settings name none; stop them on exit."""
    children: list[EmbeddedBroker | EmbeddedRedis] = []
    try:
        s = settings
        if s.embedded_kafka:
            broker = EmbeddedBroker(log_dir).start()
            children.append(broker)
            s = s.with_overrides(kafka_brokers=broker.bootstrap, kafka_end_offset_shim=True)
        if s.embedded_redis:
            rds = EmbeddedRedis(log_dir).start()
            children.append(rds)
            s = s.with_overrides(redis_url=rds.url)
        create_topics(s.kafka_brokers, [(t, s.topic_partitions) for t in topics.names()])
        yield Infra(s, children)
    finally:
        for child in reversed(children):
            child.stop()


def worker_env(s: Settings) -> dict[str, str]:
    """Environment that makes `vigie worker` see these settings."""
    env = dict(os.environ)
    for f in fields(s):
        raw = getattr(s, f.name)
        env[f"VIGIE_{f.name.upper()}"] = str(raw).lower() if isinstance(raw, bool) else str(raw)
    return env


def start_worker(s: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    """Start `vigie worker` as a child in its own process group."""
    fh = log_path.open("ab")
    return subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=worker_env(s),
                            stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until a URL answers 200."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"worker exited with code {proc.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1.0) as resp:
            if resp.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f}s")


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """SIGTERM the process group, then SIGKILL it after a timeout."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


async def _tail(s: Settings, counter: list[int], stop: asyncio.Event) -> None:
    consumer = tail_consumer(s, topics.ALERTS.name, from_beginning=True)
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for rec in records:
                    counter[0] += 1
                    sys.stdout.write("\r\033[K" + format_alert(orjson.loads(rec.value)) + "\n")
                    sys.stdout.flush()
    finally:
        await consumer.stop()


async def _run(s: Settings, events_file: str, speed: float | None, linger_s: float) -> int:
    alerts = [0]
    stop = asyncio.Event()
    tail = asyncio.create_task(_tail(s, alerts, stop))

    def progress(events: int, records: int, elapsed_s: float) -> None:
        rate = events / elapsed_s if elapsed_s > 0 else 0.0
        sys.stdout.write(f"\r\033[Kreplayed {events} events in {records} records, "
                         f"{rate:,.0f} events/s, {alerts[0]} situation messages so far")
        sys.stdout.flush()

    producer = producer_for(s.kafka_brokers, **kafka_kwargs(s))
    await producer.start()
    try:
        await replay(producer, events_file, speed=speed, progress=progress)
    finally:
        await producer.stop()
    sys.stdout.write("\nreplay finished; waiting for the last buckets to close"
                     f" ({linger_s:.0f}s, Ctrl-C to stop)\n")
    await asyncio.sleep(linger_s)
    stop.set()
    await tail
    return alerts[0]


def run_demo(settings: Settings, *, scenario: str, speed: float | None, linger_s: float,
             seed: int = 7) -> int:
    """Run the whole demo; return the number of alerts seen."""
    work = Path(tempfile.mkdtemp(prefix="vigie-demo-"))
    events_file = work / f"{scenario}.jsonl"
    truth = scenarios.write(scenario, events_file, seed=seed)
    print(f"scenario {scenario}: {truth['events']} events from {truth['start']} to "
          f"{truth['end']}; incidents: {[(i['watch'], i['onset']) for i in truth['incidents']]}")
    port = settings.web_port if settings.web_port else free_port()
    s = settings.with_overrides(web_port=port, data_dir=str(work / "worker"),
                                idle_close_s=min(settings.idle_close_s, 5.0))
    with infrastructure(s, str(work)) as infra:
        s = infra.settings
        print(f"broker {s.kafka_brokers}, redis {s.redis_url}, logs in {work}")
        worker = start_worker(s, work / "worker.log")
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", 60.0, worker)
            print(f"worker up: metrics at http://127.0.0.1:{port}/metrics, "
                  f"state at http://127.0.0.1:{port}/watches")
            return asyncio.run(_run(s, str(events_file), speed, linger_s))
        except KeyboardInterrupt:
            print("\nstopping")
            return 0
        finally:
            stop_process(worker)
