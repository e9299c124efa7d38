"""The per-watch loop: close event-time buckets, run every detector, step every incident once.

One pass per closed bucket: every detector of the watch updates in the fixed order of
``streams.detectors.suite`` (each sees the states the detectors it READS derived from the
same bucket), then every detector is observed and each incident lifecycle (one per type, or
one per subject for hashtags) steps once, with its evidence window. ``early`` opens a volume
incident before its bucket closes when the partial count already is a spike; it steps the
same lifecycle the same way. The global scope only ranks: no lifecycle, no alert. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from streams.aggregate.bucket import GLOBAL, BucketAgg, combine_window
from streams.alerts.lifecycle import RANK, Lifecycle, Policy, step
from streams.alerts.situation import SituationPolicy
from streams.detectors import mobilisation, trending, volume, volume_spike
from streams.detectors.protocol import BucketView, Detector, Signal
from streams.detectors.suite import DetectorConfigs
from streams.engine.situations import step_situation
from streams.engine.watch import (
    Fired,
    IncidentKey,
    Suppressed,
    Told,
    WatchState,
    WatchStep,
    Window,
    history_row,
    incident_name,
)

HISTORY_BUCKETS = 180
MAX_CLOSE_PER_CALL = 7 * 1440  # buckets closed per watch per tick (a week of 60 s buckets)
MAX_GAP_S = 30 * 86_400  # a longer silence is handed to the detector as one gap
MAX_PROJECTED_BUCKETS = 15  # open buckets an early check may project over
MAX_OPEN_PER_TYPE = 5  # concurrent per-subject incidents (hashtags) of one type per watch
VOLUME_KEY: IncidentKey = (volume_spike.ALERT_TYPE, None)
_NO_INCIDENT = Lifecycle()


@dataclass(frozen=True)
class LoopConfig:
    """What the per-watch loop needs: time, alert-fatigue policy, detectors."""

    bucket_s: int = 60
    lateness_s: float = 120.0
    policy: Policy = field(default_factory=Policy)
    detectors: DetectorConfigs = field(default_factory=DetectorConfigs)
    situation: SituationPolicy = field(default_factory=SituationPolicy)
    entity_quiet_s: float = 3 * 3600.0  # a campaign or a hashtag quiet this long has ended
    policies: Mapping[str, Policy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # a trending hashtag is told once, then only when it escalates: during a bad buzz
        # several of the watch's hashtags trend at once and their growth is the bad buzz's
        # own evidence. Campaigns and trending hashtags are entities: one that pauses and
        # resumes is one incident until it stays quiet for hours, on its own rhythm
        entity = replace(self.policy, resolve_after_s=self.entity_quiet_s, rhythm_factor=2.0)
        object.__setattr__(self, "policies", {
            trending.ALERT_TYPE: replace(entity, material_change=math.inf),
            mobilisation.ALERT_TYPE: entity})

    def policy_of(self, alert_type: str) -> Policy:
        """The alert-fatigue policy of one alert type."""
        return self.policies.get(alert_type, self.policy)


def close_until(ws: WatchState, watermark: float, get: Callable[[int], BucketAgg | None],
                cfg: LoopConfig, office_hours: Callable[[float], bool] | None = None
                ) -> WatchStep:
    """Close every bucket whose end is at or before watermark - lateness, oldest first.

    ``office_hours(ts)``: whether a time falls in the watch's office hours (its timezone).
    """
    bucket_s = cfg.bucket_s
    ws = replace(ws, watermark=max(ws.watermark, watermark))
    last_closable = int((ws.watermark - cfg.lateness_s) // bucket_s) * bucket_s - bucket_s
    if ws.first_bucket is None:
        return WatchStep(ws)
    start = ws.first_bucket if ws.last_closed is None else ws.last_closed + bucket_s
    if last_closable < start:
        return WatchStep(ws)
    if last_closable - start > MAX_GAP_S:  # a month of silence: hand it over as one gap
        start = last_closable - (MAX_CLOSE_PER_CALL - 1) * bucket_s
    # bounded work per tick, never skipping a bucket: the rest closes on the next ticks, so
    # the detector sees the same bucket sequence whatever the replay speed
    last_closable = min(last_closable, start + (MAX_CLOSE_PER_CALL - 1) * bucket_s)
    alerting = ws.watch != GLOBAL
    dets = cfg.detectors.running(alerting)
    if not (alerting and not cfg.detectors.volume_only):
        office_hours = None  # only the mobilisation detector reads them
    out = _Out()
    closed: list[BucketAgg] = []
    for b in range(start, last_closable + 1, bucket_s):
        agg = get(b) or BucketAgg(watch=ws.watch, bucket_start=b)
        ws = _close_bucket(ws, agg, cfg, dets, alerting, office_hours, out)
        closed.append(agg)
    return WatchStep(ws, tuple(out.fired), tuple(out.suppressed), tuple(closed),
                     tuple(out.told), tuple(out.held))


@dataclass
class _Out:
    """What a step accumulates over the buckets it closes."""

    fired: list[Fired] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    told: list[Told] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


def _close_bucket(ws: WatchState, agg: BucketAgg, cfg: LoopConfig, dets: tuple[Detector, ...],
                  alerting: bool, office_hours: Callable[[float], bool] | None,
                  out: _Out) -> WatchState:
    b, dcfg, before = agg.bucket_start, cfg.detectors, ws.detectors
    ts = float(b)
    # the dashboards' baseline: what the volume detector expected before seeing the bucket
    expected = volume.expected(before.volume, ts, dcfg.volume)
    view = BucketView(agg, None if office_hours is None else office_hours(ts))
    states: dict[str, Any] = {}
    for det in dets:
        seen = view if not det.READS else BucketView(agg, view.office_hours,
                                                     {n: states[n] for n in det.READS})
        states[det.NAME] = det.update(before.of(det), seen, ts, dcfg.of(det))
    ws = replace(ws, detectors=replace(before, **states), last_closed=b,
                 history=(*ws.history, history_row(agg, expected))[-HISTORY_BUCKETS:])
    if not alerting:
        return ws
    ts_end = b + cfg.bucket_s
    lifecycles, windows = dict(ws.lifecycles), dict(ws.windows)
    observed: dict[IncidentKey, Signal] = {}
    for det in dets:
        state, det_cfg = states[det.NAME], dcfg.of(det)
        signals = det.observe(state, det_cfg)
        # volume's evidence baseline is the dashboards' one; the other types add the volume
        # detector's own expectation of the bucket (the same but on a watch's first bucket)
        baseline = expected if det is volume_spike else states[volume_spike.NAME].expected
        if det.PER_SUBJECT:
            pairs = _per_subject(lifecycles, det.ALERT_TYPE, signals)
        else:
            pairs = {(det.ALERT_TYPE, None): signals[0] if signals else None}
        for key, sig in pairs.items():
            if sig is not None:
                observed[key] = sig
            _step_incident(lifecycles, windows, ws.watch, key, sig, agg, ts_end, cfg,
                           baseline, det, state, out.fired, out.suppressed)
    ws = replace(ws, lifecycles=lifecycles, windows=windows)
    by_type = {det.ALERT_TYPE: det for det in dets}

    def details(key: IncidentKey) -> Mapping[str, Any] | None:
        det = by_type[key[0]]
        return _details(det, key, observed.get(key), states[det.NAME], cfg)
    ws, told, held = step_situation(ws, agg, ts_end, expected, observed, cfg.situation,
                                    details)
    if told is not None:
        out.told.append(told)
    out.held.extend(held)
    return ws


def _per_subject(lifecycles: Mapping[IncidentKey, Lifecycle], alert_type: str,
                 signals: list[Signal]) -> dict[IncidentKey, Signal | None]:
    """One incident per subject: the existing ones are followed until they go, and signals
    that may open one (strongest first) do while fewer than MAX_OPEN_PER_TYPE are open."""
    by_subject = {s.subject: s for s in signals}
    out = {k: by_subject.get(k[1]) for k in lifecycles if k[0] == alert_type}
    live = {k for k in out if lifecycles[k].incident is not None}
    for s in signals:
        key = (alert_type, s.subject)
        if (s.onset or s.severity) and key not in live and len(live) < MAX_OPEN_PER_TYPE:
            out[key] = s
            live.add(key)
    return out


def _step_incident(lifecycles: dict[IncidentKey, Lifecycle],
                   windows: dict[IncidentKey, Window], watch: str, key: IncidentKey,
                   sig: Signal | None, agg: BucketAgg, ts_end: float, cfg: LoopConfig,
                   baseline: float, det: Detector, state: Any, fired: list[Fired],
                   suppressed: list[Suppressed]) -> None:
    """Step one incident with the newest signal and carry its evidence window along."""
    alert_type, subject = key
    lc = lifecycles.get(key, _NO_INCIDENT)
    floor = cfg.detectors.min_open.get(alert_type)
    if (lc.incident is None and sig is not None and floor is not None and sig.severity
            and RANK[sig.severity] < RANK[floor]):
        sig = None
    res = step(lc, watch, incident_name(key), sig, ts_end, cfg.policy_of(alert_type))
    em = res.emission
    win = windows.get(key)
    if em is not None and em.status == "open":
        win = Window(agg, baseline)
    elif win is not None:
        if agg.bucket_start == win.agg.bucket_start:  # the opening bucket, now complete
            win = Window(agg, baseline)
        elif agg.bucket_start > win.agg.bucket_start:
            win = Window(combine_window((win.agg, agg), watch, win.agg.bucket_start),
                         win.baseline + baseline)
    if em is not None and win is not None:
        fired.append(Fired(alert_type, subject, em, win.agg, win.baseline,
                           _details(det, key, sig, state, cfg)))
    if res.suppressed:
        suppressed.append(Suppressed(alert_type, res.suppressed))
    if res.state.incident is not None:
        lifecycles[key] = res.state
        if win is not None:
            windows[key] = win
        return
    windows.pop(key, None)
    if subject is not None and res.state.cooldown_until <= ts_end:
        lifecycles.pop(key, None)  # a hashtag's finished episode: keep the state bounded
    else:
        lifecycles[key] = res.state


def _details(det: Detector, key: IncidentKey, sig: Signal | None, state: Any,
             cfg: LoopConfig) -> dict[str, Any] | None:
    """The alert's detector block: the signal's figures, or the detector's without one."""
    alert_type, subject = key
    extra = sig.details if sig is not None else det.describe(state, subject,
                                                              cfg.detectors.of(det))
    if extra is None:
        return None
    out: dict[str, Any] = {"detector": alert_type}
    if subject is not None:
        out["hashtag"] = subject
    if sig is not None:
        out.update(value=round(sig.value, 4), detector_baseline=round(sig.baseline, 4),
                   detector_score=round(sig.score, 4))
    out.update(extra)
    return out


def early(ws: WatchState, agg: BucketAgg, cfg: LoopConfig,
          count_of: Callable[[int], int] | None = None,
          memo: dict[str, Any] | None = None) -> WatchStep:
    """Open an incident before its bucket closes when the partial count already is a spike.

    Buckets between the last closed one and this one are still open (they wait for late
    events); the projection feeds their current counts first. Counts only grow, so a
    projected onset is an onset. ``memo`` (per process, optional) keeps the last projection
    of those open buckets per watch: it is reused while the detector state and their counts
    are the same, so a partial costs one detector update instead of one per open bucket.
    """
    bucket_s, vcfg = cfg.bucket_s, cfg.detectors.volume
    lc = ws.lifecycles.get(VOLUME_KEY, _NO_INCIDENT)
    vs = ws.detectors.volume
    if lc.incident is not None or volume.is_elevated(vs) or ws.watch == GLOBAL:
        return WatchStep(ws)
    if ws.last_closed is not None and agg.bucket_start <= ws.last_closed:
        return WatchStep(ws)
    start = agg.bucket_start if ws.last_closed is None else ws.last_closed + bucket_s
    if agg.bucket_start - start > MAX_PROJECTED_BUCKETS * bucket_s:
        return WatchStep(ws)
    first_ts = vs.first_ts if vs.daily and vs.last_ts is not None else None
    if agg.bucket_start - (start if first_ts is None else first_ts) < vcfg.warmup_s:
        return WatchStep(ws)  # the detector reports nothing during its warm-up
    opened = range(start, agg.bucket_start, bucket_s)
    counts = tuple(float(count_of(b) if count_of else 0) for b in opened)
    hit = memo.get(ws.watch) if memo is not None else None
    if hit is not None and hit[0] is vs and hit[1] == start and hit[2] == counts:
        vs = hit[3]
    else:
        before = vs
        for b, n in zip(opened, counts, strict=True):
            # an open bucket may still miss data of other input partitions: below its
            # expectation it would depress the projected baseline and fake an onset, so it
            # counts at least as expected (conservative; the close path sees the truth)
            vs = volume.update(vs, float(b), max(n, volume.expected(vs, float(b), vcfg)), vcfg)
        if memo is not None:
            memo[ws.watch] = (before, start, counts, vs)
    projected = volume.update(vs, float(agg.bucket_start), float(agg.count), vcfg)
    sig = volume_spike.early_signal(projected, agg.bucket_start, vcfg)
    if sig is None:
        return WatchStep(ws)
    # the same baseline function as at close time, so evidence does not depend on the path
    expected = volume.expected(vs, float(agg.bucket_start), vcfg)
    lifecycles, windows = dict(ws.lifecycles), dict(ws.windows)
    fired: list[Fired] = []
    suppressed: list[Suppressed] = []
    ts_end = agg.bucket_start + bucket_s
    _step_incident(lifecycles, windows, ws.watch, VOLUME_KEY, sig, agg, ts_end, cfg, expected,
                   volume_spike, projected, fired, suppressed)
    ws = replace(ws, lifecycles=lifecycles, windows=windows)
    if not fired:
        return WatchStep(ws, (), tuple(suppressed))
    # an early onset may open the situation too: the crisis cell hears it as soon as the signal

    def details(key: IncidentKey) -> Mapping[str, Any] | None:
        return _details(volume_spike, key, sig, projected, cfg) if key == VOLUME_KEY else None
    ws, told, held = step_situation(ws, agg, ts_end, expected, {VOLUME_KEY: sig}, cfg.situation,
                                    details, closed=False)
    return WatchStep(ws, tuple(fired), tuple(suppressed), (), (told,) if told else (), held)
