"""The watch's situation, stepped once per closed bucket (and on an early onset), pure.

The per-type incidents stay the signals (published for machines); this turns the ones open
now into the situation a crisis cell follows (streams.alerts.situation) and carries its
evidence window: every bucket since the situation opened, merged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from streams.aggregate.bucket import BucketAgg, combine_window
from streams.alerts.lifecycle import Lifecycle
from streams.alerts.situation import SignalView, SituationPolicy, step
from streams.detectors import influencer, mobilisation
from streams.detectors.protocol import Signal
from streams.engine.watch import IncidentKey, Told, WatchState, Window, incident_name

NOTABLE_KINDS = ("journalist", "media", "institution")
EMPLOYEE = "employee_mobilisation"


def notables(sig: Signal | None) -> tuple[str, ...]:
    """What a signal of this bucket brings that the crisis cell acts on: listed authors (a
    journalist, a media, an institution) posting negatively, a campaign by its class."""
    if sig is None or not sig.details:
        return ()
    if sig.type == influencer.ALERT_TYPE:
        return tuple(f"{a['kind']}:{a['author']}" for a in sig.details.get("authors", ())
                     if a.get("kind") in NOTABLE_KINDS)
    if sig.type == mobilisation.ALERT_TYPE and sig.subject:
        cls = sig.details.get("class")
        if cls == EMPLOYEE:
            return (f"employee_campaign:{sig.subject}",)
        if cls == "coordinated_inauthentic":
            return (f"hostile_campaign:{sig.subject}",)
    return ()


def _kind(sig: Signal | None) -> str:
    if sig is None or not sig.details or sig.type != mobilisation.ALERT_TYPE:
        return ""
    return str(sig.details.get("class") or "")


BUSY_BUCKETS = 5  # the volume that corroborates a signal: the last five minutes


def busy(counts: Iterable[tuple[float, float]]) -> bool:
    """Whether the watch's last buckets ((posts, expected) each) are well above what it
    expects: about 3 sigma, twice as much, and 10 posts at least. The volume itself then
    corroborates a noisy signal (a negative turn or a trend while posts pour in)."""
    n = e = 0.0
    for count, expected in counts:
        n += count
        e += expected
    return n >= max(2.0 * e, e + 3.0 * e ** 0.5, 10.0)


def views(lifecycles: Mapping[IncidentKey, Lifecycle],
          observed: Mapping[IncidentKey, Signal]) -> tuple[SignalView, ...]:
    """The signals active now: every per-type incident open, with this bucket's figures."""
    out = []
    for key, lc in lifecycles.items():
        inc = lc.incident
        if inc is None:
            continue
        sig = observed.get(key)
        out.append(SignalView(
            incident_name(key), key[0], key[1], inc.alert_id, inc.severity,
            float(inc.opened_bucket), sig.score if sig else 0.0,
            sig.value if sig else inc.last_value, sig.baseline if sig else 0.0,
            notables(sig), _kind(sig), sig is not None))
    return tuple(sorted(out, key=lambda v: v.key))


def step_situation(ws: WatchState, agg: BucketAgg, ts_end: float, baseline: float,
                   observed: Mapping[IncidentKey, Signal], policy: SituationPolicy,
                   details: Callable[[IncidentKey], Mapping[str, Any] | None],
                   closed: bool = True) -> tuple[WatchState, Told | None, tuple[str, ...]]:
    """Step the watch's situation after a bucket (agg, ending at ts_end) stepped its
    incidents; returns the state, the message to send (if any) and what was held back (why).
    ``closed``: agg is the newest row of the history already (False: an open bucket)."""
    before = ws.situation
    rows = [(float(r[1]), r[2]) for r in ws.history[-BUSY_BUCKETS:]]
    if not closed:
        rows = [*rows[1:], (float(agg.count), baseline)]
    state, msg, held = step(before, ws.watch, views(ws.lifecycles, observed),
                            agg.bucket_start, ts_end, policy, busy(rows))
    win, peak = ws.situation_window, ws.situation_peak
    if before.current is None and state.current is not None:
        win, peak = Window(agg, baseline), agg.count
    elif win is not None:
        if agg.bucket_start == win.agg.bucket_start:  # the opening bucket, now complete
            win, peak = Window(agg, baseline), max(peak, agg.count)
        elif agg.bucket_start > win.agg.bucket_start:
            win = Window(combine_window((win.agg, agg), ws.watch, win.agg.bucket_start),
                         win.baseline + baseline)
            peak = max(peak, agg.count)
    told = None
    if msg is not None and win is not None:
        active = [k for k, lc in ws.lifecycles.items() if lc.incident is not None]
        told = Told(msg, win.agg, win.baseline, peak,
                    {incident_name(k): d for k in active if (d := details(k)) is not None})
    if state.current is None:
        win, peak = None, 0
    ws = replace(ws, situation=state, situation_window=win, situation_peak=peak)
    return ws, told, tuple(h.why for h in held)
