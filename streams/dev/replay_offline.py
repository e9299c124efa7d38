"""Replay a scenario through the engine in-process: no Kafka, no Redis, no Faust.

The worker's two agents are driven exactly as on a broker, deterministically: the events are
cut into records of ``batch_size`` events spread over the input partitions (round robin, the
whole stream already in the topic, as after a `vigie replay`), each record goes through the
ingest step, its partials reach the per-watch step at once, and ticks carry the input
watermarks after every record. The wall clock is fake, derived from event time (a record is
produced one second after its last event), so idle closing and latency are deterministic;
after the last record it runs on for ``drain_s`` so the last buckets close. Signals and
situation messages go through a dedup ledger (a set) as through Redis.

    python -m streams.dev.replay_offline --scenario mobilisation --out run.json
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from streams import codec
from streams.aggregate.bucket import BucketAgg
from streams.engine.clock import Clock, observe_tick
from streams.engine.config import EngineConfig, build_config
from streams.engine.ingest import process_record
from streams.engine.messages import (
    GlobalCounts,
    dump_bucket,
    load_bucket,
    partial_messages,
    partials_of,
    tick_doc,
)
from streams.engine.per_watch import (
    MERGED,
    close_watch,
    on_partial,
    signal_docs,
    situation_docs,
)
from streams.engine.watch import Suppressed, WatchState, WatchStep
from streams.outputs.views import redis_view
from streams.settings import Settings

WALL_FIELDS = ("emitted_at", "latency_s")  # the only wall-clock fields of an alert
DEFAULT_END = datetime(2026, 3, 13, 20, 0, tzinfo=UTC)  # a Friday evening, Paris time


@dataclass
class OfflineRun:
    """What a replay produced: situation messages (social.alerts) and signals (social.signals)
    in emission order, counters, final views."""

    situations: list[dict[str, Any]] = field(default_factory=list)
    signals: list[dict[str, Any]] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)  # "watch/type/reason" -> n
    held: dict[str, int] = field(default_factory=dict)  # "watch/why" -> situation changes
    counters: dict[str, Any] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: dict[str, WatchState] = field(default_factory=dict)  # the watches at the end
    # CPU seconds per stage (process time: steadier than wall time on a shared machine):
    # ingest step, partial merges, ticks
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("ingest", "partials", "ticks"), 0.0))
    events: int = 0

    def golden(self) -> dict[str, Any]:
        """The run without wall-clock fields, as recorded in tests/golden."""
        return {"situations": [{k: v for k, v in a.items() if k not in WALL_FIELDS}
                               for a in self.situations],
                "signals": [{k: v for k, v in a.items() if k not in WALL_FIELDS}
                            for a in self.signals],
                "suppressed": dict(sorted(self.suppressed.items())),
                "held": dict(sorted(self.held.items())),
                "counters": self.counters, "views": self.views}


class _Tables:
    """The watch-state and buckets tables; roundtrip: values kept encoded (as a changelog)."""

    def __init__(self, roundtrip: bool) -> None:
        self.roundtrip = roundtrip
        self.states: dict[str, Any] = {}
        self.buckets: dict[tuple[str, int], Any] = {}

    def state(self, watch: str) -> WatchState | None:
        raw = self.states.get(watch)
        return codec.loads(WatchState, raw) if self.roundtrip and raw is not None else raw

    def put_state(self, ws: WatchState) -> None:
        self.states[ws.watch] = codec.dumps(ws) if self.roundtrip else ws

    def bucket(self, watch: str, b: int) -> BucketAgg | None:
        raw = self.buckets.get((watch, b))
        return load_bucket(raw) if self.roundtrip and raw is not None else raw

    def put_bucket(self, agg: BucketAgg) -> None:
        self.buckets[(agg.watch, agg.bucket_start)] = dump_bucket(agg) if self.roundtrip \
            else agg


class _Driver:
    """The worker's agents, timer and state, over the engine, with a fake wall clock."""

    def __init__(self, cfg: EngineConfig, input_partitions: int, roundtrip: bool) -> None:
        self.cfg, self.now = cfg, 0.0
        self.tables = _Tables(roundtrip)
        self.clocks = {p: Clock() for p in range(cfg.partitions)}
        self.watermarks: dict[int, float] = {}
        self.offsets: dict[int, int] = {}
        self.ends: dict[int, int | None] = dict.fromkeys(range(input_partitions), 0)
        self.held = GlobalCounts()
        self.early_memo: dict[str, Any] = {}
        self.ts_memo: dict[str, float] = {}
        self.ledger: set[str] = set()
        self.run = OfflineRun()

    def _count(self, name: str, key: str, n: int = 1) -> None:
        c = self.run.counters.setdefault(name, {})
        c[key] = c.get(key, 0) + n

    def _suppressed(self, watch: str, held: Iterable[Suppressed]) -> None:
        for s in held:
            key = f"{watch}/{s.alert_type}/{s.reason}"
            self.run.suppressed[key] = self.run.suppressed.get(key, 0) + 1

    def emit(self, watch: str, step: WatchStep) -> None:
        for doc in signal_docs(self.cfg, step.fired, self.now):
            if doc["dedup_key"] in self.ledger:
                self._suppressed(doc["watch"]["id"], (Suppressed(doc["type"], "dedup"),))
                continue
            self.ledger.add(doc["dedup_key"])
            self.run.signals.append(doc)
        for doc in situation_docs(self.cfg, step.told, self.now):
            if doc["dedup_key"] not in self.ledger:
                self.ledger.add(doc["dedup_key"])
                self.run.situations.append(doc)
        self._suppressed(watch, step.suppressed)
        for why in step.held:
            key = f"{watch}/{why}"
            self.run.held[key] = self.run.held.get(key, 0) + 1

    # --- the per_watch agent ---------------------------------------------------------------
    def per_watch(self, part: int, value: bytes) -> None:
        doc = orjson.loads(value)
        if "tick" in doc:
            observe_tick(self.clocks[part], doc, self.now, self.cfg.idle_close_s)
            self.close_partition(part)
            return
        t = self.tables
        for partial in partials_of(doc):
            watch = partial.watch
            before = t.state(watch)

            def count_of(b: int, w: str = watch) -> int:
                agg = t.bucket(w, b)
                return 0 if agg is None else agg.count

            res = on_partial(self.cfg, before, partial, part, t.bucket(watch, partial.bucket_start),
                             self.now, count_of, self.early_memo)
            self._count("partials", res.outcome if res.outcome != MERGED else "in")
            if res.late is not None:
                self._count("dead_letters", res.late["reason"])
            if res.merged is not None:
                t.put_bucket(res.merged)
            if res.step is not None:
                self.emit(watch, res.step)
            if res.state is not before:
                t.put_state(res.state)

    def close_partition(self, part: int) -> None:
        t = self.tables
        wm = self.clocks[part].effective(self.now, self.cfg.idle_close_s)
        for watch in list(t.states):
            ws = t.state(watch)
            if ws is None or ws.partition != part:
                continue

            def get(b: int, w: str = watch) -> BucketAgg | None:
                return t.bucket(w, b)

            res = close_watch(self.cfg, ws, wm, get)
            self._count("buckets_closed", "all", len(res.step.closed))
            if not res.changed:
                continue
            t.put_state(res.state)
            for b in res.purge:
                t.buckets.pop((watch, b), None)
            self.emit(watch, res.step)

    # --- the ingest agent and the timer ----------------------------------------------------
    def ingest(self, value: bytes, partition: int, offset: int) -> None:
        t0 = time.process_time()
        out = process_record(self.cfg, value, partition, offset, self.now,
                             self.watermarks.get(partition, 0.0), self.now, self.ts_memo)
        for p in out.held:
            self.held.hold(p)
        for d in out.dead:
            self._count("dead_letters", d["reason"])
        t1 = time.process_time()
        for part, msg in out.messages:
            self.per_watch(part, msg)
        self.watermarks[partition] = out.watermark_s
        self.offsets[partition] = out.offset
        seconds = self.run.seconds
        seconds["ingest"] += t1 - t0
        seconds["partials"] += time.process_time() - t1

    def tick(self) -> None:
        t0 = time.process_time()
        value = orjson.dumps(tick_doc(self.now, self.watermarks, self.ends, self.offsets, {}))
        for part, msg in partial_messages(self.held.take(), self.cfg.partition_of):
            self.per_watch(part, msg)
        for p in range(self.cfg.partitions):
            self.per_watch(p, value)
        self.run.seconds["ticks"] += time.process_time() - t0


def _records(events: Iterable[Mapping[str, Any] | bytes], batch_size: int
             ) -> Iterator[tuple[float, int, bytes]]:
    """(max event time, events, record) of consecutive batches of events."""
    batch: list[bytes] = []
    newest = 0.0
    for ev in events:
        raw = ev if isinstance(ev, bytes) else orjson.dumps(ev)
        if not isinstance(ev, bytes):
            newest = max(newest, datetime.fromisoformat(
                str(ev["created_at"]).replace("Z", "+00:00")).timestamp())
        batch.append(raw)
        if len(batch) >= batch_size:
            yield newest, len(batch), b"[" + b",".join(batch) + b"]"
            batch = []
    if batch:
        yield newest, len(batch), b"[" + b",".join(batch) + b"]"


def run_offline(events: Iterable[Mapping[str, Any] | bytes], settings: Settings | None = None,
                *, batch_size: int = 100, input_partitions: int | None = None,
                rosters: Mapping[str, Iterable[str]] | None = None, drain_s: float = 3600.0,
                roundtrip: bool = False) -> OfflineRun:
    """Replay events (dicts or raw JSON) through the engine; see the module docstring.

    ``roundtrip``: keep the watch states and buckets encoded between steps, as the tables'
    changelog would after a restart (slower; proves the codec loses nothing).
    """
    s = settings or Settings()
    cfg = build_config(s)
    if rosters:
        cfg = cfg.with_rosters({w: tuple(h) for w, h in rosters.items()})
    n_in = input_partitions or s.topic_partitions
    d = _Driver(cfg, n_in, roundtrip)
    records = list(_records(events, batch_size))
    d.run.events = sum(n for _, n, _ in records)
    for i in range(len(records)):
        d.ends[i % n_in] = (d.ends[i % n_in] or 0) + 1
    offsets = dict.fromkeys(range(n_in), 0)
    for i, (newest, _, value) in enumerate(records):
        p = i % n_in
        d.now = max(d.now, newest + 1.0)
        d.ingest(value, p, offsets[p])
        offsets[p] += 1
        d.tick()
    end = d.now + drain_s
    while d.now < end:
        d.now += float(cfg.bucket_s)
        d.tick()
    run = d.run
    parts = run.counters.setdefault("partials", {})
    run.counters["partials"] = {k: parts.get(k, 0) for k in ("in", "duplicate", "late")}
    run.counters["buckets_closed"] = run.counters.get("buckets_closed", {}).get("all", 0)
    for watch in sorted(d.tables.states):
        ws = d.tables.state(watch)
        if ws is not None:
            run.states[watch] = ws
            run.views[watch] = redis_view(ws, cfg)
    return run


def run_scenario(name: str, *, seed: int = 7, end: datetime = DEFAULT_END,
                 days: float | None = None, settings: Settings | None = None, **kw: Any
                 ) -> OfflineRun:
    """Generate a built-in scenario (fixed seed and end) and replay it offline."""
    from streams.dev import scenarios, simulate

    make = scenarios.SCENARIOS[name]
    sc = make(end=end) if days is None else make(end=end, days=days)
    rosters = sc.truth()["roster"] if any(b.pool == "roster" for b in sc.bursts) else None
    return run_offline(simulate.generate(sc, seed), settings, rosters=rosters, **kw)


def main(argv: list[str] | None = None) -> int:
    """Command line: replay a scenario offline, write its alerts (and counters) as JSON."""
    from streams.dev import scenarios

    p = argparse.ArgumentParser(prog="python -m streams.dev.replay_offline",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", choices=sorted(scenarios.SCENARIOS), default="bank-bad-buzz")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--days", type=float, default=None)
    p.add_argument("--out", default="-", help="JSON file (default: stdout)")
    args = p.parse_args(argv)
    run = run_scenario(args.scenario, seed=args.seed, days=args.days)
    body = orjson.dumps({**run.golden(), "events": run.events, "seconds": run.seconds},
                        option=orjson.OPT_INDENT_2)
    if args.out == "-":
        sys.stdout.buffer.write(body + b"\n")
    else:
        with open(args.out, "wb") as fh:
            fh.write(body + b"\n")
    print(f"{args.scenario}: {run.events} events, {len(run.situations)} situation messages, "
          f"{len(run.signals)} signals", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
