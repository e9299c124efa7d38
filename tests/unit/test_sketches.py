"""Invariants of the Space-Saving heavy-hitter sketch (Hypothesis)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import codec
from streams.aggregate.sketches import SpaceSaving

ITEMS = [f"t{i}" for i in range(12)]
batches = st.lists(st.dictionaries(st.sampled_from(ITEMS), st.integers(1, 20), max_size=8),
                   max_size=14)
ks = st.integers(1, 6)


def sketch_of(stream: list[dict[str, int]], k: int) -> SpaceSaving:
    sk = SpaceSaving(k)
    for batch in stream:
        sk = sk.add_many(batch)
    return sk


def truth(stream: list[dict[str, int]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for batch in stream:
        out.update(batch)
    return out


def assert_bounds(sk: SpaceSaving, true: Counter[str]) -> None:
    n = sum(true.values())
    assert len(sk) <= sk.k
    assert sk.total == n
    assert sum(c for c, _ in sk.items.values()) <= n  # what makes floor and error <= N/k
    assert sk.floor <= n / sk.k
    for item in ITEMS:
        f = true[item]
        if item in sk:
            c, e = sk.items[item]
            assert c - e <= f <= c, (item, c, e, f)
            assert e <= n / sk.k
            assert sk.lower(item) <= f <= sk.estimate(item)
        else:
            assert f <= sk.floor, (item, f, sk.floor)
            assert f <= n / sk.k  # every item heavier than N/k is monitored


@settings(max_examples=300, deadline=None)
@given(batches, ks)
def test_bounds_hold_on_any_stream(stream, k):
    assert_bounds(sketch_of(stream, k), truth(stream))


@settings(max_examples=300, deadline=None)
@given(batches, batches, ks)
def test_merge_of_partials_is_within_the_bound_of_the_whole(left, right, k):
    merged = sketch_of(left, k).merge(sketch_of(right, k))
    whole = sketch_of(left + right, k)
    true = truth(left + right)
    assert_bounds(merged, true)
    n = sum(true.values())
    for item in ITEMS:  # both overestimate by at most N/k, so they differ by at most N/k
        assert abs(merged.estimate(item) - whole.estimate(item)) <= n / k


@settings(max_examples=200, deadline=None)
@given(st.lists(batches, min_size=1, max_size=4), ks)
def test_merge_tree_of_many_partials(parts, k):
    sketches = [sketch_of(p, k) for p in parts]
    merged = sketches[0]
    for sk in sketches[1:]:
        merged = merged.merge(sk)
    assert_bounds(merged, truth([b for p in parts for b in p]))


@settings(max_examples=200, deadline=None)
@given(batches, ks, st.randoms(use_true_random=False))
def test_order_independence_within_the_bound(stream, k, rnd):
    shuffled = list(stream)
    rnd.shuffle(shuffled)
    a, b = sketch_of(stream, k), sketch_of(shuffled, k)
    n = sum(truth(stream).values())
    for item in ITEMS:
        assert abs(a.estimate(item) - b.estimate(item)) <= n / k
    # within one batch the order of items never matters
    for batch in stream:
        rev = dict(reversed(list(batch.items())))
        assert a.add_many(batch) == a.add_many(rev)


@settings(max_examples=200, deadline=None)
@given(batches, ks, st.integers(0, 10))
def test_top_is_bounded_and_ordered(stream, k, n):
    top = sketch_of(stream, k).top(n)
    assert len(top) <= min(n, k)
    counts = [c for _, c, _ in top]
    assert counts == sorted(counts, reverse=True)


@settings(max_examples=150, deadline=None)
@given(batches, ks)
def test_decay_keeps_the_bounds_of_decayed_weights(stream, k):
    factor = 0.5
    sk = SpaceSaving(k)
    true: dict[str, float] = dict.fromkeys(ITEMS, 0.0)
    for batch in stream:
        sk = sk.scaled(factor).add_many(batch)
        true = {t: v * factor + batch.get(t, 0) for t, v in true.items()}
    eps = 1e-9
    for item in ITEMS:
        if item in sk:
            c, e = sk.items[item]
            assert c - e - eps <= true[item] <= c + eps
        else:
            assert true[item] <= sk.floor + eps
    assert sk.total == pytest.approx(sum(true.values()))


@settings(max_examples=100, deadline=None)
@given(batches, ks, st.floats(0.0, 30.0))
def test_prune_keeps_the_upper_bound(stream, k, min_count):
    sk = sketch_of(stream, k).prune(min_count)
    true = truth(stream)
    assert all(c >= min_count for c, _ in sk.items.values())
    for item in ITEMS:
        assert sk.lower(item) <= true[item] <= sk.estimate(item)


@settings(max_examples=100, deadline=None)
@given(batches, ks)
def test_json_round_trip(stream, k):
    sk = sketch_of(stream, k)
    assert codec.decode(SpaceSaving, json.loads(json.dumps(codec.encode(sk)))) == sk


def test_heavy_item_survives_a_flood_of_one_offs():
    sk = SpaceSaving(50)
    for i in range(200):
        sk = sk.add_many({"heavy": 30, **{f"once{i}_{j}": 1 for j in range(500)}})
    assert sk.lower("heavy") >= 30 * 200 - sk.error_bound()
    assert sk.top(1)[0][0] == "heavy"
    assert len(sk) == 50


def test_ignores_non_positive_weights_and_rejects_bad_k():
    sk = SpaceSaving(3).add_many({"a": 0, "b": -2, "c": float("nan"), "d": 2})
    assert list(sk) == ["d"]
    assert sk.total == 2
    with pytest.raises(ValueError):
        SpaceSaving(0)
