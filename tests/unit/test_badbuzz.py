"""Unit tests of the pure bad-buzz score, driven as the pipeline will: per closed bucket."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import codec
from streams.aggregate.bucket import BucketAgg, PostRef
from streams.alerts.lifecycle import Lifecycle, Policy, step
from streams.detectors import badbuzz as BB
from streams.detectors import influencer as I
from streams.detectors import sentiment_shift as S
from streams.detectors import volume as V
from streams.detectors.protocol import BucketView

T0 = 1_700_000_000 - 1_700_000_000 % 86400  # a UTC midnight
B = 60
WARM_BUCKETS = 1500  # the volume detector warms up for a day


def bucket(i: int, n: int, p_neg: float, rng: np.random.Generator,
           posts: tuple[PostRef, ...] = ()) -> BucketAgg:
    neg = int(rng.binomial(n, p_neg)) if n else 0
    pos = int(rng.binomial(n - neg, 0.25)) if n - neg else 0
    reposts = int(rng.binomial(n, 0.3)) if n else 0
    return BucketAgg(watch="w", bucket_start=T0 + i * B, count=n, reach=n * 500, reposts=reposts,
                     negative=neg, neutral=n - neg - pos, positive=pos,
                     sentiment_sum=-0.6 * neg + 0.6 * pos, negative_reach=neg * 500,
                     top_posts=posts)


Detectors = tuple[V.VolumeState, S.SentimentShiftState, I.InfluencerState, BB.BadBuzzState]


def close(d: Detectors, agg: BucketAgg) -> Detectors:
    """What the pipeline does for one closed bucket: every detector, then the score."""
    vs, ss, inf, bb = d
    ts = float(agg.bucket_start)
    vs = V.update(vs, ts, float(agg.count))
    ss = S.update(ss, BucketView(agg), ts)
    inf = I.update(inf, BucketView(agg), ts)
    bb = BB.fold(bb, BB.inputs(agg, vs, ss, inf, ts), ts)
    return vs, ss, inf, bb


@pytest.fixture(scope="module")
def warm() -> Detectors:
    rng = np.random.default_rng(0)
    d: Detectors = (V.initial_state(), S.initial_state(), I.initial_state(), BB.initial_state())
    for i in range(WARM_BUCKETS):
        d = close(d, bucket(i, int(rng.poisson(20)), 0.2, rng))
    return d


def journalist(i: int, followers: int = 30_000, kind: str = "journalist") -> PostRef:
    return PostRef(f"j{i}", "x", f"{kind}{followers}", followers, kind, "panne", None,
                   T0 + i * B, followers, -0.8)


def scenario(d: Detectors, rate: float, p_neg: float, joiner_at: int | None = None,
             joiner: PostRef | None = None, n: int = 20, after: int = 60, seed: int = 1
             ) -> list[BB.BadBuzzState]:
    """n buckets of incident, then `after` buckets back to normal; the score after each."""
    rng = np.random.default_rng(seed)
    out = []
    for j in range(n + after):
        i = WARM_BUCKETS + j
        live = j < n
        posts: tuple[PostRef, ...] = ()
        if j == joiner_at:
            posts = (joiner or journalist(i),)
        agg = bucket(i, int(rng.poisson(rate if live else 20)), p_neg if live else 0.2, rng,
                     posts)
        d = close(d, agg)
        out.append(d[3])
    return out


def levels(trace: list[BB.BadBuzzState]) -> list[int]:
    return [s.level for s in trace]


def test_steady_chatter_scores_low(warm):
    trace = scenario(warm, 20.0, 0.2, n=120, after=0)
    assert max(levels(trace)) == 0
    assert max(s.score for s in trace) < BB.DEFAULT.watch_score


def test_volume_spike_alone_is_watch_or_warning(warm):
    trace = scenario(warm, 200.0, 0.2)
    top = max(levels(trace))
    assert top in (1, 2)
    sig = BB.evaluate(trace[5])
    assert sig is not None and sig.components["volume"] > 0.0
    assert sig.components["sentiment"] == 0.0 and sig.components["joiners"] == 0.0


def test_volume_negative_shift_and_journalist_is_a_crisis(warm):
    without = scenario(warm, 200.0, 0.7)
    trace = scenario(warm, 200.0, 0.7, joiner_at=3)
    assert max(levels(without)) < 3  # the journalist is what tips it over
    assert max(levels(trace)) == 3
    sig = BB.evaluate(trace[6])
    assert sig is not None and sig.severity == "crisis"
    for name in ("volume", "sentiment", "joiners"):
        assert sig.components[name] > 0.05, name
    assert math.isclose(sum(sig.components.values()), sig.score, abs_tol=1e-9)
    assert sum(s.onset for s in trace) == 1


def test_a_journalist_weighs_more_than_follower_counts(warm):
    j = scenario(warm, 200.0, 0.7, joiner_at=3, n=6, after=0)[-1]
    star = scenario(warm, 200.0, 0.7, joiner_at=3, n=6, after=0,
                    joiner=journalist(WARM_BUCKETS + 3, 1_500_000, "verified"))[-1]
    assert j.parts[BB.COMPONENTS.index("joiners")] > star.parts[BB.COMPONENTS.index("joiners")]


def test_escalates_at_once_and_de_escalates_slowly(warm):
    trace = scenario(warm, 200.0, 0.7, joiner_at=0, n=20, after=90)
    lv = levels(trace)
    assert lv[0] >= 2  # escalation within the first closed bucket
    assert lv[20] == 3  # the first normal bucket still holds the level
    drops = [k for k in range(1, len(lv)) if lv[k] < lv[k - 1]]
    assert drops and all(lv[k - 1] - lv[k] == 1 for k in drops)  # one step at a time
    assert lv[-1] == 0 and drops[0] >= 25
    assert sum(s.onset for s in trace) == 1


def test_hysteresis_around_a_threshold():
    # raw scores alternate just above and below the watch threshold: one onset, no flapping
    def inputs_for(target: float) -> BB.BuzzInputs:
        z = -BB.DEFAULT.sentiment_z_scale * math.log(1.0 - target / BB.DEFAULT.weight_sentiment)
        return BB.BuzzInputs(sentiment_z=z)

    state, onsets, lv = BB.initial_state(), 0, []
    for k in range(120):
        target = 0.27 if k % 2 == 0 else 0.22
        state = BB.fold(state, inputs_for(target), T0 + k * B)
        onsets += state.onset
        lv.append(state.level)
    assert onsets == 1 and min(lv) == 1
    no_margin = BB.BadBuzzConfig(hysteresis=0.0, release_half_life_s=1.0)
    state, onsets = BB.initial_state(), 0
    for k in range(120):
        target = 0.27 if k % 2 == 0 else 0.22
        state = BB.fold(state, inputs_for(target), T0 + k * B, no_margin)
        onsets += state.onset
    assert onsets > 10  # what the margin and the release prevent


def test_drives_the_lifecycle(warm):
    trace = scenario(warm, 200.0, 0.7, joiner_at=3, n=20, after=90)
    lc, emitted = Lifecycle(), []
    for s in trace:
        assert s.last_ts is not None
        res = step(lc, "w", BB.ALERT_TYPE, next(iter(BB.observe(s)), None), s.last_ts + B,
                   Policy())
        lc = res.state
        if res.emission is not None:
            emitted.append((res.emission.status, res.emission.severity))
    assert emitted[0][0] == "open"
    assert ("update", "crisis") in emitted
    assert emitted[-1][0] == "resolved"


finite_or_not = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([math.inf, -math.inf, math.nan]))
buzz_inputs = st.builds(BB.BuzzInputs, finite_or_not, finite_or_not, finite_or_not,
                        finite_or_not, finite_or_not, st.floats(0, 1e5), st.floats(0, 1e5))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 120), buzz_inputs), min_size=1, max_size=40))
def test_score_bounded_explained_and_state_round_trips(rows):
    state, ts = BB.initial_state(), float(T0)
    for gap, x in rows:
        ts += gap * B
        state = BB.fold(state, x, ts)
        assert 0.0 <= state.score <= 1.0
        assert all(0.0 <= p <= 1.0 for p in state.parts)
        assert all(c >= 0.0 for c in state.components)
        assert math.isclose(sum(state.components), state.score, abs_tol=1e-9)
        assert codec.loads(BB.BadBuzzState, codec.dumps(state)) == state
        obs = BB.observe(state)
        assert (obs == []) == (state.level == 0)
