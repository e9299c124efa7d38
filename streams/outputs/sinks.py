"""Build the worker's alert-delivery sinks from settings, counted in the metrics catalogue."""

from __future__ import annotations

from streams.metrics import Metrics
from streams.outputs.delivery import (
    DROP_CLIENT_ERROR,
    DROP_GAVE_UP,
    DROP_QUEUE_FULL,
    ChatWebhookConfig,
    ChatWebhookSink,
    DeliveryCallbacks,
    GrafanaAnnotationSink,
    GrafanaConfig,
    SignedWebhookConfig,
    SignedWebhookSink,
    Sink,
)
from streams.settings import Settings


def dropped(reason: str) -> str:
    """The outcome label of a delivery dropped for reason."""
    return f"dropped_{reason}"


OUTCOMES = ("delivered", "retry",
            *(dropped(r) for r in (DROP_QUEUE_FULL, DROP_GAVE_UP, DROP_CLIENT_ERROR)))


def callbacks(m: Metrics) -> DeliveryCallbacks:
    """Delivery outcomes as vigie_alert_deliveries_total{sink, outcome}."""
    return DeliveryCallbacks(
        on_delivered=lambda sink: m.deliveries.labels(sink, "delivered").inc(),
        on_dropped=lambda sink, reason: m.deliveries.labels(sink, dropped(reason)).inc(),
        on_retry=lambda sink: m.deliveries.labels(sink, "retry").inc(),
    )


def build_sinks(s: Settings, m: Metrics) -> list[Sink]:
    """Every configured sink; none when no URL is set."""
    cb = callbacks(m)
    sinks: list[Sink] = []
    if s.webhook_url:
        sinks.append(SignedWebhookSink(SignedWebhookConfig(url=s.webhook_url,
                                                           secret=s.webhook_secret), cb))
    if s.chat_webhook_url:
        sinks.append(ChatWebhookSink(ChatWebhookConfig(
            url=s.chat_webhook_url, flavor=s.chat_webhook_flavor,
            min_severity=s.chat_min_severity), cb))
    if s.grafana_url:
        sinks.append(GrafanaAnnotationSink(GrafanaConfig(url=s.grafana_url,
                                                         token=s.grafana_token), cb))
    for sink in sinks:  # the series exist at 0, so a drop shows in rate() and the rules
        for outcome in OUTCOMES:
            m.deliveries.labels(sink.name, outcome)
    return sinks
