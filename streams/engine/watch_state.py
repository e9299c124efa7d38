"""Per-watch state machine: closes event-time buckets, runs detectors and the lifecycle (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from streams.aggregate.bucket import GLOBAL, BucketAgg, combine_window
from streams.alerts.lifecycle import Emission, Lifecycle, Observation, Policy, step
from streams.detectors import volume
from streams.engine.watch_detectors import DetectorConfigs, DetectorStates, on_close, trend_only

VOLUME = "volume_spike"
HISTORY_BUCKETS = 180
MAX_CLOSE_PER_CALL = 7 * 1440  # buckets closed per watch per tick (a week of 60 s buckets)
MAX_GAP_S = 30 * 86_400  # a longer silence is handed to the detector as one gap
MAX_PROJECTED_BUCKETS = 15  # open buckets an early check may project over


@dataclass(frozen=True)
class Fired:
    """An emission with the evidence window it refers to."""

    alert_type: str
    emission: Emission
    window: BucketAgg
    baseline: float
    bucket_s: int
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WatchState:
    """Everything Vigie remembers about one watch, as one immutable snapshot."""

    watch: str
    partition: int = 0
    first_bucket: int | None = None
    last_closed: int | None = None
    watermark: float = 0.0
    volume: volume.VolumeState = field(default_factory=volume.initial_state)
    lifecycles: Mapping[str, Lifecycle] = field(default_factory=dict)
    window: BucketAgg | None = None
    window_expected: float = 0.0
    history: tuple[tuple[int, int, float, float | None, float | None], ...] = ()
    purged_until: int | None = None  # closed buckets before this were deleted from the table
    detectors: DetectorStates = field(default_factory=DetectorStates)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form for the table changelog."""
        return {
            "watch": self.watch, "partition": self.partition, "first_bucket": self.first_bucket,
            "last_closed": self.last_closed, "watermark": self.watermark,
            "volume": self.volume.to_dict(),
            "lifecycles": {k: v.to_dict() for k, v in self.lifecycles.items()},
            "window": None if self.window is None else self.window.to_dict(),
            "window_expected": self.window_expected,
            "history": [list(h) for h in self.history],
            "purged_until": self.purged_until,
            "detectors": self.detectors.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WatchState:
        """Inverse of to_dict."""
        return cls(
            watch=d["watch"], partition=d["partition"], first_bucket=d["first_bucket"],
            last_closed=d["last_closed"], watermark=d["watermark"],
            volume=volume.VolumeState.from_dict(d["volume"]),
            lifecycles={k: Lifecycle.from_dict(v) for k, v in d["lifecycles"].items()},
            window=None if d["window"] is None else BucketAgg.from_dict(d["window"]),
            window_expected=d["window_expected"],
            history=tuple(tuple(h) for h in d["history"]),
            purged_until=d.get("purged_until"),
            detectors=DetectorStates.from_dict(d.get("detectors")),
        )


@dataclass(frozen=True)
class Outcome:
    """New state, what to emit, and what was suppressed (for metrics)."""

    state: WatchState
    fired: tuple[Fired, ...] = ()
    suppressed: tuple[str, ...] = ()
    closed: tuple[BucketAgg, ...] = ()


def merge_partial(current: BucketAgg | None, partial: BucketAgg) -> BucketAgg | None:
    """Merge a partial into its bucket; None when it was merged before (redelivery)."""
    if current is None:
        return partial
    for src, off in partial.sources.items():
        if current.sources.get(src, -1) >= off:
            return None
    return current.merge(partial)


def observe(vs: volume.VolumeState, cfg: volume.VolumeConfig) -> Observation | None:
    """The lifecycle's view of the newest bucket of the volume detector."""
    sig = volume.evaluate(vs, cfg)
    if sig is not None:
        return Observation(sig.severity, sig.score, sig.count, sig.expected,
                           int(sig.onset_ts), sig.onset)
    if not volume.is_elevated(vs) or vs.last_ts is None:
        return None
    if vs.count <= normal_ceiling(vs.expected):
        # back near the baseline: the incident may resolve even though the detector keeps
        # its longer re-arm hysteresis before it reports a new onset
        return None
    # still elevated, no new report: the incident keeps its severity ("" = unchanged)
    return Observation("", vs.score, vs.count, vs.expected, int(vs.last_ts), False)


def normal_ceiling(expected: float) -> float:
    """Highest bucket count still read as normal for an expected count (about 3 sigma)."""
    return max(1.5 * expected, expected + 3.0 * expected ** 0.5, 2.0)


def _fire(ws: WatchState, agg: BucketAgg, obs: Observation | None, ts: float, policy: Policy,
          bucket_s: int, expected: float) -> tuple[WatchState, list[Fired], str | None]:
    lc = ws.lifecycles.get(VOLUME, Lifecycle())
    res = step(lc, ws.watch, VOLUME, obs, ts, policy)
    window, window_expected = ws.window, ws.window_expected
    em = res.emission
    if em is not None and em.status == "open":
        window, window_expected = agg, expected
    elif lc.incident is not None and window is not None:
        if agg.bucket_start == window.bucket_start:  # the opening bucket, now complete
            window, window_expected = agg, expected
        elif agg.bucket_start > window.bucket_start:
            window = combine_window((window, agg), ws.watch, window.bucket_start)
            window_expected += expected
    fired: list[Fired] = []
    if em is not None and window is not None:
        fired.append(Fired(VOLUME, em, window, window_expected, bucket_s))
    if res.state.incident is None:
        window, window_expected = None, 0.0
    new = replace(ws, lifecycles={**ws.lifecycles, VOLUME: res.state}, window=window,
                  window_expected=window_expected)
    return new, fired, res.suppressed


def early(ws: WatchState, agg: BucketAgg, bucket_s: int, policy: Policy,
          cfg: volume.VolumeConfig, count_of: Callable[[int], int] | None = None,
          memo: dict[str, Any] | None = None) -> Outcome:
    """Open an incident before its bucket closes when the partial count already is a spike.

    Buckets between the last closed one and this one are still open (they wait for late
    events); the projection feeds their current counts first. Counts only grow, so a
    projected onset is an onset. ``memo`` (per process, optional) keeps the last projection
    of those open buckets per watch: it is reused while the detector state and their counts
    are the same, so a partial costs one detector update instead of one per open bucket.
    """
    lc = ws.lifecycles.get(VOLUME, Lifecycle())
    if lc.incident is not None or volume.is_elevated(ws.volume) or ws.watch == GLOBAL:
        return Outcome(ws)
    if ws.last_closed is not None and agg.bucket_start <= ws.last_closed:
        return Outcome(ws)
    start = agg.bucket_start if ws.last_closed is None else ws.last_closed + bucket_s
    if agg.bucket_start - start > MAX_PROJECTED_BUCKETS * bucket_s:
        return Outcome(ws)
    vs = ws.volume
    first_ts = vs.first_ts if vs.daily and vs.last_ts is not None else None
    if agg.bucket_start - (start if first_ts is None else first_ts) < cfg.warmup_s:
        return Outcome(ws)  # the detector reports nothing during its warm-up
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
            vs = volume.update(vs, float(b), max(n, volume.expected(vs, float(b), cfg)), cfg)
        if memo is not None:
            memo[ws.watch] = (before, start, counts, vs)
    projected = volume.update(vs, float(agg.bucket_start), float(agg.count), cfg)
    sig = volume.evaluate(projected, cfg)
    if sig is None or not sig.onset:
        return Outcome(ws)
    obs = Observation(sig.severity, sig.score, sig.count, sig.expected, agg.bucket_start, True)
    ts = agg.bucket_start + bucket_s
    # the same baseline function as at close time, so evidence does not depend on the path
    expected = volume.expected(vs, float(agg.bucket_start), cfg)
    new, fired, suppressed = _fire(ws, agg, obs, ts, policy, bucket_s, expected)
    return Outcome(new, tuple(fired), (suppressed,) if suppressed else ())


def close_until(ws: WatchState, watermark: float, get: Callable[[int], BucketAgg | None],
                bucket_s: int, lateness_s: float, policy: Policy,
                cfg: volume.VolumeConfig, detectors: DetectorConfigs | None = None,
                office_hours: Callable[[float], bool] | None = None) -> Outcome:
    """Close every bucket whose end is at or before watermark - lateness, oldest first."""
    ws = replace(ws, watermark=max(ws.watermark, watermark))
    last_closable = int((ws.watermark - lateness_s) // bucket_s) * bucket_s - bucket_s
    if ws.first_bucket is None:
        return Outcome(ws)
    start = ws.first_bucket if ws.last_closed is None else ws.last_closed + bucket_s
    if last_closable < start:
        return Outcome(ws)
    if last_closable - start > MAX_GAP_S:  # a month of silence: hand it over as one gap
        start = last_closable - (MAX_CLOSE_PER_CALL - 1) * bucket_s
    # bounded work per tick, never skipping a bucket: the rest closes on the next ticks, so
    # the detector sees the same bucket sequence whatever the replay speed
    last_closable = min(last_closable, start + (MAX_CLOSE_PER_CALL - 1) * bucket_s)
    fired: list[Fired] = []
    suppressed: list[str] = []
    closed: list[BucketAgg] = []
    alerting = ws.watch != GLOBAL  # the global scope ranks hashtags and volume, never alerts
    for b in range(start, last_closable + 1, bucket_s):
        agg = get(b) or BucketAgg(watch=ws.watch, bucket_start=b)
        exp = volume.expected(ws.volume, float(b), cfg)
        vs = volume.update(ws.volume, float(b), float(agg.count), cfg)
        ws = replace(ws, volume=vs, last_closed=b,
                     history=(*ws.history, _history_row(agg, exp))[-HISTORY_BUCKETS:])
        closed.append(agg)
        if not alerting:
            if detectors is not None:
                ws = replace(ws, detectors=trend_only(ws.detectors, agg, detectors))
            continue
        ws, f, s = _fire(ws, agg, observe(vs, cfg), b + bucket_s, policy, bucket_s, exp)
        fired.extend(f)
        if s:
            suppressed.append(s)
        if detectors is not None:  # sentiment shift, influencers, bad buzz, trending hashtags
            ds, emitted, sup = on_close(ws.detectors, ws.watch, agg, vs, b + bucket_s,
                                        bucket_s, policy, detectors, cfg, office_hours)
            ws = replace(ws, detectors=ds)
            fired.extend(Fired(e.alert_type, e.emission, e.window, e.baseline, bucket_s,
                               e.details) for e in emitted)
            suppressed.extend(sup)
    return Outcome(ws, tuple(fired), tuple(suppressed), tuple(closed))


def _history_row(agg: BucketAgg, expected: float) -> tuple[int, int, float, float | None,
                                                           float | None]:
    scored = agg.scored
    neg_share = agg.negative / scored if scored else None
    mean = agg.sentiment_sum / scored if scored else None
    return (agg.bucket_start, agg.count, round(expected, 3), neg_share, mean)


def purgeable(before: WatchState, after: WatchState, bucket_s: int,
              retain_buckets: int) -> tuple[list[int], WatchState]:
    """Closed buckets that may leave the buckets table, and the state that records it.

    Only buckets closed before the previous tick's state (`before`, already written) minus a
    margin go: if this tick's state write is lost in a crash while the bucket deletions get
    through, the state recovered from its changelog still finds every bucket it must close.
    """
    if before.last_closed is None or after.first_bucket is None:
        return [], after
    cut = before.last_closed - retain_buckets * bucket_s
    start = after.purged_until if after.purged_until is not None else after.first_bucket
    if cut < start:
        return [], after
    return list(range(start, cut + 1, bucket_s)), replace(after, purged_until=cut + bucket_s)
