"""promtool checks, and a real Prometheus scraping a live worker: every PromQL expression of the
dashboards and the rules parses and finds the metrics it names."""

from __future__ import annotations

import http.server
import json
import math
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from streams.dev import scenarios, simulate
from streams.dev.embedded import free_port
from streams.engine.config import default_watches_path
from streams.watches.matcher import load_watches
from tests.integration.harness import batched, metric, produce, stack

ROOT = Path(__file__).resolve().parents[2]
RULES = sorted((ROOT / "infra/prometheus/rules").glob("*.yml"))
DASHBOARDS = sorted((ROOT / "infra/grafana/dashboards").glob("*.json"))
RULE_TESTS = sorted((ROOT / "infra/prometheus/tests").glob("*.yml"))


def _ensure_prometheus() -> None:
    """Debian's prometheus package provides promtool and the server; install it if missing."""
    if shutil.which("promtool") and shutil.which("prometheus"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("promtool/prometheus missing and cannot be installed (need root + apt)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                       "prometheus"], env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                        "prometheus"], env=env, capture_output=True, check=True)


@pytest.fixture(scope="module", autouse=True)
def prometheus_installed() -> None:
    _ensure_prometheus()


# dashboard variables as Grafana would expand them (the test scrapes every second)
VARIABLES = {"$watch": "socgen", "$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def _expand(expr: str) -> str:
    for name in sorted(VARIABLES, key=len, reverse=True):  # $__rate_interval before $__range
        expr = expr.replace(name, VARIABLES[name])
    assert "$" not in expr, f"unknown dashboard variable in {expr!r}"
    return expr


def rule_expressions() -> list[str]:
    """Every PromQL expression of the rules."""
    return [r["expr"] for f in RULES for group in yaml.safe_load(f.read_text())["groups"]
            for r in group["rules"]]


def dashboard_expressions() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expression) for every target of every dashboard panel."""
    out = []
    for f in DASHBOARDS:
        for panel in _panels(json.loads(f.read_text())["panels"]):
            out += [(f.name, panel["title"], _expand(t["expr"])) for t in panel.get("targets", [])]
    return out


def expressions() -> list[str]:
    """Every PromQL expression of the rules and the dashboards ($watch = socgen)."""
    return rule_expressions() + [e for _, _, e in dashboard_expressions()]


def test_every_dashboard_is_covered() -> None:
    names = {d for d, _, _ in dashboard_expressions()}
    assert names == {f.name for f in DASHBOARDS}
    assert {"crisis-cell.json", "pipeline-health.json"} <= names


def test_promtool_checks_rules_and_config(tmp_path: Path) -> None:
    for f in RULES:
        r = subprocess.run(["promtool", "check", "rules", str(f)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
    cfg = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    cfg["rule_files"] = [str(f) for f in RULES]  # the container path, here
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(cfg))
    r = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_promtool_unit_tests_of_the_alerting_rules() -> None:
    assert RULE_TESTS
    for f in RULE_TESTS:  # alerts fire on the series they should, and stay quiet otherwise
        r = subprocess.run(["promtool", "test", "rules", str(f)], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stdout + r.stderr


class _Hook(http.server.BaseHTTPRequestHandler):
    """A webhook subscriber that accepts every alert."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("prom")
    sc = scenarios.bank_bad_buzz(end=datetime(2026, 3, 12, 21, 0, tzinfo=UTC), days=1.5)
    lines = [orjson.dumps(ev) for ev in simulate.generate(sc, seed=5)]
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    with stack(tmp, redis_server.url, f"it-prom-{tmp.name[-6:]}") as st:
        st.start_worker(webhook_url=f"http://127.0.0.1:{hook.server_port}/alerts",
                        webhook_secret="it-prom-secret")
        port = free_port()
        cfg = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
               "rule_files": [str(f) for f in RULES],
               "scrape_configs": [{"job_name": "vigie", "static_configs": [
                   {"targets": [f"127.0.0.1:{st.port}"]}]}]}
        (tmp / "prom.yml").write_text(yaml.safe_dump(cfg))
        proc = subprocess.Popen(
            ["prometheus", f"--config.file={tmp / 'prom.yml'}",
             f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=(tmp / "prometheus.log").open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if _query(url, 'count(up{job="vigie"} == 1)')["result"]:
                        break
                except OSError:
                    pass
                time.sleep(0.5)
            # Prometheus scrapes while the scenario flows, so rates and quantiles see it
            produce(st.broker.bootstrap, batched(lines))
            deadline = time.monotonic() + 120
            while (metric(st.port, "vigie_situation_messages_total") == 0
                   and time.monotonic() < deadline):
                time.sleep(0.5)
            time.sleep(8.0)  # scrapes after the first alerts and a consumer-lag round (5 s)
            yield url
        finally:
            proc.terminate()
            proc.wait(10)
            hook.shutdown()


def _query(url: str, expr: str) -> dict[str, Any]:
    q = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=5) as r:
        doc = json.loads(r.read())
    assert doc["status"] == "success", (expr, doc)
    return dict(doc["data"])


def test_every_expression_parses_and_its_metrics_exist(live: str) -> None:
    exprs = expressions()
    assert exprs
    missing = []
    for expr in exprs:
        _query(live, expr)  # parses and evaluates on the server
        bare = re.sub(r'"[^"]*"', '""', expr)  # label values are not metric names
        for name in set(re.findall(r"\b(?:vigie_[a-z0-9_]+|faust_[a-z0-9_]+|up)\b", bare)):
            if not _query(live, f"count({{__name__=\"{name}\"}})")["result"]:
                missing.append((name, expr))
    assert missing == [], missing


def test_every_dashboard_expression_returns_data(live: str) -> None:
    """A panel query that returns nothing (or only NaN) on a worker that has processed a bad
    buzz is a broken panel: a typo'd label, a join that matches nothing, a series never set."""
    empty, nan_only = [], []
    for dash, title, expr in dashboard_expressions():
        result = _query(live, expr)["result"]
        values = [float(r["value"][1]) for r in result]
        if not values:
            empty.append((dash, title, expr))
        elif all(math.isnan(v) for v in values):
            nan_only.append((dash, title, expr))
    assert empty == [], empty
    assert nan_only == [], nan_only


def test_latency_quantiles_and_heatmap_see_the_alerts(live: str) -> None:
    p99 = _query(live, "histogram_quantile(0.99, sum by (le) "
                       "(rate(vigie_alert_latency_seconds_bucket[15m])))")["result"]
    assert p99 and 0.0 < float(p99[0]["value"][1]) < 600.0, p99
    observed = _query(live, "sum(vigie_alert_latency_seconds_count)")["result"]
    assert observed and float(observed[0]["value"][1]) >= 1, observed


def test_campaign_gauges_exist_at_zero_for_every_watch(live: str) -> None:
    configured = {w.id for w in load_watches(default_watches_path())}
    share = _query(live, "vigie_mobilisation_share")["result"]
    assert {r["metric"]["watch"] for r in share} == configured
    classes = _query(live, 'count by (class) (vigie_campaigns_active{watch="socgen"})')["result"]
    assert {r["metric"]["class"] for r in classes} == {
        "employee_mobilisation", "coordinated_inauthentic", "organic"}


def test_the_webhook_deliveries_are_counted(live: str) -> None:
    delivered = _query(live, 'sum(vigie_alert_deliveries_total{outcome="delivered"})')["result"]
    assert delivered and float(delivered[0]["value"][1]) >= 1, delivered
    dropped = _query(live, 'sum(vigie_alert_deliveries_total{outcome=~"dropped_.*"})')["result"]
    assert dropped and float(dropped[0]["value"][1]) == 0.0, dropped
