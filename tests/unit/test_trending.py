"""Unit tests of the pure trending-hashtag detector."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest

from streams import codec
from streams.alerts import lifecycle as L
from streams.detectors import trending as T

T0 = 1_700_000_000 - (1_700_000_000 % 86400)  # a UTC midnight
MIN = 60
EVERGREEN = {f"ever{i}": 100.0 / (i + 1) for i in range(40)}  # Zipf: 100/min down to 2.5/min

Extra = Callable[[int, np.random.Generator], dict[str, int]]


def minutes(n: int, seed: int = 0, start: int = 0, extra: Extra | None = None,
            one_offs: int = 100) -> Iterator[tuple[int, dict[str, int]]]:
    """Per-minute hashtag counts of a busy scope: evergreens with a daily cycle and a
    jittery overall rate, one-off hashtags, plus whatever extra(minute, rng) adds."""
    rng = np.random.default_rng(seed)
    for m in range(start, start + n):
        day = 1.0 + 0.7 * math.sin(2 * math.pi * m / 1440)
        wobble = rng.gamma(100, 0.01)  # +-10 % per minute: counts are overdispersed
        counts = {t: int(rng.poisson(r * day * wobble)) for t, r in EVERGREEN.items()}
        counts.update({f"once{m}_{j}": 1 for j in range(one_offs)})
        if extra is not None:
            counts.update(extra(m, rng))
        yield T0 + m * MIN, counts


def run(stream, state=None, cfg=T.DEFAULT):
    """Feed (ts, counts); return the final state and [(ts, [signals])]."""
    state = state or T.initial_state(cfg)
    trace = []
    for ts, counts in stream:
        state = T.fold(state, ts, counts, cfg)
        trace.append((ts, T.evaluate(state, None, cfg)))
    return state, trace


def onsets(trace, tag):
    return [ts for ts, sigs in trace if any(s.tag == tag for s in sigs)]


WARM_MIN = 8 * 60


@pytest.fixture(scope="module")
def warm():
    """A scope after 8 hours of ordinary traffic (immutable, so safely shared)."""
    state, trace = run(minutes(WARM_MIN))
    return state, trace


def test_evergreen_hashtags_never_trend(warm):
    state, trace = warm
    # the steepest part of the daily cycle (hours 20-30) must not look like a trend
    state, more = run(minutes(24 * 60, start=WARM_MIN, one_offs=20), state)
    assert [s for _, sigs in trace + more for s in sigs] == []
    assert T.trending_tags(state) == frozenset()
    assert all(t.score < T.DEFAULT.enter_score for t in T.top(state))
    assert state.recent.lower("ever0") > 1000  # volume is high: only the trend is flat


def test_a_new_hashtag_bursting_trends_within_two_buckets_and_is_reported_once(warm):
    start = WARM_MIN

    def burst(m, rng):
        return {"sgpanne": int(rng.poisson(50))} if m >= start else {}

    _state, trace = run(minutes(180, start=start, extra=burst), warm[0])
    first = onsets(trace, "sgpanne")
    assert first and first[0] <= T0 + (start + 1) * MIN  # the 1st or the 2nd bucket
    assert len(first) == 1  # three hours of sustained burst: one report
    sig = next(s for _, sigs in trace for s in sigs if s.tag == "sgpanne")
    assert sig.onset and sig.severity in L.SEVERITIES and 0.0 <= sig.score <= 1.0
    assert sig.value > sig.baseline * 5
    assert [s.tag for _, sigs in trace for s in sigs] == ["sgpanne"]  # nothing else trends


def test_a_popular_hashtag_that_doubles_trends(warm):
    start = WARM_MIN

    def double(m, rng):
        day = 1.0 + 0.7 * math.sin(2 * math.pi * m / 1440)
        return {"ever2": int(rng.poisson(2 * EVERGREEN["ever2"] * day))}

    _state, trace = run(minutes(120, start=start, extra=double), warm[0])
    assert len(onsets(trace, "ever2")) == 1
    assert onsets(trace, "ever2")[0] <= T0 + (start + 60) * MIN
    assert [s.tag for _, sigs in trace for s in sigs] == ["ever2"]


def test_top_is_bounded_and_ranked_by_trend_score_not_count(warm):
    def bursts(m, rng):
        return {f"new{i}": int(rng.poisson(5 + 5 * i)) for i in range(30)}

    state, _ = run(minutes(20, start=WARM_MIN, extra=bursts), warm[0])
    top = T.top(state, 10)
    assert len(top) == 10
    assert [t.rank for t in top] == list(range(1, 11))
    assert [t.score for t in top] == sorted((t.score for t in top), reverse=True)
    assert len(T.top(state, 500)) <= T.DEFAULT.top_n  # the rank label stays bounded
    assert T.top(state, 0) == []
    # the heaviest hashtag (an evergreen at 100/min) is outranked by new ones
    assert "ever0" not in {t.tag for t in top}
    assert all(t.tag.startswith("new") for t in top)


def test_memory_is_bounded_under_100k_one_off_hashtags():
    cfg = replace(T.DEFAULT, recent_k=256, baseline_k=512)
    state = T.initial_state(cfg)
    sizes = []
    for b in range(100):  # 100 buckets x 1,000 distinct hashtags seen once
        counts = {f"x{b}_{j}": 1 for j in range(1000)}
        state = T.fold(state, T0 + b * MIN, counts, cfg)
        assert T.evaluate(state, None, cfg) == []  # one-off noise never trends
        sizes.append(len(codec.dumps(state)))
    assert len(state.recent) <= 256 and len(state.base) <= 512
    assert len(state.status) <= 256
    assert max(sizes[50:]) < 1.2 * sizes[49]  # the stored state stopped growing
    # every occurrence is counted in the total (decayed with a 6 h half-life), none is lost
    decayed = sum(1000 * 0.5 ** ((99 - b) * MIN / T.DEFAULT.baseline_half_life_s)
                  for b in range(100))
    assert state.base.total == pytest.approx(decayed, rel=1e-9)


def test_state_round_trips_through_json(warm):
    start = WARM_MIN

    def burst(m, rng):
        return {"sgpanne": 60} if m >= start else {}

    stream = list(minutes(40, start=start, extra=burst))
    state, _ = run(stream[:20], warm[0])
    assert T.trending_tags(state)  # a trending episode is part of the state
    back = codec.loads(T.TrendState, codec.dumps(state))
    assert back == state
    a, _ = run(stream[20:], state)
    b, _ = run(stream[20:], back)
    assert a == b


def test_bucket_size_independence():
    start = WARM_MIN

    def burst(m, rng):
        return {"sgpanne": int(rng.poisson(30))} if m >= start else {}

    per_min = list(minutes(WARM_MIN + 60, extra=burst, one_offs=20))
    per_5min = []
    for i in range(0, len(per_min), 5):
        merged: dict[str, int] = {}
        for _, counts in per_min[i:i + 5]:
            for t, n in counts.items():
                merged[t] = merged.get(t, 0) + n
        per_5min.append((per_min[i][0], merged))
    s60, tr60 = run(per_min)
    s300, tr300 = run(per_5min)
    assert s60.bucket_s == 60 and s300.bucket_s == 300
    # the same alert: one onset of the new hashtag, within the same 5 minutes, nothing else
    assert [s.tag for _, sigs in tr60 for s in sigs] == ["sgpanne"]
    assert [s.tag for _, sigs in tr300 for s in sigs] == ["sgpanne"]
    t60, t300 = onsets(tr60, "sgpanne")[0], onsets(tr300, "sgpanne")[0]
    assert t300 <= t60 <= t300 + 300
    # both states saw the same events: the same rates, within a few percent (decayed counts
    # differ by the lumping of buckets, which the exposures account for)
    for tag in ("ever0", "ever5", "ever20"):
        assert (s60.recent.lower(tag) / s60.recent_exposure_s == pytest.approx(
            s300.recent.lower(tag) / s300.recent_exposure_s, rel=0.05))
        assert (s60.base.estimate(tag) / s60.base_exposure_s == pytest.approx(
            s300.base.estimate(tag) / s300.base_exposure_s, rel=0.05))
    top60 = {t.tag: t.score for t in T.top(s60, 3)}
    top300 = {t.tag: t.score for t in T.top(s300, 3)}
    assert next(iter(top60)) == next(iter(top300)) == "sgpanne"
    assert top60["sgpanne"] == pytest.approx(top300["sgpanne"], abs=0.1)


def test_hysteresis_a_new_episode_is_reported_again(warm):
    start = WARM_MIN

    def two_bursts(m, rng):
        on = start <= m < start + 60 or start + 420 <= m < start + 480
        return {"greve": int(rng.poisson(40))} if on else {}

    _state, trace = run(minutes(540, start=start, extra=two_bursts, one_offs=20), warm[0])
    got = onsets(trace, "greve")
    assert len(got) == 2
    assert got[0] < T0 + (start + 5) * MIN <= T0 + (start + 420) * MIN <= got[1]


def test_watch_filter_and_lifecycle_compatibility(warm):
    start = WARM_MIN

    def burst(m, rng):
        return {"sgpanne": 80, "other": 80} if m >= start else {}

    state, at_onset = warm[0], None
    for ts, counts in minutes(4, start=start, extra=burst):
        state = T.fold(state, ts, counts)
        if at_onset is None and T.evaluate(state):
            at_onset = state
    assert at_onset is not None and at_onset.last_ts is not None
    assert {s.tag for s in T.evaluate(at_onset)} == {"sgpanne", "other"}
    only = T.evaluate(at_onset, frozenset({"sgpanne", "ever0"}))
    assert [s.tag for s in only] == ["sgpanne"]
    assert T.evaluate(at_onset, frozenset({"nothing"})) == []
    step = L.step(L.Lifecycle(), "sg", T.ALERT_TYPE, only[0].signal(), at_onset.last_ts,
                  L.Policy())
    assert step.emission is not None and step.emission.status == "open"
    assert step.emission.severity == only[0].severity
    obs = T.tag_signal(at_onset, "sgpanne")
    assert obs is not None and obs.onset and obs.severity in L.SEVERITIES
    assert T.tag_signal(at_onset, "ever0") is None  # an evergreen hashtag: no trend
    # afterwards each hashtag keeps a continuing observation while it trends
    later = T.tag_signal(state, "sgpanne")
    assert later is not None and later.severity == "" and not later.onset and later.score > 0
    assert T.evaluate(state) == []


def test_a_handful_of_posts_in_a_quiet_scope_is_noise_not_a_trend():
    def quiet(extra: dict[str, int]) -> list[tuple[int, dict[str, int]]]:
        out = [(T0 + m * MIN, {"sncf": 1 if m % 3 == 0 else 0}) for m in range(600)]
        return out + [(T0 + (600 + m) * MIN, {"sncf": 1, **extra}) for m in range(3)]

    _, noise = run(quiet({"oneoff": 4}))
    assert [s for _, sigs in noise for s in sigs] == []
    _, burst = run(quiet({"retard": 12}))
    assert [s.tag for _, sigs in burst for s in sigs] == ["retard"]
