"""The per-watch loop: bucket closing, early onset, idempotent merges, event-time clock."""

from __future__ import annotations

import random
from dataclasses import replace

from streams import codec
from streams.aggregate.bucket import BucketAgg
from streams.alerts.lifecycle import Policy
from streams.detectors import volume
from streams.detectors.suite import DetectorConfigs
from streams.engine.clock import Clock
from streams.engine.loop import LoopConfig, close_until, early
from streams.engine.watch import WatchState, merge_partial

B = 60
T0 = 1_700_000_000 - 1_700_000_000 % 86_400
CFG = volume.VolumeConfig(bucket_s=float(B))
POLICY = Policy(resolve_after_s=600, cooldown_s=1800)
LOOP = LoopConfig(bucket_s=B, lateness_s=120.0, policy=POLICY,
                  detectors=DetectorConfigs(volume=CFG, volume_only=True))


def series(days: float, spike_at_s: float, spike_len_s: float, rate: float,
           spike_rate: float, seed: int = 1) -> dict[int, BucketAgg]:
    rnd = random.Random(seed)
    out = {}
    for i in range(int(days * 86_400 // B)):
        b = T0 + i * B
        lam = spike_rate if spike_at_s <= i * B < spike_at_s + spike_len_s else rate
        n = sum(1 for _ in range(int(lam * 3)) if rnd.random() < 1 / 3)
        out[b] = BucketAgg(watch="w", bucket_start=b, count=n, max_arrival=float(b))
    return out


def run(buckets: dict[int, BucketAgg], step_s: int = 600) -> tuple[WatchState, list]:
    ws = WatchState(watch="w", first_bucket=min(buckets))
    fired = []
    end = max(buckets) + B
    for wm in range(min(buckets), end + 3 * step_s, step_s):
        out = close_until(ws, float(wm), buckets.get, LOOP)
        ws = out.state
        fired.extend(out.fired)
    return ws, fired


def test_spike_opens_once_and_resolves() -> None:
    spike_at = 2 * 86_400 + 14 * 3600
    buckets = series(3, spike_at, 1800, rate=4, spike_rate=80)
    _ws, fired = run(buckets)
    statuses = [(f.emission.status, f.emission.alert_id) for f in fired]
    opens = [s for s in statuses if s[0] == "open"]
    assert len(opens) == 1, statuses
    assert statuses[-1][0] == "resolved"
    assert {a for _, a in statuses} == {opens[0][1]}  # one incident, one id
    first = fired[0]
    onset_bucket = T0 + spike_at
    assert onset_bucket <= first.emission.opened_bucket <= onset_bucket + 5 * B
    assert first.window.count >= 40


def test_quiet_series_gives_no_alert() -> None:
    _, fired = run(series(3, 10**9, 0, rate=4, spike_rate=4, seed=3))
    assert fired == []


def test_closing_is_the_same_whatever_the_tick_granularity() -> None:
    buckets = series(2.5, 2 * 86_400 + 3600, 1200, rate=3, spike_rate=60, seed=5)
    a = [(f.emission.alert_id, f.emission.status, f.emission.sequence) for f in
         run(buckets, step_s=60)[1]]
    b = [(f.emission.alert_id, f.emission.status, f.emission.sequence) for f in
         run(buckets, step_s=3600)[1]]
    assert a == b and a


def test_early_opens_before_the_bucket_closes_with_the_same_id() -> None:
    spike_at = 2 * 86_400
    buckets = series(2 + 1 / 24, spike_at, 3600, rate=4, spike_rate=80)
    ws = WatchState(watch="w", first_bucket=T0)
    out = close_until(ws, float(T0 + spike_at + 120), buckets.get, LOOP)
    ws = out.state
    assert out.fired == () and ws.last_closed == T0 + spike_at - B
    spike_bucket = buckets[T0 + spike_at]
    out = early(ws, spike_bucket, LOOP)
    assert [f.emission.status for f in out.fired] == ["open"]
    early_id = out.fired[0].emission.alert_id
    # the same bucket closing later does not open a second incident
    later = close_until(out.state, float(T0 + spike_at + 4 * B), buckets.get, LOOP)
    assert all(f.emission.status != "open" for f in later.fired)
    assert all(f.emission.alert_id == early_id for f in later.fired)


def test_merge_partial_skips_redelivered_partials() -> None:
    a = BucketAgg(watch="w", bucket_start=0, count=3, sources={"0": 10})
    b = BucketAgg(watch="w", bucket_start=0, count=2, sources={"0": 11})
    ab = merge_partial(merge_partial(None, a), b)
    assert ab is not None and ab.count == 5
    assert merge_partial(ab, a) is None  # offset 10 of partition 0 already merged
    assert merge_partial(ab, b) is None
    c = BucketAgg(watch="w", bucket_start=0, count=1, sources={"1": 3})
    abc = merge_partial(ab, c)
    assert abc is not None and abc.count == 6


def test_state_round_trips() -> None:
    buckets = series(2, 86_400 + 7200, 1800, rate=4, spike_rate=80)
    ws, _ = run(buckets)
    assert codec.loads(WatchState, codec.dumps(ws)) == ws


def test_clock_is_min_over_input_partitions_and_idle_partitions_follow_wall_clock() -> None:
    c = Clock()
    assert c.effective(1000.0, 30.0) is None
    c.observe("0", 500.0, 1000.0)
    c.observe("1", 400.0, 1000.0)
    assert c.effective(1000.0, 30.0) == 400.0
    c.observe("1", 390.0, 1001.0)  # never goes back
    assert c.effective(1001.0, 30.0) == 400.0
    # partition 1 idle for 40 s past the 30 s grace: it advances 10 s; 0 is idle too
    assert c.effective(1070.0, 30.0) == 440.0


def test_an_assigned_partition_not_read_yet_holds_buckets_open_for_a_while() -> None:
    c = Clock()
    c.observe("0", 500.0, 1000.0)
    c.observe("1", None, 1000.0)
    assert c.effective(1010.0, 30.0) is None  # partition 1 may not be fetched yet
    assert c.effective(1031.0, 30.0) == 501.0  # then it is ignored (0 idle 1 s past grace)
    c.observe("1", 300.0, 1032.0)
    assert c.effective(1032.0, 30.0) == 300.0


def test_a_partition_with_records_left_to_read_is_slow_not_idle() -> None:
    c = Clock()
    c.observe("0", 5000.0, 1000.0)
    c.observe("1", None, 1000.0, backlog=True)  # assigned, its fetch not processed yet
    assert c.effective(1100.0, 30.0) is None  # however long it takes: nothing closes
    c.observe("1", 400.0, 1101.0, backlog=True)
    assert c.effective(1500.0, 30.0) == 400.0  # stalled with a backlog: no wall-clock drift
    c.observe("1", 400.0, 1501.0, backlog=False)  # caught up, then quiet: idle rule again
    assert c.effective(1600.0, 30.0) == 400.0 + (1600.0 - 1101.0 - 30.0)


def test_after_a_quiet_spell_an_unread_partition_gets_its_grace_from_the_first_data() -> None:
    c = Clock()
    for p in "0123":  # a restart: every partition caught up, nothing read for a minute
        c.observe(p, None, 1000.0)
    assert c.effective(1060.0, 3.0) is None  # no watermark at all yet
    c.observe("0", 9000.0, 1060.0)  # data again, on one partition first
    for p in "123":
        c.observe(p, None, 1060.1)  # their new end offsets not fetched yet: "not busy"
    assert c.effective(1061.0, 3.0) is None  # they may still deliver: nothing closes
    # truly empty: ignored idle_s later (and 0, quiet itself, drifts with the wall clock)
    assert c.effective(1064.0, 3.0) == 9000.0 + (1064.0 - 1060.0 - 3.0)


def test_early_projects_over_buckets_still_open_for_lateness() -> None:
    spike_at = 2 * 86_400
    buckets = series(2 + 1 / 24, spike_at, 3600, rate=4, spike_rate=80)
    ws = WatchState(watch="w", first_bucket=T0)
    # in-order stream, 120 s lateness: when the spike bucket arrives, the 2 before are open
    ws = close_until(ws, float(T0 + spike_at), buckets.get, LOOP).state
    assert ws.last_closed == T0 + spike_at - 3 * B
    spike = buckets[T0 + spike_at]
    without = early(ws, spike, LOOP)  # no counts for the open buckets: zeros
    with_counts = early(ws, spike, LOOP, lambda b: buckets[b].count)
    assert [f.emission.status for f in with_counts.fired] == ["open"]
    assert with_counts.fired[0].emission.opened_bucket == T0 + spike_at
    assert len(without.fired) <= 1


def test_open_buckets_still_missing_data_do_not_fake_an_early_onset() -> None:
    # a busy morning: the watch's normal rate; the buckets after the last closed one are
    # still open and have only part of their posts (other input partitions lag behind)
    buckets = series(2 + 1 / 24, 10**9, 0, rate=40, spike_rate=40, seed=5)
    ws = WatchState(watch="w", first_bucket=T0)
    last = T0 + 2 * 86_400
    ws = close_until(ws, float(last + 120), buckets.get, LOOP).state
    assert ws.last_closed == last - B
    opened = range(last, last + 15 * B, B)
    normal = BucketAgg(watch="w", bucket_start=last + 15 * B, count=48)
    for partial_share in (0.0, 0.1, 0.3):  # how much of the open buckets has arrived
        out = early(ws, normal, LOOP,
                    lambda b, s=partial_share: int(buckets[b].count * s) if b in opened else 0)
        assert out.fired == (), partial_share


def test_buckets_leave_the_table_only_behind_the_previous_state() -> None:
    from streams.engine.watch import purgeable

    before = WatchState(watch="w", first_bucket=0, last_closed=100 * B)
    after = WatchState(watch="w", first_bucket=0, last_closed=500 * B)
    gone, new = purgeable(before, after, B, 30)
    assert gone == list(range(0, 70 * B + 1, B))  # not the 400 buckets closed this tick
    assert new.purged_until == 71 * B
    gone2, _ = purgeable(after, new, B, 30)
    assert gone2[0] == 71 * B and gone2[-1] == 470 * B  # each bucket deleted once


def test_the_global_scope_ranks_hashtags_and_never_alerts() -> None:

    from streams.aggregate.bucket import GLOBAL
    from streams.detectors import trending

    spike_at = 2 * 86_400 + 14 * 3600
    buckets = {b: replace(a, watch=GLOBAL, hashtags={"rugby": 2, "new": 60 if a.count > 50
                                                      else 0})
               for b, a in series(3, spike_at, 1800, rate=4, spike_rate=80).items()}
    ws = WatchState(watch=GLOBAL, first_bucket=min(buckets))
    fired, seen = [], set()
    for wm in range(min(buckets), max(buckets) + 1800, 600):
        out = close_until(ws, float(wm), buckets.get,
                          replace(LOOP, detectors=DetectorConfigs(volume=CFG)))
        ws = out.state
        fired.extend(out.fired)
        if ws.last_closed is not None and ws.last_closed > T0 + spike_at:
            seen |= trending.trending_tags(ws.detectors.trend)
    assert "new" in seen
    assert fired == []  # a spike of everyone's volume is context, not an incident
    assert ws.lifecycles == {} and ws.windows == {}
    assert ws.detectors.trend.last_ts == ws.last_closed
    assert early(ws, buckets[T0 + spike_at], LOOP).fired == ()
