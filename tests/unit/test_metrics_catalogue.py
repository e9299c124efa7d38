"""The vigie_* catalogue: Prometheus naming, bounded labels, series that exist before use.

Values are read from a private registry (one per test)."""

from __future__ import annotations

from dataclasses import fields

from prometheus_client import CollectorRegistry

from streams import __version__
from streams.events.decode import REASONS
from streams.metrics import (
    CAMPAIGN_CLASSES,
    HELD_REASONS,
    REDIS_OPS,
    SUPPRESSION_REASONS,
    catalogue,
    init_build_info,
)
from streams.outputs.sinks import OUTCOMES, build_sinks
from streams.settings import Settings
from streams.worker.context import build_context

UNBOUNDED = {"hashtag", "tag", "handle", "author", "url", "post", "post_id", "id", "text"}


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_names_follow_prometheus_conventions() -> None:
    m = catalogue()
    for fam in m.registry.collect():
        assert fam.name.startswith("vigie_"), fam.name
        if fam.type == "counter":  # the client strips _total from the family name
            assert not fam.name.endswith("_total"), fam.name
        if fam.type == "histogram":
            assert fam.name.endswith("_seconds"), fam.name
        if fam.type == "gauge":
            assert not fam.name.endswith("_total"), fam.name


def test_labels_are_bounded() -> None:
    m = catalogue()
    for f in fields(m):  # label names have no public accessor in prometheus_client
        labels = set(getattr(getattr(m, f.name), "_labelnames", ()))
        assert not labels & UNBOUNDED, (f.name, labels)


def test_the_campaign_gauges_are_catalogued_with_their_labels() -> None:
    m = catalogue()
    assert m.mobilisation_share._labelnames == ("watch",)
    assert m.campaigns_active._labelnames == ("watch", "class")
    assert set(CAMPAIGN_CLASSES) == {"employee_mobilisation", "coordinated_inauthentic",
                                     "organic"}


def test_init_creates_every_watch_and_class_at_zero() -> None:
    m = catalogue()
    init_build_info(m, ("bad_json",), watches=["socgen", "orange"])
    r = m.registry
    for w in ("socgen", "orange"):
        assert _value(r, "vigie_mobilisation_share", watch=w) == 0.0
        for cls in CAMPAIGN_CLASSES:
            assert _value(r, "vigie_campaigns_active", watch=w, **{"class": cls}) == 0.0
    assert _value(r, "vigie_mobilisation_share", watch="sncf") is None
    assert _value(r, "vigie_dead_letters_total", reason="bad_json") == 0.0
    for op in REDIS_OPS:
        assert _value(r, "vigie_redis_errors_total", op=op) == 0.0


def test_the_campaign_gauges_take_values_per_watch_and_class() -> None:
    m = catalogue()
    init_build_info(m, watches=["socgen"])
    m.mobilisation_share.labels("socgen").set(0.42)
    m.campaigns_active.labels("socgen", "employee_mobilisation").set(2)
    r = m.registry
    assert _value(r, "vigie_mobilisation_share", watch="socgen") == 0.42
    assert _value(r, "vigie_campaigns_active", watch="socgen",
                  **{"class": "employee_mobilisation"}) == 2.0
    assert _value(r, "vigie_campaigns_active", watch="socgen", **{"class": "organic"}) == 0.0


def test_a_worker_runtime_creates_the_series_of_every_configured_watch() -> None:
    rt = build_context(Settings(), CollectorRegistry())
    r = rt.metrics.registry
    ids = [w.id for w in rt.engine.matcher.watches]
    assert ids
    for w in ids:
        assert _value(r, "vigie_mobilisation_share", watch=w) == 0.0
        for cls in CAMPAIGN_CLASSES:
            assert _value(r, "vigie_campaigns_active", watch=w, **{"class": cls}) == 0.0
    for reason in REASONS:
        assert _value(r, "vigie_dead_letters_total", reason=reason) == 0.0
    assert _value(r, "vigie_build_info", version=__version__) == 1.0
    info = {s.labels.get("app_id") for fam in r.collect() if fam.name == "vigie_worker"
            for s in fam.samples}
    assert info == {Settings().app_id}


def test_the_latency_histogram_exists_at_zero_for_every_alert_type_of_the_contract() -> None:
    import json
    from pathlib import Path

    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" /
                         "signal.v1.schema.json").read_text())
    types = ["situation", *schema["properties"]["type"]["enum"]]
    r = build_context(Settings()).metrics.registry
    for t in types:  # before any alert: rate() sees the first one even between two scrapes
        assert _value(r, "vigie_alert_latency_seconds_count", type=t) == 0.0, t


def test_suppression_series_exist_at_zero_per_watch_type_and_reason() -> None:
    m = catalogue()
    init_build_info(m, watches=["socgen"], alert_types=("bad_buzz", "volume_spike"))
    r = m.registry
    for t in ("bad_buzz", "volume_spike"):
        for reason in SUPPRESSION_REASONS:
            assert _value(r, "vigie_signals_suppressed_total", watch="socgen", type=t,
                          reason=reason) == 0.0
    assert _value(r, "vigie_signals_suppressed_total", watch="orange", type="bad_buzz",
                  reason="cooldown") is None
    m.signals_suppressed.labels("socgen", "bad_buzz", "rate_limited").inc()
    assert _value(r, "vigie_signals_suppressed_total", watch="socgen", type="bad_buzz",
                  reason="rate_limited") == 1.0
    for why in HELD_REASONS:  # the situation's held-back changes, and its level, read 0
        assert _value(r, "vigie_situation_changes_held_total", watch="socgen", why=why) == 0.0
    assert _value(r, "vigie_watch_level", watch="socgen") == 0.0


def test_every_configured_sink_has_its_delivery_series_at_zero() -> None:
    m = catalogue()
    sinks = build_sinks(Settings(webhook_url="http://127.0.0.1:9/hook", webhook_secret="s",
                                 grafana_url="http://127.0.0.1:9"), m)
    names = [s.name for s in sinks]
    assert len(names) == 2
    for name in names:
        for outcome in OUTCOMES:
            assert _value(m.registry, "vigie_alert_deliveries_total", sink=name,
                          outcome=outcome) == 0.0
    assert {"delivered", "retry", "dropped_queue_full", "dropped_gave_up",
            "dropped_client_error"} == set(OUTCOMES)
    assert build_sinks(Settings(), catalogue()) == []
