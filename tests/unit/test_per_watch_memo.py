"""The per_watch agent's shortcuts: decoded-table memo, early() projection memo, warm-up skip."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import codec
from streams.aggregate.bucket import BucketAgg
from streams.detectors import volume
from streams.engine.loop import close_until, early
from streams.engine.messages import load_bucket
from streams.engine.watch import WatchState
from streams.worker.tables import TableMemo
from tests.unit.test_loop import LOOP, T0, B, series


def _counting(decode: Any) -> tuple[Any, list[Any]]:
    calls: list[Any] = []

    def wrapped(raw: Any) -> Any:
        calls.append(raw)
        return decode(raw)
    return wrapped, calls


def test_memo_decodes_a_value_once_while_the_table_holds_the_same_bytes() -> None:
    decode, calls = _counting(load_bucket)
    memo = TableMemo(decode, 10)
    raw = codec.dumps(BucketAgg(watch="w", bucket_start=60, count=3))
    first = memo.get(b"k", raw)
    assert memo.get(b"k", raw) is first
    assert memo.get(b"k", bytes(bytearray(raw))) is first  # equal bytes (changelog recovery)
    assert len(calls) == 1
    changed = codec.dumps(BucketAgg(watch="w", bucket_start=60, count=4))
    second = memo.get(b"k", changed)
    assert second is not None and second.count == 4 and len(calls) == 2
    assert memo.get(b"k", None) is None  # deleted from the table: never the memo's value
    assert memo.get(b"k", raw).count == 3 and len(calls) == 3  # type: ignore[union-attr]


def test_memo_put_serves_the_written_snapshot_and_evicts_the_oldest() -> None:
    decode, calls = _counting(load_bucket)
    memo = TableMemo(decode, 2)
    aggs = [BucketAgg(watch="w", bucket_start=60 * i, count=i) for i in range(3)]
    raws = [codec.dumps(a) for a in aggs]
    for i in range(3):
        memo.put(f"k{i}".encode(), raws[i], aggs[i])
    assert memo.get(b"k2", raws[2]) is aggs[2] and memo.get(b"k1", raws[1]) is aggs[1]
    assert calls == []
    assert memo.get(b"k0", raws[0]) == aggs[0] and calls == [raws[0]]  # k0 was evicted


def _warm_state() -> tuple[WatchState, dict[int, BucketAgg], int]:
    spike_at = 2 * 86_400
    buckets = series(2 + 1 / 24, spike_at, 3600, rate=4, spike_rate=80)
    ws = WatchState(watch="w", first_bucket=T0)
    # the watermark leaves three buckets open before the spike bucket
    out = close_until(ws, float(T0 + spike_at - 2 * B), buckets.get, LOOP)
    return out.state, buckets, T0 + spike_at


def test_early_with_memo_is_early_without_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    ws, buckets, spike = _warm_state()
    assert ws.last_closed is not None and spike - ws.last_closed > B  # open buckets to project
    rnd = random.Random(4)
    counts = {b: 0 for b in range(ws.last_closed + B, spike + B, B)}
    memo: dict[str, Any] = {}
    updates = total_plain = total_memo = 0
    real_update = volume.update

    def counted(*a: Any, **kw: Any) -> Any:
        nonlocal updates
        updates += 1
        return real_update(*a, **kw)

    outcomes = plain_updates = 0
    for _ in range(120):  # partials mostly for the newest open bucket; counts only grow
        b = spike if rnd.random() < 0.8 else rnd.choice(sorted(counts))
        counts[b] += rnd.randint(1, 3)
        agg = replace(buckets[b], count=counts[b])
        monkeypatch.setattr(volume, "update", counted)
        plain = early(ws, agg, LOOP, counts.get)
        plain_updates, updates = updates, 0
        memoised = early(ws, agg, LOOP, counts.get, memo)
        monkeypatch.setattr(volume, "update", real_update)
        assert memoised == plain
        outcomes += bool(plain.fired)
        total_plain += plain_updates
        total_memo += updates
        updates = 0
    assert outcomes > 0  # the spike is reached: the comparison covers an onset too
    assert total_memo < total_plain / 2  # most projections of the open buckets were reused


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5000), min_size=1, max_size=60),
       st.integers(1, 20))
def test_detector_reports_nothing_during_warm_up(counts: list[int], gap: int) -> None:
    # early() skips its projection while the watch is in warm-up: this is why it may
    cfg = volume.VolumeConfig(bucket_s=float(B))
    vs = volume.initial_state(cfg)
    ts = float(T0)
    for n in counts:
        vs = volume.update(vs, ts, float(n), cfg)
        assert volume.evaluate(vs, cfg) is None
        ts += gap * B
        if ts - T0 >= cfg.warmup_s:
            break


def test_early_skips_only_during_warm_up() -> None:
    ws = WatchState(watch="w", first_bucket=T0)
    huge = BucketAgg(watch="w", bucket_start=T0, count=10_000)
    assert early(ws, huge, LOOP).fired == ()
    warm, buckets, spike = _warm_state()
    assert early(warm, replace(buckets[spike], count=10_000), LOOP,
                 lambda b: buckets[b].count).fired


def test_memo_discard_forgets_a_closed_bucket() -> None:
    decode, calls = _counting(load_bucket)
    memo = TableMemo(decode, 10)
    agg = BucketAgg(watch="w", bucket_start=60, count=1)
    raw = codec.dumps(agg)
    memo.put(b"k", raw, agg)
    memo.discard(b"k")
    memo.discard(b"never-there")
    assert memo.get(b"k", raw) == agg and calls == [raw]
