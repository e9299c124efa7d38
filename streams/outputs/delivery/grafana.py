"""Grafana annotation sink: each alert becomes an annotation on the crisis cell's dashboards.

``POST {url}/api/annotations`` with ``Authorization: Bearer <service-account token>``. Open and
update alerts are point annotations at their event time; a resolved alert whose ``resolved_at``
is known becomes a region from ``opened_at`` to ``resolved_at``, so the incident's whole span
shows up on every time series panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import orjson

from streams.outputs.delivery._config import Alert, DeliveryConfig
from streams.outputs.delivery._queue import QueuedSink, Request
from streams.outputs.delivery.chat import kind_of

ANNOTATIONS_PATH = "/api/annotations"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(timestamp: object) -> int | None:
    """Milliseconds since the epoch of an RFC 3339 timestamp, or None when absent/invalid."""
    if not isinstance(timestamp, str) or not timestamp:
        return None
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the contract is UTC; never guess a local zone
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


def annotation_payload(
    alert: Alert, extra_tags: tuple[str, ...] = (), dashboard_uid: str = ""
) -> dict[str, Any]:
    """The Grafana annotation body for one alert: time(/timeEnd) in ms, tags and text."""
    watch = alert.get("watch") or {}
    status = str(alert.get("status", ""))
    time_ms = epoch_ms(alert.get("event_time"))
    end_ms = None
    if status == "resolved":
        start_ms, resolved_ms = epoch_ms(alert.get("opened_at")), epoch_ms(alert.get("resolved_at"))
        if start_ms is not None and resolved_ms is not None and start_ms < resolved_ms:
            time_ms, end_ms = start_ms, resolved_ms
    tags = [*extra_tags, "situation" if "situation_id" in alert else "",
            kind_of(alert), str(alert.get("severity", "")), str(watch.get("id", "")), status]
    body: dict[str, Any] = {"tags": [t for t in tags if t], "text": str(alert.get("summary", ""))}
    if time_ms is not None:  # absent: Grafana stamps it with "now", the best remaining guess
        body["time"] = time_ms
    if end_ms is not None:
        body["timeEnd"] = end_ms
    if dashboard_uid:
        body["dashboardUID"] = dashboard_uid
    return body


def annotations_url(base_url: str) -> str:
    """The annotations endpoint from a Grafana base URL (sub-path installs included)."""
    base = base_url.rstrip("/")
    return base if base.endswith(ANNOTATIONS_PATH) else base + ANNOTATIONS_PATH


@dataclass(frozen=True, kw_only=True, repr=False)
class GrafanaConfig(DeliveryConfig):
    """Grafana base URL and service-account token; organisation-wide unless a dashboard is set."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"token"})

    name: str = "grafana"
    min_severity: str = "watch"
    token: str = ""
    dashboard_uid: str = ""
    extra_tags: tuple[str, ...] = ("vigie",)


class GrafanaAnnotationSink(QueuedSink[GrafanaConfig]):
    """Posts each alert as a Grafana annotation, queued and retried off the pipeline."""

    def build_request(self, alert: Alert) -> Request:
        """POST /api/annotations with a bearer token when one is configured."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        payload = annotation_payload(alert, self.config.extra_tags, self.config.dashboard_uid)
        return Request(url=annotations_url(self.config.url), body=orjson.dumps(payload),
                       headers=headers)
