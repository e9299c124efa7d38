"""`vigie bench`: throughput, raw ceiling, alert latency and memory of a real worker process.

Each phase gets its own embedded Tansu broker and redis-server (or the configured ones, with a
new consumer group committed at the topics' end) and a unique app id, then a `vigie worker`
subprocess. Figures are printed and optionally written as JSON; nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from subprocess import Popen
from types import FrameType
from typing import Any

import orjson

from streams import topics
from streams.dev import _bench_kafka as kb
from streams.dev import _bench_load as load
from streams.dev import _bench_report as report
from streams.dev._bench_phase import Phase, drain, phase, worker
from streams.settings import Settings

log = logging.getLogger(__name__)
PHASES = ("platform", "batched", "single", "latency")
# the platform issue's pipeline: decode, validate, DLQ, match, aggregate, volume detector only
PLATFORM = {"detectors_enabled": False, "score_sentiment": False}


def _repeated(settings: Settings, work: Path, name: str, events: Sequence[bytes],
              per_record: int, ceiling_repeats: int, repeats: int,
              **overrides: Any) -> dict[str, Any]:
    """The throughput phase `repeats` times (fresh broker each): the run with the median
    events/s is reported, with every run's figure beside it (the machine is shared)."""
    runs = [_throughput(settings, work, f"{name}-{i}" if repeats > 1 else name, events,
                        per_record, ceiling_repeats if i == 0 else 0, **overrides)
            for i in range(repeats)]
    rates = [r["events_per_s"] for r in runs]
    out = dict(sorted(runs, key=lambda r: r["events_per_s"])[len(runs) // 2])
    for k in ("ceiling_runs_events_per_s", "ceiling_events_per_s"):
        if k in runs[0]:
            out[k] = runs[0][k]
    if out.get("ceiling_events_per_s"):
        out["worker_over_ceiling"] = out["events_per_s"] / out["ceiling_events_per_s"]
    out.update(runs_events_per_s=rates, settings_overrides=overrides)
    if repeats > 1:
        print(f"[{name}] median of {repeats} runs: {out['events_per_s']:,.0f} events/s "
              f"(runs {', '.join(f'{x:,.0f}' for x in rates)})", flush=True)
    return out


def _throughput(settings: Settings, work: Path, name: str, events: Sequence[bytes],
                per_record: int, ceiling_repeats: int, **overrides: Any) -> dict[str, Any]:
    """Pre-produce the load, start a worker, time its consumption; optionally the ceiling."""
    values = load.batch(events, per_record)
    with phase(settings, work, name, **overrides) as ph:
        t = time.monotonic()
        asyncio.run(kb.produce(ph.s, topics.EVENTS.name, values))
        produce_s = time.monotonic() - t
        print(f"[{name}] {len(events):,} events in {len(values):,} records produced in "
              f"{produce_s:.1f} s; starting the worker", flush=True)
        with worker(ph) as proc:
            prog = kb.follow(ph.metrics_url, len(values), 30.0 + len(events) / 2000, proc)
            drain_s = drain(ph.metrics_url, proc) if prog.complete else 0.0
            last = prog.samples[-1][1] if prog.samples else {}
            with contextlib.suppress(OSError):  # after the drain: late partials are counted
                last = kb.scrape(ph.metrics_url)
            rss = kb.peak_rss_mib(proc.pid)
        n_ev, secs, eps, cpu = kb.rate(prog)
        out: dict[str, Any] = {
            "records": len(values), "events": len(events), "events_per_record": per_record,
            "complete": prog.complete, "records_consumed": last.get("vigie_records_in_total", 0),
            "events_valid": last.get("vigie_events_in_total", 0),
            "dead_letters": last.get("vigie_dead_letters_total", 0),
            "dead_letters_by_reason": {k[4:]: v for k, v in last.items() if k.startswith("dlq:")},
            "events_matched": last.get("vigie_events_matched_total", 0),
            "partials_late": last.get("vigie_partials_late_total", 0),
            "measured_events": n_ev, "measured_s": secs, "events_per_s": eps,
            "worker_cpu_share": cpu,
            "drain_after_consumed_s": round(drain_s, 2), "peak_rss_mib": rss,
            "produce_s": round(produce_s, 2), "app_id": ph.s.app_id}
        print(f"[{name}] {eps:,.0f} events/s over {secs:.1f} s", flush=True)
        if ceiling_repeats > 0:
            runs = [asyncio.run(kb.ceiling(ph.s, topics.EVENTS.name, ph.starts[topics.EVENTS.name],
                                           len(values))) for _ in range(ceiling_repeats)]
            rates = [e / s for e, s in runs if s > 0]
            ceil = statistics.median(rates) if rates else float("nan")
            out.update(ceiling_runs_events_per_s=rates, ceiling_events_per_s=ceil,
                       worker_over_ceiling=eps / ceil if ceil and not math.isnan(ceil) else None)
            print(f"[{name}] raw ceiling {ceil:,.0f} events/s", flush=True)
    return out


async def _sample_backlog(url: str, base: int, sent: list[int], stop: asyncio.Event,
                          out: list[tuple[float, int]]) -> None:
    """Every 0.5 s: records sent so far minus records the worker consumed."""
    while not stop.is_set():
        with contextlib.suppress(OSError):
            m = await asyncio.to_thread(kb.scrape, url)
            out.append((time.monotonic(), base + sent[0] - int(m.get("vigie_records_in_total", 0))))
        await asyncio.sleep(0.5)


async def _live(ph: Phase, ld: load.LatencyLoad, proc: Popen[bytes],
                linger_s: float) -> dict[str, Any]:
    """Paced live stream while reading alerts; then wait for consumption and the last alerts.

    The latency is measured on every detector's opening signal (social.signals), as it was on
    the alert topic before situations grouped them: one situation opens per burst at most."""
    alerts = kb.AlertLog()
    stop = asyncio.Event()
    reader = asyncio.create_task(kb.read_alerts(ph.s, topics.SIGNALS.name,
                                                ph.starts[topics.SIGNALS.name], alerts, stop))
    sent, backlog = [0], list[tuple[float, int]]()
    sampler = asyncio.create_task(_sample_backlog(ph.metrics_url, len(ld.history), sent, stop,
                                                  backlog))
    try:
        await asyncio.sleep(0.5)
        cpu0 = kb.cpu_seconds(proc.pid)
        ts, elapsed = await kb.produce_paced(ph.s, topics.EVENTS.name, ld.live, sent)
        cpu = (kb.cpu_seconds(proc.pid) - cpu0) / elapsed
        total = len(ld.history) + len(ld.live)
        t_end = time.monotonic()
        prog = await asyncio.to_thread(kb.follow, ph.metrics_url, total, 30.0, proc)
        catch_up_s = time.monotonic() - t_end
        await asyncio.sleep(linger_s)
    finally:
        stop.set()
        await asyncio.gather(reader, sampler)
    return {"record_ts": ts, "elapsed_s": elapsed, "alerts": alerts, "complete": prog.complete,
            "catch_up_s": catch_up_s, "cpu_share": cpu,
            "max_backlog_records": max((b for _, b in backlog), default=0)}


def _latency(settings: Settings, work: Path, *, watches: int, live_s: float, compression: float,
             rate_per_s: float, burst_every_s: float, linger_s: float = 3.0) -> dict[str, Any]:
    """Warm a worker on a day of history, then offer a paced spiky stream and time its alerts."""
    ld = load.latency_load(watches=watches, live_s=live_s, compression=compression,
                           rate_per_s=rate_per_s, burst_every_s=burst_every_s)
    toml = work / "latency-watches.toml"
    toml.write_text(ld.watches_toml)
    with phase(settings, work, "latency", watches_file=str(toml)) as ph:
        hist_ts = asyncio.run(kb.produce(ph.s, topics.EVENTS.name, [r.value for r in ld.history]))
        print(f"[latency] {len(ld.history)} warm-up records (a day of {watches} watches); "
              "starting the worker", flush=True)
        with worker(ph) as proc:
            warm = kb.follow(ph.metrics_url, len(ld.history), 120.0, proc)
            warm_drain_s = drain(ph.metrics_url, proc)
            print(f"[latency] warm-up consumed ({warm.complete}), drained in {warm_drain_s:.1f} s;"
                  f" offering {rate_per_s:,.0f} events/s for {live_s:.0f} s", flush=True)
            live = asyncio.run(_live(ph, ld, proc, linger_s))
            final = kb.scrape(ph.metrics_url)
            rss = kb.peak_rss_mib(proc.pid)
    live_events = sum(r.events for r in ld.live)
    elapsed = live["elapsed_s"]
    a = report.alert_latencies([*ld.history, *ld.live], [*hist_ts, *live["record_ts"]],
                               live["alerts"].rows, ld.bursts, first_live=len(ld.history))
    print(f"[latency] {a['matched']} open alerts, p99 {a['kafka_p99_s']:.2f} s", flush=True)
    return {
        "watches": watches, "compression": compression, "live_s": live_s,
        "burst_every_s": burst_every_s, "warmup_records": len(ld.history),
        "warmup_complete": warm.complete, "warmup_drain_s": round(warm_drain_s, 2),
        "live_records": len(ld.live), "live_events": live_events,
        "offered_events_per_s": rate_per_s,
        "achieved_events_per_s": live_events / elapsed if elapsed > 0 else float("nan"),
        "consumed_all": live["complete"],
        "catch_up_after_last_send_s": round(live["catch_up_s"], 2),
        "max_backlog_records": live["max_backlog_records"], "worker_cpu_share": live["cpu_share"],
        "alert_records": len(live["alerts"].rows), "alerts": a,
        "dead_letters": final.get("vigie_dead_letters_total", 0),
        "dead_letters_by_reason": {k[4:]: v for k, v in final.items() if k.startswith("dlq:")},
        "peak_rss_mib": rss, "app_id": ph.s.app_id}


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into SystemExit so every child is stopped by the finally blocks."""
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def run_bench(settings: Settings, *, json_path: str | None = None, events: int = 300_000,
              phases: Sequence[str] = PHASES, ceiling_repeats: int = 3, watches: int = 50,
              live_s: float = 25.0, compression: float = 600.0, rate_per_s: float = 10_000.0,
              burst_every_s: float = 2.0, repeats: int = 3) -> dict[str, Any]:
    """Run the benchmark phases, print the table and optionally write JSON; return figures."""
    work = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    results: dict[str, Any] = {"machine": report.machine_info(), "targets": report.TARGETS,
                               "definitions": report.DEFINITIONS, "work_dir": str(work),
                               "params": {"events": events, "phases": list(phases),
                                          "ceiling_repeats": ceiling_repeats,
                                          "repeats": repeats}}
    print(f"vigie bench: logs in {work}", flush=True)
    started = time.monotonic()
    with _terminate_as_exit():
        try:
            evs = load.throughput_events(events) \
                if {"platform", "batched", "single"} & set(phases) else []
            if "platform" in phases:
                results["platform"] = _repeated(settings, work, "platform", evs,
                                                load.BATCH_EVENTS, ceiling_repeats, repeats,
                                                **PLATFORM)
            if "batched" in phases:
                results["batched"] = _repeated(settings, work, "batched", evs, load.BATCH_EVENTS,
                                               0 if "platform" in phases else ceiling_repeats,
                                               repeats)
            if "single" in phases:
                results["single"] = _repeated(settings, work, "single",
                                              evs[:max(1, events // 5)], 1, 0, 1)
            del evs
            if "latency" in phases:
                results["latency"] = _latency(settings, work, watches=watches, live_s=live_s,
                                              compression=compression, rate_per_s=rate_per_s,
                                              burst_every_s=burst_every_s)
        except KeyboardInterrupt:
            print("\ninterrupted: children stopped; partial figures below", flush=True)
            results["interrupted"] = True
    results["total_s"] = round(time.monotonic() - started, 1)
    print(report.table(results))
    print(f"total {results['total_s']} s")
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
        print(f"figures written to {json_path}")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m streams.dev.bench`: the same benchmark with every knob exposed."""
    from streams import settings as settings_mod

    p = argparse.ArgumentParser(prog="python -m streams.dev.bench", description=__doc__)
    p.add_argument("--json", default=None)
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--phases", default=",".join(PHASES), help="comma-separated subset")
    p.add_argument("--ceiling-repeats", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3,
                   help="runs of each batched phase; the median is reported")
    p.add_argument("--watches", type=int, default=50)
    p.add_argument("--live-s", type=float, default=25.0)
    p.add_argument("--compression", type=float, default=600.0,
                   help="event seconds per wall second in the latency stream")
    p.add_argument("--rate", type=float, default=10_000.0, help="offered events/s (latency)")
    p.add_argument("--burst-every", type=float, default=2.0, help="wall seconds between bursts")
    a = p.parse_args(argv)
    s = settings_mod.load()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    run_bench(s, json_path=a.json, events=a.events, phases=a.phases.split(","),
              ceiling_repeats=a.ceiling_repeats, watches=a.watches, live_s=a.live_s,
              compression=a.compression, rate_per_s=a.rate, burst_every_s=a.burst_every,
              repeats=a.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
