"""What a crisis cell lives through: an alert stream scored against a scenario's ground truth.

For every true situation of the truth: detected or not, time from its onset to the first
message, the incidents it caused (distinct ids) and their messages, and flaps. Incidents that
match no true situation are false; those in the scenario's quiet periods give false situations
per quiet day. Works on situations (alert.v2) and on per-type alerts or signals (alert.v1,
signal.v1: one incident per alert_id), so a change can be measured against the old stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

RANK = {"watch": 0, "warning": 1, "crisis": 2}
FLAP_WINDOW = timedelta(hours=1)
MERGE_GAP = timedelta(hours=2)  # bursts of one watch closer than this are one situation
EARLY = timedelta(minutes=5)  # an incident may open this long before the truth's onset
LATE = timedelta(hours=1)  # ... and this long after the situation's last activity
NOT_SITUATIONS = ("organic",)  # optional: neither required nor false (context, not crisis)


def ts(text: str) -> datetime:
    """Parse an RFC 3339 timestamp of a document."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class TrueSituation:
    """A situation of the ground truth: one watch, a time span, the bursts it groups."""

    watch: str
    start: datetime
    end: datetime
    names: tuple[str, ...]
    required: bool = True


@dataclass
class Incident:
    """One incident of the stream (a situation, or a per-type alert id) and its messages."""

    incident_id: str
    watch: str
    opened: datetime
    messages: list[Mapping[str, Any]] = field(default_factory=list)

    @property
    def last(self) -> datetime:
        """Event time of its newest message."""
        return max(ts(m["event_time"]) for m in self.messages)


def burst_end(b: Mapping[str, Any]) -> datetime:
    """When a burst of the truth stops (the end of its last wave, or ramp+plateau+decay)."""
    onset = ts(b["onset"])
    if b.get("end"):
        return ts(b["end"])
    return onset + timedelta(minutes=float(b.get("duration_min", 0.0)))


def true_situations(truth: Mapping[str, Any]) -> list[TrueSituation]:
    """The truth's situations: its own list, or its bursts grouped per watch by time."""
    if "situations" in truth:
        return [TrueSituation(s["watch"], ts(s["start"]), ts(s["end"]), tuple(s["names"]),
                              s.get("required", True)) for s in truth["situations"]]
    out: list[TrueSituation] = []
    bursts = sorted((b for b in truth["incidents"] if b["watch"] != "none"),
                    key=lambda b: (b["watch"], b["onset"]))
    for b in bursts:
        start, end = ts(b["onset"]), burst_end(b)
        required = b["type"] not in NOT_SITUATIONS
        prev = out[-1] if out else None
        if prev is not None and prev.watch == b["watch"] and start - prev.end <= MERGE_GAP:
            out[-1] = TrueSituation(prev.watch, prev.start, max(prev.end, end),
                                    (*prev.names, b["name"]), prev.required or required)
        else:
            out.append(TrueSituation(b["watch"], start, end, (b["name"],), required))
    return out


def incidents(docs: Iterable[Mapping[str, Any]]) -> list[Incident]:
    """Group messages by incident id, in order of opening."""
    by_id: dict[str, Incident] = {}
    for d in docs:
        iid = d.get("situation_id") or d["alert_id"]
        inc = by_id.get(iid)
        if inc is None:
            inc = by_id[iid] = Incident(iid, d["watch"]["id"], ts(d["opened_at"]))
        inc.messages.append(d)
    for inc in by_id.values():
        inc.messages.sort(key=lambda m: m["sequence"])
    return sorted(by_id.values(), key=lambda i: (i.opened, i.incident_id))


def flaps(messages: Sequence[Mapping[str, Any]]) -> int:
    """Announced severity changes back to a level this incident left less than an hour ago."""
    left: dict[str, datetime] = {}
    n = 0
    prev: str | None = None
    for m in messages:
        sev, at = m["severity"], ts(m["event_time"])
        if prev is not None and sev != prev and m["status"] != "resolved":
            if sev in left and at - left[sev] < FLAP_WINDOW:
                n += 1
            left[prev] = at
        prev = sev
    return n


def _window(sit: TrueSituation) -> tuple[datetime, datetime]:
    return sit.start - EARLY, sit.end + LATE


def _opened_in(inc: Incident, sit: TrueSituation) -> bool:
    a, b = _window(sit)
    return inc.watch == sit.watch and a <= inc.opened <= b


def _told_in(inc: Incident, sit: TrueSituation) -> list[Mapping[str, Any]]:
    """The messages of an incident told during a true situation (an incident already open
    when it began tells it by its updates)."""
    a, b = _window(sit)
    if inc.watch != sit.watch:
        return []
    return [m for m in inc.messages if a <= ts(m["event_time"]) <= b]


def _in(at: datetime, spans: Sequence[tuple[datetime, datetime]]) -> bool:
    return any(a <= at < b for a, b in spans)


def score(docs: Iterable[Mapping[str, Any]], truth: Mapping[str, Any]) -> dict[str, Any]:
    """The report: per true situation, then false situations (per quiet day) and totals."""
    incs = incidents(docs)
    sits = true_situations(truth)
    quiet = [(ts(q["start"]), ts(q["end"])) for q in truth.get("quiet", [])]
    quiet_days = sum((b - a).total_seconds() for a, b in quiet) / 86_400.0
    matched: set[str] = set()
    rows = []
    for sit in sits:
        # the incidents that told this situation; an incident counts as a true one when it
        # opened during one (one opened before, for something else, stays a false opening)
        mine = [i for i in incs if _told_in(i, sit)]
        matched.update(i.incident_id for i in mine if _opened_in(i, sit))
        first = min((i.opened for i in mine), default=None)
        msgs = [m for i in mine for m in i.messages]
        first_msg = min((ts(m["event_time"]) for i in mine for m in _told_in(i, sit)),
                        default=None)
        days = max((sit.end + LATE - sit.start).total_seconds() / 86_400.0, 1.0)
        rows.append({
            "watch": sit.watch, "names": list(sit.names), "required": sit.required,
            "onset": sit.start.isoformat(), "detected": bool(mine),
            "time_to_first_alert_s": None if first_msg is None
            else round((first_msg - sit.start).total_seconds(), 1),
            "opened_at": None if first is None else first.isoformat(),
            "incidents": len(mine), "messages": len(msgs),
            "messages_per_day": round(len(msgs) / days, 2),
            "max_messages_per_incident_day": max(
                (_max_per_day(i.messages) for i in mine), default=0),
            "flaps": sum(flaps(i.messages) for i in mine),
            "types": sorted({m.get("type", "situation") for m in msgs}),
        })
    false = [i for i in incs if i.incident_id not in matched]
    false_quiet = [i for i in false if _in(i.opened, quiet)]
    required = [r for r in rows if r["required"]]
    return {
        "situations": rows,
        "false_incidents": [{"watch": i.watch, "opened_at": i.opened.isoformat(),
                             "messages": len(i.messages),
                             "types": sorted({m.get("type", "situation") for m in i.messages})}
                            for i in false],
        "totals": {
            "true_situations": len(required),
            "detected": sum(r["detected"] for r in required),
            "incidents": len(incs), "messages": sum(len(i.messages) for i in incs),
            "flaps": sum(flaps(i.messages) for i in incs),
            "false_incidents": len(false),
            "false_in_quiet": len(false_quiet),
            "quiet_days": round(quiet_days, 2),
            "false_per_quiet_day": round(len(false_quiet) / quiet_days, 3) if quiet_days
            else None,
        },
    }


def _max_per_day(messages: Sequence[Mapping[str, Any]]) -> int:
    times = sorted(ts(m["event_time"]) for m in messages)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= timedelta(days=1):
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def render(report: Mapping[str, Any]) -> str:
    """The report as a table for a terminal."""
    lines = [f"{'watch':<10} {'situation':<36} {'detected':>8} {'first alert':>11} "
             f"{'incidents':>9} {'messages':>8} {'max/day':>7} {'flaps':>5}"]
    for r in report["situations"]:
        first = "—" if r["time_to_first_alert_s"] is None \
            else f"{r['time_to_first_alert_s'] / 60:+.1f} min"
        name = "+".join(r["names"]) + ("" if r["required"] else " (optional)")
        lines.append(f"{r['watch']:<10} {name[:36]:<36} {'yes' if r['detected'] else 'NO':>8} "
                     f"{first:>11} {r['incidents']:>9} {r['messages']:>8} "
                     f"{r['max_messages_per_incident_day']:>7} {r['flaps']:>5}")
    t = report["totals"]
    lines.append(f"total: {t['detected']}/{t['true_situations']} detected, {t['incidents']} "
                 f"incidents, {t['messages']} messages, {t['flaps']} flaps, "
                 f"{t['false_incidents']} false incidents ({t['false_in_quiet']} in "
                 f"{t['quiet_days']} quiet days: {t['false_per_quiet_day']} per quiet day)")
    for f in report["false_incidents"][:20]:
        lines.append(f"  false: {f['watch']} at {f['opened_at']} ({f['messages']} messages, "
                     f"{', '.join(f['types'])})")
    return "\n".join(lines)


def _load_docs(path: str) -> list[dict[str, Any]]:
    import orjson

    text = open(path, "rb").read()  # noqa: SIM115 - read whole, closed by refcount
    stripped = text.strip()
    if stripped.startswith(b"["):
        return list(orjson.loads(stripped))
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def run(scenario: str | None, seed: int, alerts: str | None, truth: str | None,
        json_path: str | None) -> dict[str, Any]:
    """Score a run's alert file against its truth, or replay a scenario offline and score
    its situations (social.alerts) and its signals (social.signals); print the tables."""
    import orjson

    if alerts is not None:
        if truth is None:
            raise ValueError("--alerts needs --truth (the scenario's .truth.json)")
        docs = _load_docs(alerts)
        report: dict[str, Any] = {
            "alerts": score(docs, orjson.loads(open(truth, "rb").read())),  # noqa: SIM115
                  "source": alerts}
        print(render(report["alerts"]))
    else:
        from streams.dev.replay_offline import DEFAULT_END, run_scenario
        from streams.dev.scenarios import SCENARIOS

        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r} (one of {', '.join(SCENARIOS)})")
        sc = SCENARIOS[scenario](end=DEFAULT_END)
        run_ = run_scenario(scenario, seed=seed)
        t = sc.truth()
        report = {"scenario": scenario, "seed": seed,
                  "situations": score(run_.situations, t), "signals": score(run_.signals, t)}
        print(f"{scenario} (seed {seed}), replayed offline: {run_.events} events\n")
        print("situations, social.alerts (what the crisis cell follows):")
        print(render(report["situations"]))
        print("\nsignals, social.signals (every detector's own incidents, for machines):")
        print(render(report["signals"]))
    if json_path:
        with open(json_path, "wb") as fh:
            fh.write(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return report
