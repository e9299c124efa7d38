"""What a crisis cell lives through on the built-in scenarios, against their ground truth.

Each scenario is replayed offline through the engine (no Kafka: deterministic) and its
situations (social.alerts) scored with `vigie eval alerts`' scorer: every true situation
detected, no later than the first per-type signal (what the crisis cell received before
situations existed), one situation per true situation, at most 10 messages per situation per
day, no flap, and nothing on quiet days or on the watches without an incident.
"""

from __future__ import annotations

from typing import Any

import pytest

from streams.dev.eval.alerts import score
from tests.unit.scenario_runs import replay, truth

WITH_INCIDENTS = ("bank-bad-buzz", "crisis-week", "mobilisation", "night-waves", "two-fronts")


def _reports(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    run = replay(name)
    return score(run.situations, truth(name)), score(run.signals, truth(name))


@pytest.mark.parametrize("name", WITH_INCIDENTS)
def test_every_true_situation_is_told_once_calmly_and_no_later_than_its_first_signal(
        name: str) -> None:
    sits, sigs = _reports(name)
    for sit, sig in zip(sits["situations"], sigs["situations"], strict=True):
        if not sit["required"]:
            continue  # an organic trend may or may not be a situation
        label = (name, sit["names"])
        assert sit["detected"], label
        assert sit["time_to_first_alert_s"] <= sig["time_to_first_alert_s"], (label, sit, sig)
        assert sit["incidents"] == 1, (label, sit)
        assert sit["max_messages_per_incident_day"] <= 10, (label, sit)
        assert sit["flaps"] == 0, (label, sit)
    assert sits["totals"]["false_incidents"] == 0, sits["false_incidents"]


def test_a_campaign_in_waves_through_the_night_is_one_situation_not_dozens() -> None:
    sits, sigs = _reports("night-waves")
    day_two = sits["situations"][0]
    assert "SGvoleurs" in day_two["names"]
    assert day_two["incidents"] == 1 and day_two["flaps"] == 0
    # the same day through per-type signals: many incidents and flaps, which is why situations
    assert sigs["situations"][0]["incidents"] >= 10
    assert sigs["situations"][0]["messages"] >= 5 * day_two["messages"]


def test_a_quiet_week_raises_no_situation_on_any_watch() -> None:
    sits, _ = _reports("quiet-week")
    assert sits["totals"]["quiet_days"] >= 7
    assert sits["totals"]["incidents"] == 0, sits["false_incidents"]


def test_the_demo_tells_the_scripted_incident_and_nothing_else() -> None:
    run = replay("bank-bad-buzz")
    assert {d["watch"]["id"] for d in run.situations} == {"socgen"}
