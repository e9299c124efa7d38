"""One benchmark phase: its own broker and Redis (or fresh offsets), a worker, a drain."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

from streams import topics
from streams.dev import _bench_kafka as kb
from streams.dev.demo import infrastructure, start_worker, stop_process, wait_http
from streams.dev.embedded import free_port
from streams.settings import Settings
from streams.worker import kafka_shim


@dataclass(frozen=True)
class Phase:
    """Settings of one phase (its broker, app id, port) and where its topics start."""

    name: str
    s: Settings
    work: Path
    starts: dict[str, dict[int, int]]

    @property
    def metrics_url(self) -> str:
        """The worker's Prometheus endpoint."""
        return f"http://127.0.0.1:{self.s.web_port}/metrics"


@contextlib.contextmanager
def phase(settings: Settings, work: Path, name: str, **overrides: Any) -> Iterator[Phase]:
    """Fresh infrastructure (embedded) or fresh offsets (configured broker) for one phase."""
    app_id = f"vigie-bench-{name}-{uuid.uuid4().hex[:8]}"
    pdir = work / name
    pdir.mkdir(parents=True, exist_ok=True)
    s = settings.with_overrides(app_id=app_id, web_port=free_port(), data_dir=str(pdir / "data"),
                                **overrides)
    with infrastructure(s, str(pdir)) as infra:
        s = infra.settings
        if s.kafka_end_offset_shim:
            kafka_shim.install()
        names = (topics.EVENTS.name, topics.ALERTS.name, topics.SIGNALS.name)
        if settings.embedded_kafka:  # a new broker: every topic is empty
            starts = {t: dict.fromkeys(range(s.topic_partitions), 0) for t in names}
        else:  # a shared broker: skip what earlier runs left in the topics
            starts = {t: asyncio.run(kb.end_offsets(s, t)) for t in names}
            asyncio.run(kb.precommit(s, app_id, (topics.EVENTS.name, topics.PARTIALS.name)))
        yield Phase(name, s, pdir, starts)


@contextlib.contextmanager
def worker(ph: Phase) -> Iterator[Popen[bytes]]:
    """A `vigie worker` subprocess, stopped on exit (also at interpreter exit)."""
    proc = start_worker(ph.s, ph.work / "worker.log")
    atexit.register(stop_process, proc)
    try:
        wait_http(f"http://127.0.0.1:{ph.s.web_port}/healthz", 90.0, proc)
        yield proc
    finally:
        stop_process(proc)
        atexit.unregister(stop_process)


def drain(url: str, proc: Popen[bytes], quiet_s: float = 1.0, timeout_s: float = 60.0) -> float:
    """Wait until merged partials and closed buckets stop increasing for quiet_s (the worker
    has merged its backlog and closed the history's buckets); return the seconds waited."""
    start = time.monotonic()
    last, since = -1.0, start
    while time.monotonic() - start < timeout_s and proc.poll() is None:
        with contextlib.suppress(OSError):
            m = kb.scrape(url)
            n = m.get("vigie_partials_in_total", 0.0) + m.get("vigie_buckets_closed_total", 0.0)
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                break
        time.sleep(0.2)
    return time.monotonic() - start
