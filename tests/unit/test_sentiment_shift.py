"""Unit tests of the pure sentiment-shift detector."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import codec
from streams.aggregate.bucket import BucketAgg, PostRef
from streams.alerts.lifecycle import RANK, Lifecycle, Policy, step
from streams.detectors import sentiment_shift as S
from streams.detectors.protocol import BucketView

T0 = 1_700_000_000 - 1_700_000_000 % 86400  # a UTC midnight
B = 60


def bucket(i: int, n: int, p_neg: float, rng: np.random.Generator, followers: int = 500,
           big_negative: tuple[int, ...] = ()) -> BucketAgg:
    """A bucket of n scored posts with a binomial negative count; optional huge-reach negatives."""
    neg = int(rng.binomial(n, min(max(p_neg, 0.0), 1.0))) if n else 0
    pos = int(rng.binomial(n - neg, 0.25)) if n - neg else 0
    neu = n - neg - pos
    reach = n * followers + sum(f - followers for f in big_negative)
    neg_reach = neg * followers + sum(f - followers for f in big_negative)
    tops = tuple(PostRef(f"p{i}-{k}", "x", f"a{k}", f, "ordinary", "", None, T0 + i * B, f, -0.8)
                 for k, f in enumerate(big_negative))
    return BucketAgg(watch="w", bucket_start=T0 + i * B, count=n, reach=reach, negative=neg,
                     neutral=neu, positive=pos, sentiment_sum=-0.6 * neg + 0.6 * pos,
                     negative_reach=neg_reach, top_posts=tops)


def warmed(hours: float = 8.0, rate: float = 20.0, seed: int = 0,
           cfg: S.SentimentShiftConfig = S.DEFAULT) -> tuple[S.SentimentShiftState, int]:
    """A detector after `hours` of steady ~20 % negative chatter (share jitters by 3 points)."""
    rng = np.random.default_rng(seed)
    state = S.initial_state()
    n_buckets = int(hours * 3600 / B)
    for i in range(n_buckets):
        p = 0.2 + rng.normal(0.0, 0.03)
        agg = bucket(i, int(rng.poisson(rate)), p, rng)
        state = S.update(state, BucketView(agg), T0 + i * B, cfg)
    return state, n_buckets


def run(state, start, n_buckets, rate, p_neg, seed=1, cfg=S.DEFAULT):
    """Feed n_buckets at a given rate and share; return final state and per-bucket states."""
    rng = np.random.default_rng(seed)
    trace = []
    for j in range(n_buckets):
        i = start + j
        agg = bucket(i, int(rng.poisson(rate)), p_neg, rng)
        state = S.update(state, BucketView(agg), T0 + i * B, cfg)
        trace.append(state)
    return state, trace


def test_steady_noisy_share_gives_no_shift():
    for seed in (0, 1, 2):
        state, n = warmed(hours=4.0, seed=seed)
        _, trace = run(state, n, 20 * 60, 20.0, 0.2, seed=seed + 10)
        assert [s for s in trace if S.evaluate(s) is not None] == []
        assert all(S.observe(s) == [] for s in trace)
        assert abs(trace[-1].baseline_share - 0.2) < 0.03


def test_jump_with_volume_gives_one_early_onset():
    state, n = warmed()
    _, trace = run(state, n, 60, 60.0, 0.7)
    onsets = [j for j, s in enumerate(trace) if s.onset]
    assert len(onsets) == 1
    assert onsets[0] <= 2
    sig = S.evaluate(trace[10])
    assert sig is not None and sig.severity == "crisis"
    assert sig.share > 0.55 and abs(sig.baseline_share - 0.2) < 0.03
    assert 0.0 < sig.score < 1.0


def test_severity_grows_with_magnitude():
    base, n = warmed()
    ranks = []
    for p in (0.35, 0.5, 0.7, 0.9):
        _, trace = run(base, n, 20, 40.0, p)
        sigs = [s for t in trace if (s := S.evaluate(t)) is not None]
        assert sigs, p
        ranks.append(max(RANK[s.severity] for s in sigs))
    assert ranks == sorted(ranks)
    assert ranks[0] < ranks[-1] == RANK["crisis"]


def test_four_am_three_angry_posts_is_not_a_crisis():
    state, n = warmed()
    rng = np.random.default_rng(5)
    quiet = [bucket(n + j, int(rng.poisson(0.3)), 0.2, rng) for j in range(60)]
    angry = [replace(bucket(n + 60 + j, 3, 1.0, rng)) for j in range(3)]
    loose = replace(S.DEFAULT, min_posts=1, min_negative=1)
    for cfg, expect_signal in ((S.DEFAULT, False), (loose, True)):
        s = state
        sigs = []
        for agg in (*quiet, *angry):
            s = S.update(s, BucketView(agg), agg.bucket_start, cfg)
            if S.evaluate(s, cfg) is not None:
                sigs.append(s)
        # the guard, not the statistics, is what keeps the night quiet
        assert bool(sigs) is expect_signal


def test_reach_weighting_moves_share_with_few_huge_negative_posts():
    reach_cfg = replace(S.DEFAULT, weight="reach")
    shares = {}
    for name, cfg in (("count", S.DEFAULT), ("reach", reach_cfg)):
        state, n = warmed(cfg=cfg)
        rng = np.random.default_rng(9)
        for j in range(3):
            agg = bucket(n + j, 20, 0.2, rng, big_negative=(5_000_000, 3_000_000, 2_000_000))
            state = S.update(state, BucketView(agg), agg.bucket_start, cfg)
        shares[name] = (state.share, state.baseline_share)
    assert abs(shares["count"][0] - 0.2) < 0.15
    assert shares["reach"][0] > 0.8
    assert abs(shares["reach"][1] - 0.2) < 0.05  # the baseline was ordinary


def test_baseline_is_not_learnt_from_the_crisis_and_rearms():
    state, n = warmed()
    state, trace = run(state, n, 120, 60.0, 0.7)
    assert trace[-1].baseline_share < 0.23  # two hours of crisis barely move it
    assert S.evaluate(trace[-1]) is not None  # still shifted after two hours
    assert sum(s.onset for s in trace) == 1
    state, trace = run(state, n + 120, 60, 20.0, 0.2, seed=3)
    assert not trace[-1].active  # back to normal for longer than rearm_s
    _, trace = run(state, n + 180, 10, 60.0, 0.7, seed=4)
    assert sum(s.onset for s in trace) == 1


def test_drives_the_lifecycle_open_then_resolved():
    state, n = warmed()
    lc, statuses = Lifecycle(), []
    for phase, (count, p) in enumerate(((30, 0.7), (60, 0.2))):
        _, trace = run(state, n, count, 60.0 if p > 0.5 else 20.0, p, seed=phase)
        for s in trace:
            res = step(lc, "w", S.ALERT_TYPE, next(iter(S.observe(s)), None), s.last_ts + B,
                       Policy())
            lc = res.state
            if res.emission is not None:
                statuses.append(res.emission.status)
        state, n = trace[-1], n + count
    assert statuses[0] == "open" and statuses[-1] == "resolved"
    assert statuses.count("open") == 1


buckets = st.lists(
    st.tuples(st.integers(1, 5), st.integers(0, 200), st.floats(0.0, 1.0),
              st.integers(0, 3_000_000)),
    min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(buckets, st.sampled_from(["count", "reach"]))
def test_state_round_trips_and_score_is_bounded(rows, weight):
    cfg = replace(S.DEFAULT, weight=weight, warmup_s=0.0, min_baseline_posts=0.0)
    rng = np.random.default_rng(0)
    state, ts = S.initial_state(), T0
    for gap, n, p, big in rows:
        ts += gap * B
        agg = bucket((ts - T0) // B, n, p, rng, big_negative=(big,) if big and n else ())
        state = S.update(state, BucketView(agg), ts, cfg)
        again = codec.loads(S.SentimentShiftState, codec.dumps(state))
        assert again == state
        for obs in S.observe(state, cfg):
            assert 0.0 <= obs.score <= 1.0
            assert 0.0 <= obs.value <= 1.0
        assert 0.0 <= S.score_of(state.z, cfg) <= 1.0
