"""Alert delivery beyond Kafka: chat webhooks, signed webhooks and Grafana annotations.

Every sink filters by severity, queues in memory (bounded, ``submit`` never blocks), drains
from a background task with retries, and reports through plain callbacks.
"""

from streams.outputs.delivery._config import (
    DROP_CLIENT_ERROR,
    DROP_GAVE_UP,
    DROP_QUEUE_FULL,
    SEVERITIES,
    DeliveryConfig,
    meets_severity,
)
from streams.outputs.delivery._queue import DeliveryCallbacks, QueuedSink, Sink, parse_retry_after
from streams.outputs.delivery.chat import (
    FLAVORS,
    chat_payload,
    slack_payload,
    teams_adaptive_payload,
    teams_messagecard_payload,
)
from streams.outputs.delivery.grafana import (
    GrafanaAnnotationSink,
    GrafanaConfig,
    annotation_payload,
)
from streams.outputs.delivery.webhooks import (
    ChatWebhookConfig,
    ChatWebhookSink,
    SignedWebhookConfig,
    SignedWebhookSink,
    sign,
    verify,
)

__all__ = [
    "DROP_CLIENT_ERROR",
    "DROP_GAVE_UP",
    "DROP_QUEUE_FULL",
    "FLAVORS",
    "SEVERITIES",
    "ChatWebhookConfig",
    "ChatWebhookSink",
    "DeliveryCallbacks",
    "DeliveryConfig",
    "GrafanaAnnotationSink",
    "GrafanaConfig",
    "QueuedSink",
    "SignedWebhookConfig",
    "SignedWebhookSink",
    "Sink",
    "annotation_payload",
    "chat_payload",
    "meets_severity",
    "parse_retry_after",
    "sign",
    "slack_payload",
    "teams_adaptive_payload",
    "teams_messagecard_payload",
    "verify",
]
