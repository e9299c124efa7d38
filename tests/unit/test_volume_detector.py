"""Unit tests of the pure volume-spike detector: calibration, onset once, escalation, warm-up."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.detectors import volume as V

T0 = 1_700_000_000.0 - (1_700_000_000.0 % 86400)  # a UTC midnight
DAY = 86400.0


def feed(counts, step_s=300.0, t0=T0, state=None, cfg=V.DEFAULT):
    """Run counts through the detector; return final state and per-bucket (ts, state)."""
    state = state or V.initial_state(cfg)
    trace = []
    for i, c in enumerate(counts):
        ts = t0 + i * step_s
        state = V.update(state, ts, float(c), cfg)
        trace.append((ts, state))
    return state, trace


def poisson(rate_per_bucket, n, seed=0):
    return np.random.default_rng(seed).poisson(rate_per_bucket, n).tolist()


def signals(trace, cfg=V.DEFAULT):
    return [s for _, st_ in trace if (s := V.evaluate(st_, cfg)) is not None]


def reports(trace):
    return [s for _, s in trace if s.score > 0]


def episodes(trace, start=0):
    """Peak return period of every spike (onset to re-arm) from bucket index start on."""
    peaks: list[float] = []
    for _, s in trace[start:]:
        if not s.elevated:
            continue
        if s.onset or not peaks:
            peaks.append(s.return_days)
        else:
            peaks[-1] = max(peaks[-1], s.return_days)
    return peaks


# -- the score's meaning -------------------------------------------------------------------

def test_score_is_a_return_period_on_a_fixed_scale():
    cfg = V.DEFAULT
    assert V.score_of(cfg.watch_days) == 0.5
    assert abs(V.score_of(cfg.warning_days) - 0.6) < 1e-12
    assert cfg.alert_threshold == V.score_of(cfg.warning_days)
    assert 0.78 < V.score_of(cfg.crisis_days) < 0.8
    days = [0.1, 1, 3, 10, 30, 365, 1e4, 1e300, math.inf]
    scores = [V.score_of(d) for d in days]
    assert scores == sorted(scores) and all(0.0 <= s < 1.0 for s in scores)
    assert [V.severity_of(V.score_of(d)) for d in (10, 30, 365)] == list(V.SEVERITIES)


# calibration: on stationary counts the false alarms per day match what the level promises.
# Levels of one and three days (the product alerts at 30 days) so that a fortnight holds
# enough spikes to test the rate; the simulated weeks of streams/eval/volume_sim.py test the
# product's own level.
CURVE = V.VolumeConfig(watch_days=1.0, warning_days=3.0)


def _rate_ratio(counts, step_s, warm_buckets, level):
    _, trace = feed(counts, step_s=step_s, cfg=CURVE)
    days = (len(counts) - warm_buckets) * step_s / DAY
    n = sum(p >= level for p in episodes(trace, warm_buckets))
    return n, days / level


@settings(max_examples=4, deadline=None)
@given(level_per_min=st.sampled_from([0.3, 3.0, 40.0]), seed=st.integers(0, 10_000))
def test_calibrated_on_stationary_poisson_of_any_level(level_per_min, seed):
    # 20 promised spikes of at least a one-day rarity; measured on simulated watches the
    # detector gives 0.4-0.8 of the promise at this level (VOLUME.md): never none, never a
    # multiple of it.  A count outside [3, 40] at a true rate of 8-16 has p < 0.2 %.
    step_s = 60.0
    warm = int(4 * DAY / step_s)
    n = warm + int(20 * DAY / step_s)
    counts = poisson(level_per_min, n, seed)
    alarms, promised = _rate_ratio(counts, step_s, warm, 1.0)
    assert 3 <= alarms <= 40, (level_per_min, alarms, promised)


@pytest.mark.parametrize(("mean", "seed"), [(5.0, 0), (5.0, 1), (60.0, 0), (60.0, 1)])
def test_calibrated_on_stationary_negative_binomial(mean, seed):
    # over-dispersion k = 0.05 (cv 22 %). Measured on seeds 0-11 (2026-12-02): 46-60 alarms
    # at mean 5 and 52-67 at mean 60 where 30 are promised, i.e. 1.5-2.2x the promise: the
    # dispersion, fitted on the median residual, under-reads a gamma-mixed tail (a known
    # limit, VOLUME.md). Fixed seeds: the bound is a regression guard, not a random draw.
    step_s = 300.0
    rng = np.random.default_rng(seed)
    warm = int(4 * DAY / step_s)
    n = warm + int(30 * DAY / step_s)
    k = 0.05
    counts = rng.poisson(rng.gamma(1.0 / k, mean * k, n)).tolist()
    alarms, promised = _rate_ratio(counts, step_s, warm, 1.0)
    assert 0.5 * promised <= alarms <= 2.5 * promised, (mean, alarms, promised)
    if mean >= 60.0:  # where the gamma noise outweighs the Poisson noise, k carries it
        state = feed(counts, step_s=step_s, cfg=CURVE)[0]
        extra = math.exp(state.log_k[0]) * state.ev_mean[0] ** 2
        assert extra > state.ev_var[0], (extra, state.ev_var[0])


def test_return_period_does_not_depend_on_the_watch_size():
    # the same relative spike is rarer on a big watch (more evidence); the same z is not
    small, big = 0.5, 50.0
    out = []
    for rate in (small, big):
        base = poisson(rate, int(3 * DAY / 60), seed=int(rate))
        _, trace = feed([*base, *poisson(rate * 4, 30, seed=7)], step_s=60.0)
        out.append(max(s.return_days for _, s in trace[len(base):]))
    assert out[1] > out[0] >= V.DEFAULT.watch_days


# -- onset once, escalation, re-arm, warm-up --------------------------------------------------

def spike_series(mult, base=20.0, days=3.0, spike_buckets=12, after=48, seed=1):
    n0 = int(days * DAY / 300)
    counts = poisson(base, n0, seed) + poisson(base * mult, spike_buckets, seed + 1)
    return counts + poisson(base, after, seed + 2), n0


def test_flat_poisson_noise_gives_no_alert():
    for rate in (0.3, 5.0, 200.0):
        _, trace = feed(poisson(rate, int(6 * DAY / 300), seed=int(rate * 10)))
        assert signals(trace) == [], rate


def test_step_spike_reported_once_at_onset():
    counts, n0 = spike_series(10.0)
    _, trace = feed(counts)
    sigs = signals(trace)
    assert len(sigs) == 1
    assert sigs[0].onset and sigs[0].bucket_ts == T0 + n0 * 300
    assert sigs[0].ratio > 5 and sigs[0].severity == "crisis"
    assert len(reports(trace[n0:])) == 1  # a 12-bucket plateau scores once, not twelve times


def test_severity_grows_with_magnitude():
    scores = []
    for mult in (1.6, 2.5, 10.0):
        counts, n0 = spike_series(mult)
        _, trace = feed(counts)
        scores.append(max(s.score for _, s in trace[n0:n0 + 12]))
    assert scores == sorted(scores) and scores[0] < scores[-1]
    assert V.severity_of(scores[-1]) == "crisis"


def test_escalation_reports_each_severity_once_and_spaces_them():
    # a spike that keeps growing for two hours: the onset, then one report per severity
    # upgrade; the first alert-level report at once, later ones escalation_gap_s apart
    base = poisson(20.0, int(3 * DAY / 300), seed=21)
    ramp = [round(20 * 1.06**i) for i in range(36)]
    _, trace = feed(base + ramp)
    reps = reports(trace[len(base):])
    assert reps[0].onset and not any(r.onset for r in reps[1:]) and len(reps) >= 2
    ranks = [V.SEVERITIES.index(r.severity) for r in reps]
    assert ranks == sorted(set(ranks)) and ranks[-1] == 2
    alert_level = [r for r in reps if r.score >= V.DEFAULT.alert_threshold]
    for a, b in itertools.pairwise(alert_level):
        assert b.last_ts - a.last_ts >= V.DEFAULT.escalation_gap_s


def test_rearms_after_return_to_normal():
    # a one-hour spike stays one spike while its posts still weigh on the 4-hour scale; once
    # every scale reads as ordinary for rearm_s the detector re-arms and a new spike is an onset
    counts, n0 = spike_series(8.0, after=0)
    quiet = poisson(20.0, int(16 * 3600 / 300), seed=8)
    second = len(counts) + len(quiet)
    counts += [*quiet, *poisson(20.0 * 25, 6, seed=9)]
    _, trace = feed(counts)
    assert V.is_elevated(trace[n0 + 3][1]) and V.is_elevated(trace[n0 + 24][1])
    assert not trace[second - 1][1].elevated
    assert [ts for ts, s in trace[n0 - 1:] if s.onset] == [T0 + n0 * 300, T0 + second * 300]
    assert len(signals(trace)) == 2


def test_nothing_is_reported_during_the_warm_up_and_its_spike_is_not_reported_later():
    counts = poisson(20.0, 120, seed=12)
    counts[60:72] = [600] * 12  # five hours in: a big spike while warming up
    counts += poisson(20.0, int(DAY / 300), seed=13)
    _, trace = feed(counts)
    warm = [s for ts, s in trace if ts - T0 < V.DEFAULT.warmup_s]
    assert all(s.score == 0.0 for s in warm) and any(s.elevated for s in warm)
    assert signals(trace) == []
    late, _ = spike_series(10.0, days=1.5)
    _, trace = feed(late)
    assert len(signals(trace)) == 1  # once warm, the same kind of spike alerts


def test_self_calibration_quietens_a_watch_that_bursts_every_day():
    # a watch with a 12x burst of 15 minutes every day: the model alone calls each one rarer
    # than a year; the watch's own history makes them ordinary within a week or so, while a
    # burst three times bigger still alerts
    for seed in range(3):
        rng = np.random.default_rng(seed)
        counts = []
        for day in range(14):
            c = rng.poisson(10.0, 288).tolist()
            c[150 + day % 5:153 + day % 5] = rng.poisson(120.0, 3).tolist()
            counts += c
        _, trace = feed(counts)
        alerting = [any(s.score >= V.DEFAULT.alert_threshold for _, s in trace[d * 288:
                                                                                (d + 1) * 288])
                    for d in range(14)]
        assert sum(alerting[1:6]) >= 3 and sum(alerting[9:14]) <= 2, (seed, alerting)
        late = [max(s.return_days for _, s in trace[d * 288 + 140:d * 288 + 170])
                for d in range(9, 14)]
        assert float(np.median(late)) < V.DEFAULT.watch_days, (seed, late)
        state = trace[-1][1]
        tail = [*poisson(10.0, 40, 5), *poisson(400.0, 3, 6)]
        _, trace = feed(tail, t0=T0 + 14 * DAY, state=state)
        assert signals(trace), seed


# -- state, gaps, bucket size ------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 500), min_size=2, max_size=120),
    split=st.integers(1, 119),
    step_s=st.sampled_from([60.0, 300.0]),
)
def test_state_round_trips_and_resumes_identically(counts, split, step_s):
    split = min(split, len(counts) - 1)
    cfg = V.VolumeConfig(warmup_s=step_s * 10)  # let the alert logic run on short inputs
    mid, _ = feed(counts[:split], step_s=step_s, cfg=cfg)
    restored = V.VolumeState.from_dict(json.loads(json.dumps(mid.to_dict())))
    assert restored == mid
    a, trace_a = feed(counts[split:], step_s=step_s, t0=T0 + split * step_s, state=mid, cfg=cfg)
    b, trace_b = feed(counts[split:], step_s=step_s, t0=T0 + split * step_s, state=restored,
                      cfg=cfg)
    assert a == b
    assert [s.score for _, s in trace_a] == [s.score for _, s in trace_b]
    assert all(0.0 <= s.score < 1.0 for _, s in trace_a)


def test_a_state_written_by_the_previous_detector_is_resumed():
    old = {"first_ts": T0, "last_ts": T0 + 3000, "step_s": 300.0, "n": 10, "level": 0.05,
           "daily": [1.0] * 24, "daily_w": [1.0] * 24, "weekly": [1.0] * 7,
           "weekly_w": [0.0] * 7, "ev_count": [3.0, 40.0], "ev_mean": [3.0, 40.0],
           "ev_num": [0.1, 0.1], "ev_den": [1.0, 1.0], "peak": [0.1, 0.1], "ref": [0.0, 0.0],
           "best": 0.0, "novelty": 0.5}
    state = V.VolumeState.from_dict(old)
    state, trace = feed(poisson(15.0, 300, 3), t0=T0 + 3300, state=state)
    assert len(state.ev_var) == len(V.DEFAULT.evidence_s) and signals(trace) == []


def test_gaps_are_tolerated():
    rng = np.random.default_rng(5)
    state = V.initial_state()
    trace = []
    for i in range(int(4 * DAY / 300)):
        if 600 <= i < 672:  # six hours without buckets
            continue
        ts = T0 + i * 300
        state = V.update(state, ts, float(rng.poisson(20)))
        trace.append((ts, state))
    assert state.step_s == 300.0
    assert signals(trace) == []
    t_spike = T0 + 4 * DAY + 8 * 3600  # a spike right after another gap of eight hours
    state = V.update(state, t_spike, 400.0)
    assert state.onset and V.evaluate(state) is not None
    assert V.update(state, t_spike, 5.0) == state  # a repeated bucket is ignored


def test_bucket_size_independence():
    rate_per_s = 20.0 / 300.0
    results = {}
    for step_s in (60.0, 300.0):
        rng = np.random.default_rng(int(step_s))
        n0 = int(4 * DAY / step_s)
        counts = rng.poisson(rate_per_s * step_s, n0).tolist()
        counts += rng.poisson(rate_per_s * step_s * 10, int(1800 / step_s)).tolist()
        counts += rng.poisson(rate_per_s * step_s, int(3600 / step_s)).tolist()
        state, trace = feed(counts, step_s=step_s)
        spike_t0 = T0 + n0 * step_s
        assert signals(trace[:n0]) == []
        sigs = signals(trace)
        assert sum(s.onset for s in sigs) <= 1 and 1 <= len(sigs) <= 2, step_s
        assert spike_t0 <= sigs[0].bucket_ts <= spike_t0 + 300, step_s
        results[step_s] = V.expected(state, spike_t0 + 7200) / step_s
    for step_s, rate in results.items():
        assert abs(rate / rate_per_s - 1) < 0.2, step_s


# -- baseline ------------------------------------------------------------------------------

def daily_rate(ts):
    hour = (ts % DAY) / 3600.0
    # quiet nights, a sharp morning ramp to a busy afternoon
    return 4.0 + 56.0 * max(0.0, math.sin(math.pi * (hour - 7.0) / 14.0)) ** 2


def test_daily_seasonality_is_learnt():
    rng = np.random.default_rng(3)
    n = int(12 * DAY / 300)
    counts = [rng.poisson(daily_rate(T0 + i * 300)) for i in range(n)]
    state, trace = feed(counts)
    assert signals([(ts, s) for ts, s in trace if ts >= T0 + 3 * DAY]) == []
    peak_ts = T0 + 12 * DAY + 14 * 3600
    assert abs(V.expected(state, peak_ts) / daily_rate(peak_ts) - 1) < 0.15
    night_ts = T0 + 12 * DAY + 3 * 3600
    assert abs(V.expected(state, night_ts) / daily_rate(night_ts) - 1) < 0.25


def _hourly_expected_ratios(rate_of, step_s, days, start_s, seed):
    """expected()/true rate at the top of every hour from start_s to the end of the feed."""
    rng = np.random.default_rng(seed)
    state = V.initial_state()
    ratios = []
    for i in range(int(days * DAY / step_s)):
        ts = T0 + i * step_s
        state = V.update(state, ts, float(rng.poisson(rate_of(ts) * step_s)))
        nxt = ts + step_s
        if nxt - T0 >= start_s and (nxt - T0) % 3600 == 0:
            ratios.append(V.expected(state, nxt) / (rate_of(nxt + step_s / 2) * step_s))
    return ratios


def test_flat_baseline_is_the_true_rate_from_warm_up_on():
    # regression: profiles renormalised over never-seen slots shrank the seen ones, and the
    # level inflated to compensate (15x the rate at 33 h, 130x after four days).  Each hour's
    # slot is fitted on its own: at 3 posts per 5 minutes its noise is about +-20 %.
    for step_s in (60.0, 300.0):
        ratios = _hourly_expected_ratios(lambda ts, s=step_s: 3.0 / s, step_s, 4,
                                         V.DEFAULT.warmup_s, seed=int(step_s))
        assert len(ratios) >= 70
        assert all(abs(r - 1) < 0.4 for r in ratios), (step_s, min(ratios), max(ratios))
        assert abs(float(np.median(ratios)) - 1) < 0.1


def test_seasonal_baseline_tracks_the_daily_rate_after_two_days():
    for step_s in (60.0, 300.0):
        ratios = _hourly_expected_ratios(lambda ts: daily_rate(ts) / 300.0, step_s, 5,
                                         2 * DAY, seed=7)
        assert len(ratios) >= 70
        assert all(abs(r - 1) < 0.35 for r in ratios), (step_s, min(ratios), max(ratios))


# -- NAB adapter ---------------------------------------------------------------------------

def test_nab_adapter_scores_only_onsets_and_escalations():
    counts, n0 = spike_series(10.0)
    det = V.NabDetector()
    scores = [det.update(T0 + i * 300, c) for i, c in enumerate(counts)]
    assert all(0.0 <= s <= 1.0 for s in scores)
    scored = [i for i, s in enumerate(scores) if s > 0]
    assert scored == [n0]  # a 10x step is a crisis at once: one row, nothing on the plateau
