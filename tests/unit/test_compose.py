"""docker-compose.yml and infra/ stay consistent with the code (no Docker engine runs here)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from streams import topics
from streams.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_stack_has_every_service() -> None:
    assert {"kafka", "topic-init", "redis", "worker-1", "worker-2", "replay", "prometheus",
            "grafana"} <= set(SERVICES)
    assert "apache/kafka" in SERVICES["kafka"]["image"]
    assert "broker,controller" in SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]


def test_worker_env_names_real_settings() -> None:
    known = {ENV_PREFIX + f.upper() for f in Settings.__dataclass_fields__}
    for name in ("worker-1", "worker-2", "topic-init", "replay"):
        env = SERVICES[name]["environment"]
        assert set(env) <= known, set(env) - known
        assert env["VIGIE_KAFKA_BROKERS"].split(":")[0] == "kafka"
        assert env["VIGIE_REDIS_URL"].startswith("redis://redis:")


def test_two_workers_share_one_consumer_group() -> None:
    assert SERVICES["worker-1"]["environment"]["VIGIE_APP_ID"] == \
        SERVICES["worker-2"]["environment"]["VIGIE_APP_ID"]
    assert SERVICES["worker-1"]["command"] == ["worker"]


def test_prometheus_scrapes_the_workers_web_port() -> None:
    prom = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    targets = prom["scrape_configs"][0]["static_configs"][0]["targets"]
    port = SERVICES["worker-1"]["environment"]["VIGIE_WEB_PORT"]
    assert targets == [f"worker-1:{port}", f"worker-2:{port}"]


def test_every_mounted_path_exists() -> None:
    for svc in SERVICES.values():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), src


def test_grafana_provisioning_and_anonymous_access_off() -> None:
    env = SERVICES["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    ds = yaml.safe_load((ROOT / "infra/grafana/provisioning/datasources/prometheus.yml")
                        .read_text())
    uid = ds["datasources"][0]["uid"]
    for dash in (ROOT / "infra/grafana/dashboards").glob("*.json"):
        doc = json.loads(dash.read_text())
        for panel in doc["panels"]:
            assert panel["datasource"]["uid"] == uid


def test_dashboards_only_use_catalogued_metrics() -> None:
    from streams.metrics import catalogue

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
                "info": ("_info",), "gauge": ("",)}
    names = {fam.name + sfx for fam in catalogue().registry.collect()
             for sfx in suffixes[fam.type]}
    dashboards = sorted((ROOT / "infra/grafana/dashboards").glob("*.json"))
    assert {d.name for d in dashboards} >= {"crisis-cell.json", "pipeline-health.json"}
    for dash in dashboards:
        for panel in json.loads(dash.read_text())["panels"]:
            assert panel["targets"], (dash.name, panel["title"])
            for t in panel["targets"]:
                used = {w for w in _idents(t["expr"]) if w.startswith("vigie_")}
                assert used <= names, (dash.name, used - names)


def test_crisis_cell_shows_alerts_as_annotations_of_the_selected_watch() -> None:
    from streams.outputs.delivery.grafana import GrafanaConfig, annotation_payload

    doc = json.loads((ROOT / "infra/grafana/dashboards/crisis-cell.json").read_text())
    assert {v["name"] for v in doc["templating"]["list"]} == {"watch"}
    tagged = [a for a in doc["annotations"]["list"] if a.get("target", {}).get("type") == "tags"]
    assert len(tagged) == 1
    ann = tagged[0]
    assert ann["enable"] and ann["datasource"]["uid"] == "-- Grafana --"
    assert ann["target"]["matchAny"] is False
    # every tag the filter requires is one the annotation sink puts on an alert of that watch
    alert = {"type": "bad_buzz", "severity": "warning", "status": "open",
             "watch": {"id": "socgen"}, "event_time": "2026-03-12T20:00:00+00:00"}
    sent = set(annotation_payload(alert, GrafanaConfig(url="http://g").extra_tags)["tags"])
    wanted = {t.replace("$watch", "socgen") for t in ann["target"]["tags"]}
    assert wanted <= sent, wanted - sent


def _idents(expr: str) -> set[str]:
    import re

    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))


def test_topic_names_in_code_are_the_ones_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for t in topics.ALL:
        assert t.name in readme, t.name
