"""Figures of `vigie bench`: alert latency matching, percentiles, machine info, the table."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.dev._bench_load import Rec

TARGETS = {"platform_events_per_s": 50_000.0, "batched_events_per_s": 30_000.0,
           "single_events_per_s": 4_000.0, "latency_p99_s": 2.0}
DEFINITIONS = {
    "throughput": "events/s = (vigie_events_in_total at the first /metrics poll that shows "
                  "consumption -> at the poll that shows every record consumed) / wall time "
                  "between those two polls (polled every 0.1 s); the whole load is in the "
                  "topic before the worker starts",
    "ceiling": "plain AIOKafkaConsumer (no group) reading the same batched records from the "
               "beginning and orjson.loads of each value; clock starts after the first fetch "
               "(its events not counted), median of the repeats",
    "latency_kafka": "per 'open' alert: Kafka timestamp of the alert record - Kafka timestamp "
                     "of the input record holding the event that brought the alert's bucket "
                     "to the alert's evidence count (the triggering record)",
    "latency_worker": "latency_s of the alert document (worker's view: emission wall time - "
                      "arrival timestamp of the newest record of the alert window)",
    "peak_rss": "VmHWM of the worker process plus its ingest child from /proc/<pid>/status, "
                "read before stopping them",
}


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (q in 0..100); NaN for no values."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def machine_info() -> dict[str, Any]:
    """CPU model, cores, load, Python version and date of the run."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {"cpu_model": model, "cores": os.cpu_count(), "loadavg_at_start": load,
            "python": platform.python_version(), "platform": platform.platform(),
            "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")}


def _parse_iso(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def alert_latencies(recs: Sequence[Rec], record_ts: Sequence[float],
                    alerts: Sequence[tuple[float, float, dict[str, Any]]],
                    bursts: Sequence[tuple[str, int]], first_live: int = 0) -> dict[str, Any]:
    """Match each 'open' alert to its triggering input record; latency figures and counts.

    Records before ``first_live`` are the warm-up history, produced before the worker started:
    an alert they trigger (the last warm-up buckets close once live data moves event time on)
    says nothing about the latency under the offered load and is only counted.
    """
    index: dict[tuple[str, int], list[tuple[float, int, bool]]] = {}
    for i, (rec, ts) in enumerate(zip(recs, record_ts, strict=True)):
        for watch, bucket, n in rec.marks:
            index.setdefault((watch, bucket), []).append((ts, n, i < first_live))
    kafka: list[float] = []
    worker: list[float] = []
    received: list[float] = []
    early = unmatched = warmup = 0
    opened: set[tuple[str, int]] = set()
    by_type: dict[str, list[float]] = {}
    for alert_ts, recv_s, doc in alerts:
        if doc.get("status") != "open":
            continue
        key = (doc["watch"]["id"], _parse_iso(doc["window"]["start"]))
        opened.add(key)
        rows = index.get(key)
        if not rows:
            unmatched += 1
            continue
        count = int(doc["evidence"]["count"])
        total = sum(n for _, n, _ in rows)
        cum, (trigger, _, warm) = 0, rows[-1]
        for ts, n, from_warmup in rows:
            cum += n
            if cum >= count:
                trigger, warm = ts, from_warmup
                break
        if warm:
            warmup += 1
            continue
        early += count < total
        kafka.append(alert_ts - trigger)
        by_type.setdefault(doc["type"], []).append(alert_ts - trigger)
        received.append(recv_s - trigger)
        if doc.get("latency_s") is not None:
            worker.append(float(doc["latency_s"]))
    return {
        "open_alerts": len(kafka) + unmatched + warmup, "matched": len(kafka),
        "unmatched": unmatched, "warmup_triggered": warmup,
        "early_before_close": early, "bursts": len(bursts),
        "bursts_alerted": sum(1 for b in bursts if b in opened),
        "other_open_alerts": len(opened - set(bursts)),
        "kafka_p50_s": percentile(kafka, 50), "kafka_p99_s": percentile(kafka, 99),
        "kafka_max_s": max(kafka, default=float("nan")),
        "worker_p50_s": percentile(worker, 50), "worker_p99_s": percentile(worker, 99),
        "received_p50_s": percentile(received, 50), "received_p99_s": percentile(received, 99),
        "kafka_latencies_s": [round(x, 4) for x in kafka],
        "kafka_by_type": {t: {"n": len(v), "p50_s": round(percentile(v, 50), 3),
                              "p99_s": round(percentile(v, 99), 3)}
                          for t, v in sorted(by_type.items())},
    }


def _f(x: Any, fmt: str = ",.0f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return format(x, fmt)


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "MISSED")


def table(r: dict[str, Any]) -> str:
    """The human report: one line per figure, targets and verdicts beside them."""
    m = r["machine"]
    lines = [f"Vigie platform benchmark  {m['date']}  {m['cpu_model']}, {m['cores']} cores, "
             f"Python {m['python']}, load {m['loadavg_at_start']}",
             f"{'figure':44} {'value':>22}  {'target':>12}  verdict"]

    def row(name: str, value: str, target: str = "", verdict: str = "") -> None:
        lines.append(f"{name:44} {value:>22}  {target:>12}  {verdict}")

    t = TARGETS
    for key, label, target in (("platform", "platform pipeline, batched (volume only)",
                                t["platform_events_per_s"]),
                               ("batched", "every detector on, batched records",
                                t["batched_events_per_s"]),
                               ("single", "every detector on, one event per record",
                                t["single_events_per_s"])):
        ph = r.get(key)
        if not ph:
            continue
        eps = ph["events_per_s"]
        ok = None if math.isnan(eps) else eps >= target and ph["complete"]
        row(label, f"{_f(eps)} events/s", f">= {target:,.0f}", _verdict(ok))
        if len(ph.get("runs_events_per_s", ())) > 1:
            row("  median of runs", ", ".join(_f(x) for x in ph["runs_events_per_s"]))
        row("  records / events / measured over", f"{ph['records']:,} / {ph['events']:,} / "
            f"{ph['measured_s']:.1f} s")
        row("  DLQ (late partials among them)",
            f"{ph['dead_letters']:,.0f} ({ph['partials_late']:,.0f})")
        row("  worker + ingest child CPU (1.00 = one core)", _f(ph["worker_cpu_share"], ".2f"))
        row("  peak RSS, worker + child (VmHWM)", f"{_f(ph['peak_rss_mib'], '.0f')} MiB")
        if not ph["complete"]:
            row("  INCOMPLETE: records consumed", f"{ph['records_consumed']:,.0f}")
    b = r.get("platform") or r.get("batched") or {}
    if b.get("ceiling_events_per_s"):
        row("raw aiokafka + orjson ceiling (median)", f"{_f(b['ceiling_events_per_s'])} events/s")
        row("worker / ceiling", f"{b['worker_over_ceiling']:.2f}")
    lat = r.get("latency")
    if lat:
        a = lat["alerts"]
        row(f"alert latency, Kafka ts (n={a['matched']})",
            f"p50 {_f(a['kafka_p50_s'], '.2f')} p99 {_f(a['kafka_p99_s'], '.2f')} s",
            f"p99 <= {t['latency_p99_s']:.0f} s",
            _verdict(None if not a["matched"] else a["kafka_p99_s"] <= t["latency_p99_s"]))
        row("alert latency, worker latency_s",
            f"p50 {_f(a['worker_p50_s'], '.2f')} p99 {_f(a['worker_p99_s'], '.2f')} s")
        row("  offered / achieved input rate",
            f"{lat['offered_events_per_s']:,.0f} / {lat['achieved_events_per_s']:,.0f} ev/s")
        row("  worker CPU while offered (1.00 = a core)", _f(lat["worker_cpu_share"], ".2f"))
        row("  worker backlog: max records / catch-up s",
            f"{lat['max_backlog_records']} / {lat['catch_up_after_last_send_s']:.1f}")
        row("  bursts alerted / other open alerts",
            f"{a['bursts_alerted']}/{a['bursts']} / {a['other_open_alerts']}")
        row("  open alerts emitted before bucket close", f"{a['early_before_close']}")
        row("  open alerts triggered by warm-up records (not counted)",
            f"{a.get('warmup_triggered', 0)}")
        for kind, v in a.get("kafka_by_type", {}).items():
            row(f"  {kind} (n={v['n']})", f"p50 {_f(v['p50_s'], '.2f')} "
                f"p99 {_f(v['p99_s'], '.2f')} s")
        row("  peak RSS, worker + child (VmHWM)", f"{_f(lat['peak_rss_mib'], '.0f')} MiB")
    lines.append("definitions:")
    lines += [f"  {k}: {v}" for k, v in DEFINITIONS.items()]
    return "\n".join(lines)
