"""Webhook sinks: Slack/Teams chat cards, and a generic webhook signed with HMAC-SHA256.

Generic webhook contract: the body is the alert.v1 JSON (UTF-8); each attempt carries

    X-Vigie-Timestamp: <unix seconds when this attempt was signed>
    X-Vigie-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
    X-Vigie-Dedup-Key: <alert_id>:<sequence>   (deduplicate on it: delivery is at-least-once)

Verification recipe for a receiver (Python; any language with HMAC-SHA256 works the same way):

    raw = await request.read()          # the exact bytes received, before any JSON parsing
    ok = verify(secret, request.headers["X-Vigie-Timestamp"], raw,
                request.headers["X-Vigie-Signature"], tolerance_s=300)
    if not ok: return 401               # forged, tampered with, or replayed too late

which is, without Vigie installed:

    expected = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + raw,
                                    hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, signature) and abs(time.time() - int(ts)) <= 300

Sign and compare the raw bytes: re-serialising the parsed JSON changes them. The timestamp is
signed with the body, so a captured request cannot be replayed after the tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import ClassVar

import orjson

from streams.outputs.delivery._config import Alert, DeliveryConfig
from streams.outputs.delivery._queue import QueuedSink, Request
from streams.outputs.delivery.chat import FLAVORS, chat_payload

TIMESTAMP_HEADER = "X-Vigie-Timestamp"
SIGNATURE_HEADER = "X-Vigie-Signature"
DEDUP_HEADER = "X-Vigie-Dedup-Key"
SIGNATURE_PREFIX = "sha256="
USER_AGENT = "vigie-delivery/1"
JSON_TYPE = "application/json"


def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Signature header value: ``sha256=`` + hex HMAC-SHA256(secret, f"{timestamp}.{body}")."""
    message = str(timestamp).encode("ascii") + b"." + _bytes(body)
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    signature: str,
    tolerance_s: float = 300.0,
    now_s: float | None = None,
) -> bool:
    """True when ``signature`` signs ``timestamp.body`` and the timestamp is within tolerance."""
    if not secret or not signature.startswith(SIGNATURE_PREFIX):
        return False
    try:
        ts = int(str(timestamp).strip())
    except ValueError:
        return False
    now = time.time() if now_s is None else now_s
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature.strip())


@dataclass(frozen=True, kw_only=True, repr=False)
class ChatWebhookConfig(DeliveryConfig):
    """A Slack or Teams incoming webhook; its URL is the credential, so repr masks its path."""

    URL_PATH_IS_SECRET: ClassVar[bool] = True

    name: str = "chat"
    flavor: str = "slack"
    link_url: str = ""  # link back, e.g. https://grafana/d/vigie?var-watch={watch_id}

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.flavor not in FLAVORS:
            raise ValueError(f"{self.name}: flavor must be one of {FLAVORS}")


@dataclass(frozen=True, kw_only=True, repr=False)
class SignedWebhookConfig(DeliveryConfig):
    """A generic webhook receiving the alert.v1 JSON, signed with ``secret``."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"secret"})

    name: str = "webhook"
    min_severity: str = "watch"
    secret: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.secret:
            raise ValueError(f"{self.name}: a signing secret is required")


class ChatWebhookSink(QueuedSink[ChatWebhookConfig]):
    """Posts a Slack or Teams card for each alert at or above ``min_severity``."""

    def build_request(self, alert: Alert) -> Request:
        """POST the flavor's JSON card to the webhook URL."""
        payload = chat_payload(self.config.flavor, alert, self.config.link_url)
        return Request(url=self.config.url, body=orjson.dumps(payload),
                       headers={"Content-Type": JSON_TYPE, "User-Agent": USER_AGENT})


class SignedWebhookSink(QueuedSink[SignedWebhookConfig]):
    """Posts the alert.v1 JSON, signed afresh on every attempt (timestamp + HMAC)."""

    def build_request(self, alert: Alert) -> Request:
        """POST the alert itself; the dedup key lets receivers drop redeliveries."""
        headers = {"Content-Type": JSON_TYPE, "User-Agent": USER_AGENT}
        if alert.get("dedup_key"):
            headers[DEDUP_HEADER] = str(alert["dedup_key"])
        return Request(url=self.config.url, body=orjson.dumps(dict(alert)), headers=headers)

    def attempt_headers(self, request: Request) -> dict[str, str]:
        """Sign each attempt with the current time so a late retry is not seen as a replay."""
        timestamp = int(time.time())
        headers = dict(request.headers)
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = sign(self.config.secret, timestamp, request.body)
        return headers
