"""Simulator scenarios replayed through a real worker: the expected alerts and no others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from streams import topics
from streams.dev import scenarios, simulate
from streams.events.schemas import validator
from tests.integration.harness import batched, metric, produce, read_all, stack

END = datetime(2026, 3, 13, 20, 0, tzinfo=UTC)  # a Friday evening, Paris time
DETECT_WITHIN = timedelta(minutes=20)


def replay(tmp: Any, redis_url: str, sc: simulate.Scenario, seed: int,
           expect: Any = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The signals and situations of a scenario: signals read until the worker has taken
    every record (and, given expect, until expect(signals) holds: the incident the test looks
    for, which a loaded machine may take a minute to reach), then until the topic stays idle;
    then the situations."""
    lines = [orjson.dumps(ev) for ev in simulate.generate(sc, seed=seed)]
    records = list(batched(lines))
    with stack(tmp, redis_url, f"it-sc-{tmp.name[-8:]}") as st:
        st.start_worker()
        produce(st.broker.bootstrap, records)
        alerts = read_all(st.broker.bootstrap, topics.SIGNALS.name, idle_s=15.0, timeout_s=300,
                          until=lambda docs: (expect is None or expect(docs)) and metric(
                              st.port, "vigie_records_in_total") >= len(records))
        situations = read_all(st.broker.bootstrap, topics.ALERTS.name, idle_s=5.0,
                              timeout_s=60)
        # buckets must never close before their data is in (that would fake spikes)
        late = metric(st.port, "vigie_partials_late_total")
        print(f"{sc.name}: {len(lines)} events, {len(alerts)} alerts, late partials {late}, "
              f"duplicates {metric(st.port, 'vigie_partials_duplicate_total')}, rebalances "
              f"{metric(st.port, 'vigie_rebalances_total')}, late events "
              f"{metric(st.port, 'vigie_dead_letters_total', reason='late')}")
        assert late == 0
        return alerts, situations


@pytest.fixture(scope="module")
def crisis_week(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Any:
    sc = scenarios.crisis_week(end=END, days=4.0)
    return sc, *replay(tmp_path_factory.mktemp("crisis"), redis_server.url, sc, seed=31,
                      expect=lambda docs: any(a["watch"]["id"] == "orange" and a["type"] in (
                          "volume_spike", "bad_buzz") for a in docs))


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Any:
    sc = scenarios.quiet_days(end=END, days=2.5)
    return sc, *replay(tmp_path_factory.mktemp("quiet"), redis_server.url, sc, seed=37)


def _opens(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in alerts if a["status"] == "open"]


def test_signals_and_situations_are_valid(crisis_week: Any) -> None:
    for schema, docs in (("signal.v1", crisis_week[1]), ("alert.v2", crisis_week[2])):
        v = validator(schema)
        for a in docs:
            doc = {k: x for k, x in a.items() if k != "_ts"}
            assert not list(v.iter_errors(doc)), doc


def test_one_situation_on_the_telecom_watch_and_none_elsewhere(crisis_week: Any) -> None:
    sc, _, situations = crisis_week
    truth = next(i for i in sc.truth()["incidents"] if i["watch"] == "orange")
    onset = datetime.fromisoformat(truth["onset"])
    assert {a["watch"]["id"] for a in situations} == {"orange"}, [
        (a["watch"]["id"], a["status"], a["changes"]) for a in situations]
    assert len({a["situation_id"] for a in situations}) == 1
    opened = datetime.fromisoformat(min(a["opened_at"] for a in situations))
    assert onset - timedelta(minutes=1) <= opened <= onset + DETECT_WITHIN, (onset, opened)


def test_the_telecom_bad_buzz_is_detected_on_the_right_watch_in_time(crisis_week: Any) -> None:
    sc, alerts, _ = crisis_week
    truth = next(i for i in sc.truth()["incidents"] if i["watch"] == "orange")
    onset = datetime.fromisoformat(truth["onset"])
    opens = [a for a in _opens(alerts) if a["watch"]["id"] == "orange"]
    kinds = {a["type"] for a in opens}
    assert kinds & {"volume_spike", "bad_buzz"}, opens
    first = min(datetime.fromisoformat(a["opened_at"]) for a in opens
                if a["type"] in ("volume_spike", "bad_buzz"))
    assert onset - timedelta(minutes=1) <= first <= onset + DETECT_WITHIN, (onset, first)


def test_no_alert_for_the_unrelated_viral_hashtag_or_the_sports_wave(crisis_week: Any) -> None:
    _, alerts, _ = crisis_week
    opens = [a for a in _opens(alerts) if a["watch"]["id"] != "orange"
             and a["type"] != "influencer_engaged"]
    assert opens == [], [(a["watch"]["id"], a["type"], a["opened_at"]) for a in opens]


def test_quiet_days_raise_nothing(quiet: Any) -> None:
    sc, alerts, situations = quiet
    assert situations == [], situations
    buckets = int((sc.end - sc.start).total_seconds() // 60) * len(sc.chatter_per_min)
    by_type: dict[str, int] = {}
    for a in _opens(alerts):
        by_type[a["type"]] = by_type.get(a["type"], 0) + 1
    print(f"quiet-days opens per type {by_type} over {buckets} watch-buckets "
          f"= {len(_opens(alerts)) / buckets:.5f} per watch-bucket")
    incidents = [a for a in _opens(alerts) if a["type"] != "influencer_engaged"]
    assert incidents == [], [(a["watch"]["id"], a["type"]) for a in incidents]
