"""A worker process's context: settings, metrics, the engine config, and the worker state.

The engine is pure; what a worker keeps track of between messages lives here: the input
partitions' watermarks and offsets, the internal partitions' clocks, the global counts held
until the next tick, when each watch's view was last published, the last alerts. The engine
config is swapped whole when rosters are reloaded.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from streams.alerts.build import TYPE_LABELS
from streams.engine.clock import Clock, observe_tick
from streams.engine.config import EngineConfig, build_config
from streams.engine.ingest import RecordOut
from streams.engine.messages import GlobalCounts
from streams.engine.per_watch import CloseStep
from streams.events.decode import REASONS
from streams.metrics import Metrics, catalogue, init_build_info
from streams.outputs.gauges import gauges
from streams.settings import Settings

log = logging.getLogger(__name__)
PUBLISH_EVERY_S = 1.0  # gauges and the Redis view of a watch, at most this often (wall)


def now_s() -> float:
    """Wall clock, POSIX seconds."""
    return datetime.now(UTC).timestamp()


@dataclass
class WorkerContext:
    """Per-process context shared by the agents of one worker."""

    settings: Settings
    metrics: Metrics
    engine: EngineConfig  # swapped whole by reload_rosters, never mutated
    last_alerts: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=50))
    input_watermarks: dict[int, float] = field(default_factory=dict)
    input_offsets: dict[int, int] = field(default_factory=dict)  # last processed, per partition
    input_received: dict[int, int] = field(default_factory=dict)  # last handed to the stage
    held: GlobalCounts = field(default_factory=GlobalCounts)  # sent with the next tick
    ts_memo: dict[str, float] = field(default_factory=dict)  # account creation dates parsed
    published: dict[str, float] = field(default_factory=dict)  # watch -> wall of last view
    unpublished: set[str] = field(default_factory=set)  # watches changed since their view
    clocks: dict[int, Clock] = field(default_factory=dict)  # internal partition -> clock

    def reload_rosters(self, rosters: Mapping[str, Iterable[str]]) -> None:
        """Swap in the rosters read from the roster file and Redis (added to the config's)."""
        self.engine = self.engine.with_rosters(rosters)
        for w, aff in self.engine.affiliations.items():
            self.metrics.roster_handles.labels(w).set(len(aff.roster))

    def clock(self, partition: int) -> Clock:
        """The clock of an internal partition."""
        c = self.clocks.get(partition)
        if c is None:
            c = self.clocks[partition] = Clock()
        return c

    def account(self, out: RecordOut) -> None:
        """Count a processed record in the metrics and hold its global counts."""
        m = self.metrics
        m.records_in.inc()
        for platform, lang, n in out.events_in:
            m.events_in.labels(platform, lang).inc(n)
        for watch, n in out.matched:
            m.events_matched.labels(watch).inc(n)
        for p in out.held:
            self.held.hold(p)  # sent with the next tick: not one more message per record
        for d in out.dead:
            self.count_dead_letter(d)

    def count_dead_letter(self, doc: Mapping[str, Any]) -> None:
        """Count a dead-letter.v1 document by reason (and log where it came from)."""
        self.metrics.dead_letters.labels(doc["reason"]).inc()
        src = doc["source"]
        log.debug("dead letter reason=%s topic=%s partition=%d offset=%d", doc["reason"],
                  src["topic"], src["partition"], src["offset"])

    def observe_tick(self, partition: int, doc: Mapping[str, Any], wall: float) -> None:
        """Feed a tick to an internal partition's clock; the watermark lag metric."""
        eff = observe_tick(self.clock(partition), doc, wall, self.engine.idle_close_s)
        if eff is not None:
            self.metrics.watermark_lag.labels(str(partition)).set(max(0.0, wall - eff))

    def watermark(self, partition: int, wall: float) -> float | None:
        """The watermark buckets of an internal partition may close against now."""
        return self.clock(partition).effective(wall, self.engine.idle_close_s)

    def closed(self, res: CloseStep, wall: float) -> bool:
        """Count a watch's closed buckets; whether to publish its view now (and set its
        gauges). A replay closes buckets many times a second, dashboards need it once a
        second (at once when an alert fired)."""
        step, w = res.step, res.step.state.watch
        if step.closed:
            self.metrics.buckets_closed.labels(w).inc(len(step.closed))
            self.unpublished.add(w)
        due = bool(step.fired) or wall - self.published.get(w, -PUBLISH_EVERY_S) \
            >= PUBLISH_EVERY_S
        if not (due and w in self.unpublished):
            return False
        self.unpublished.discard(w)
        self.published[w] = wall
        gauges(self.metrics, step.state, self.engine)
        return True


def build_context(settings: Settings, registry: Any = None) -> WorkerContext:
    """The engine config and the metrics of a worker, built once per process."""
    cfg = build_config(settings)
    metrics = catalogue(registry)
    init_build_info(metrics, REASONS, watches=[w.id for w in cfg.matcher.watches],
                    alert_types=TYPE_LABELS)
    metrics.worker_info.info({"app_id": settings.app_id, "bucket_s": str(settings.bucket_s),
                              "topic_partitions": str(settings.topic_partitions)})
    ctx = WorkerContext(settings=settings, metrics=metrics, engine=cfg)
    ctx.reload_rosters(cfg.rosters)  # the roster gauges, from the start
    return ctx
