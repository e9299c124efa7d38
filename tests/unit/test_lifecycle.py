"""Incident lifecycle: open, update, resolved; cooldown, hysteresis, cap, deterministic ids."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from streams import codec
from streams.alerts.lifecycle import Lifecycle, Policy, Signal, alert_id, step

P = Policy(cooldown_s=1800, max_updates_per_hour=3, resolve_after_s=600, deescalate_after_s=900,
           min_update_gap_s=300, material_change=0.5)


def obs(sev: str, value: float, bucket: int, onset: bool = False) -> Signal:
    return Signal("volume_spike", None, sev, 0.7, value, 5.0, bucket, onset)


def test_open_then_resolve_then_cooldown_then_reopen() -> None:
    lc = Lifecycle()
    r = step(lc, "socgen", "volume_spike", obs("warning", 50, 0, onset=True), 60, P)
    assert r.emission is not None and r.emission.status == "open"
    assert r.emission.alert_id == alert_id("socgen", "volume_spike", 0)
    assert r.emission.sequence == 0
    lc = r.state
    for t in range(120, 660, 60):  # normal for 540 s: not yet resolved
        r = step(lc, "socgen", "volume_spike", None, t, P)
        assert r.emission is None
        lc = r.state
    r = step(lc, "socgen", "volume_spike", None, 720, P)
    assert r.emission is not None and r.emission.status == "resolved"
    assert r.emission.sequence == 1
    lc = r.state
    assert lc.incident is None
    r = step(lc, "socgen", "volume_spike", obs("crisis", 90, 900, onset=True), 960, P)
    assert r.emission is None and r.suppressed == "cooldown"
    r = step(lc, "socgen", "volume_spike", obs("crisis", 90, 3000, onset=True), 3060, P)
    assert r.emission is not None and r.emission.status == "open"
    assert r.emission.alert_id == alert_id("socgen", "volume_spike", 3000)


def test_escalates_at_once_and_deescalates_slowly() -> None:
    lc = step(Lifecycle(), "w", "volume_spike", obs("watch", 10, 0, True), 60, P).state
    r = step(lc, "w", "volume_spike", obs("crisis", 12, 60), 120, P)
    assert r.emission is not None and r.emission.reason == "escalation"
    assert r.emission.severity == "crisis"
    lc = r.state
    emitted = []
    for t in range(180, 180 + 1200, 60):
        r = step(lc, "w", "volume_spike", obs("watch", 12, t - 60), t, P)
        lc = r.state
        if r.emission:
            emitted.append((t, r.emission.reason, r.emission.severity))
    assert emitted == [(180 + 900, "de_escalation", "watch")]


def test_material_change_updates_are_spaced_and_capped() -> None:
    lc = step(Lifecycle(), "w", "volume_spike", obs("warning", 10, 0, True), 60, P).state
    reasons = []
    value = 10.0
    for t in range(120, 7200, 60):
        value *= 1.2
        r = step(lc, "w", "volume_spike", obs("warning", value, t - 60), t, P)
        lc = r.state
        if r.emission:
            reasons.append((t, r.emission.reason))
    times = [t for t, _ in reasons]
    assert all(b - a >= P.min_update_gap_s for a, b in itertools.pairwise(times))
    for t in times:  # at most 3 updates in any hour
        assert sum(1 for u in times if t - 3600 < u <= t) <= P.max_updates_per_hour


def test_an_ongoing_signal_without_level_keeps_severity() -> None:
    lc = step(Lifecycle(), "w", "volume_spike", obs("crisis", 10, 0, True), 60, P).state
    r = step(lc, "w", "volume_spike", obs("", 11, 60), 120, P)
    assert r.emission is None
    assert r.state.incident is not None and r.state.incident.severity == "crisis"


def test_lifecycle_round_trips() -> None:
    lc = step(Lifecycle(), "w", "volume_spike", obs("crisis", 10, 0, True), 60, P).state
    assert codec.loads(Lifecycle, codec.dumps(lc)) == lc


@given(st.text(max_size=20), st.sampled_from(["volume_spike", "bad_buzz"]),
       st.integers(0, 2**40))
def test_alert_ids_are_deterministic_and_distinct(watch: str, kind: str, bucket: int) -> None:
    a = alert_id(watch, kind, bucket)
    assert a == alert_id(watch, kind, bucket)
    assert len(a) == 32
    assert a != alert_id(watch, kind, bucket + 60)
