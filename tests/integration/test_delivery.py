"""Delivery sinks against a real local HTTP server (aiohttp.web on a free loopback port)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import orjson
import pytest
from aiohttp import web

from streams.outputs.delivery import (
    ChatWebhookConfig,
    ChatWebhookSink,
    DeliveryCallbacks,
    GrafanaAnnotationSink,
    GrafanaConfig,
    SignedWebhookConfig,
    SignedWebhookSink,
    Sink,
    verify,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "signal.v1" / "valid"
SITUATIONS = EXAMPLES.parent.parent / "alert.v2" / "valid"
SECRET = "integration-secret"


class Tuning(TypedDict):
    """Retry tuning small enough for tests."""

    base_backoff_s: float
    max_backoff_s: float
    timeout_s: float


FAST: Tuning = {"base_backoff_s": 0.01, "max_backoff_s": 2.0, "timeout_s": 2.0}


@dataclass(frozen=True)
class Reply:
    """A scripted answer of the endpoint."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Seen:
    """A request the endpoint received."""

    at_s: float
    path: str
    headers: dict[str, str]
    body: bytes


class Endpoint:
    """A real HTTP server that records requests and answers from a script (then 200)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.script: list[Reply] = []
        self.url = ""
        self.release = asyncio.Event()  # lets slow handlers end at teardown

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(Seen(time.monotonic(), request.path, dict(request.headers),
                              await request.read()))
        reply = self.script.pop(0) if self.script else Reply()
        if reply.delay_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), timeout=reply.delay_s)
        return web.Response(status=reply.status, headers=reply.headers, text="ok")


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    ep = Endpoint()
    app = web.Application()
    app.router.add_post("/{tail:.*}", ep.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock, shutdown_timeout=0.5)
    await site.start()
    ep.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield ep
    ep.release.set()
    await runner.cleanup()


class Counters:
    """Records the delivery callbacks."""

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.dropped: list[tuple[str, str]] = []
        self.retries: list[str] = []

    @property
    def callbacks(self) -> DeliveryCallbacks:
        return DeliveryCallbacks(
            on_delivered=self.delivered.append,
            on_dropped=lambda sink, reason: self.dropped.append((sink, reason)),
            on_retry=self.retries.append)


def load(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_signed_webhook_delivers_with_valid_signature(endpoint: Endpoint) -> None:
    counters = Counters()
    sink = SignedWebhookSink(SignedWebhookConfig(url=f"{endpoint.url}/hooks/vigie",
                                                 secret=SECRET, **FAST), counters.callbacks)
    assert isinstance(sink, Sink)
    alert = load("volume-spike-open")
    assert sink.submit(alert)
    assert await sink.close(timeout_s=5) == 0
    assert counters.delivered == ["webhook"] and counters.dropped == [] == counters.retries
    (req,) = endpoint.seen
    assert req.path == "/hooks/vigie"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["X-Vigie-Dedup-Key"] == alert["dedup_key"]
    assert abs(int(req.headers["X-Vigie-Timestamp"]) - time.time()) < 10
    assert req.headers["X-Vigie-Signature"].startswith("sha256=")
    assert verify(SECRET, req.headers["X-Vigie-Timestamp"], req.body,
                  req.headers["X-Vigie-Signature"], tolerance_s=60)
    assert not verify("wrong", req.headers["X-Vigie-Timestamp"], req.body,
                      req.headers["X-Vigie-Signature"], tolerance_s=60)
    assert orjson.loads(req.body) == alert


async def test_503_twice_then_200_is_delivered_after_retries(endpoint: Endpoint) -> None:
    counters = Counters()
    endpoint.script = [Reply(503), Reply(503), Reply(200)]
    sink = SignedWebhookSink(SignedWebhookConfig(url=endpoint.url, secret=SECRET,
                                                 max_attempts=5, **FAST), counters.callbacks)
    assert sink.submit(load("volume-spike-open"))
    await sink.close(timeout_s=5)
    assert len(endpoint.seen) == 3
    assert counters.retries == ["webhook", "webhook"]
    assert counters.delivered == ["webhook"] and counters.dropped == []
    # every attempt is signed afresh and verifies on its own
    for req in endpoint.seen:
        assert verify(SECRET, req.headers["X-Vigie-Timestamp"], req.body,
                      req.headers["X-Vigie-Signature"], tolerance_s=60)


async def test_400_is_dropped_as_client_error_without_retry(endpoint: Endpoint) -> None:
    counters = Counters()
    endpoint.script = [Reply(400), Reply(200)]
    sink = SignedWebhookSink(SignedWebhookConfig(url=endpoint.url, secret=SECRET, **FAST),
                             counters.callbacks)
    sink.submit(load("volume-spike-open"))
    await sink.close(timeout_s=5)
    assert len(endpoint.seen) == 1
    assert counters.dropped == [("webhook", "client_error")]
    assert counters.retries == [] and counters.delivered == []


async def test_slow_endpoint_never_blocks_submit(endpoint: Endpoint) -> None:
    counters = Counters()
    endpoint.script = [Reply(200, delay_s=2.0) for _ in range(50)]
    sink = ChatWebhookSink(ChatWebhookConfig(url=endpoint.url, queue_size=5, min_severity="watch",
                                             max_attempts=1, **FAST), counters.callbacks)
    alert = load("volume-spike-open")
    assert not asyncio.iscoroutinefunction(sink.submit)
    started = time.perf_counter()
    accepted = [sink.submit(alert) for _ in range(50)]
    elapsed_s = time.perf_counter() - started
    assert elapsed_s < 0.05, f"50 submits took {elapsed_s * 1000:.1f} ms"
    assert sum(accepted) == 5
    assert counters.dropped == [("chat", "queue_full")] * 45
    # the drain task is now stuck on the slow server while the loop stays responsive
    await asyncio.sleep(0.2)
    assert len(endpoint.seen) == 1 and counters.delivered == []
    abandoned = await sink.close(timeout_s=0.1)
    assert abandoned == 5  # the in-flight one and the four still queued
    assert counters.dropped.count(("chat", "gave_up")) == 5


async def test_retry_after_is_honoured(endpoint: Endpoint) -> None:
    counters = Counters()
    endpoint.script = [Reply(429, headers={"Retry-After": "1"}), Reply(200)]
    sink = SignedWebhookSink(SignedWebhookConfig(url=endpoint.url, secret=SECRET, **FAST),
                             counters.callbacks)
    sink.submit(load("volume-spike-open"))
    await sink.close(timeout_s=5)
    assert len(endpoint.seen) == 2 and counters.delivered == ["webhook"]
    gap_s = endpoint.seen[1].at_s - endpoint.seen[0].at_s
    assert gap_s >= 0.95, f"retried after {gap_s:.3f} s despite Retry-After: 1"
    assert counters.retries == ["webhook"]


async def test_timeouts_are_retried_then_given_up(endpoint: Endpoint) -> None:
    counters = Counters()
    endpoint.script = [Reply(200, delay_s=1.0), Reply(200, delay_s=1.0)]
    sink = SignedWebhookSink(SignedWebhookConfig(
        url=endpoint.url, secret=SECRET, max_attempts=2, base_backoff_s=0.01,
        max_backoff_s=0.05, timeout_s=0.2), counters.callbacks)
    sink.submit(load("volume-spike-open"))
    await sink.close(timeout_s=5)
    assert len(endpoint.seen) == 2
    assert counters.retries == ["webhook"] and counters.dropped == [("webhook", "gave_up")]


async def test_connection_refused_is_retried_then_given_up() -> None:
    counters = Counters()
    sink = GrafanaAnnotationSink(GrafanaConfig(
        url=f"http://127.0.0.1:{free_port()}", token="t", max_attempts=3, base_backoff_s=0.01,
        max_backoff_s=0.05, timeout_s=1.0), counters.callbacks)
    sink.submit(load("volume-spike-open"))
    await sink.close(timeout_s=5)
    assert counters.retries == ["grafana"] * 2 and counters.dropped == [("grafana", "gave_up")]


async def test_grafana_annotation_post(endpoint: Endpoint) -> None:
    counters = Counters()
    sink = GrafanaAnnotationSink(GrafanaConfig(url=endpoint.url, token="glsa_secret", **FAST),
                                 counters.callbacks)
    opened, resolved = load("volume-spike-open"), load("volume-spike-resolved")
    assert sink.submit(opened) and sink.submit(resolved)
    await sink.close(timeout_s=5)
    assert counters.delivered == ["grafana", "grafana"]
    first, second = endpoint.seen
    assert first.path == "/api/annotations"
    assert first.headers["Authorization"] == "Bearer glsa_secret"
    assert first.headers["Content-Type"] == "application/json"
    body = orjson.loads(first.body)
    assert body == {"time": 1717395300000, "text": opened["summary"],
                    "tags": ["vigie", "volume_spike", "warning", "societe_generale", "open"]}
    region = orjson.loads(second.body)
    assert (region["time"], region["timeEnd"]) == (1717395000000, 1717408200000)
    assert region["tags"][1:] == ["volume_spike", "crisis", "societe_generale", "resolved"]


async def test_a_situation_is_annotated_by_its_lead_signal_and_spans_its_life(
        endpoint: Endpoint) -> None:
    counters = Counters()
    sink = GrafanaAnnotationSink(GrafanaConfig(url=endpoint.url, token="t", **FAST),
                                 counters.callbacks)
    opened, resolved = (json.loads((SITUATIONS / f"{n}.json").read_text())
                        for n in ("situation-open", "situation-resolved"))
    assert sink.submit(opened) and sink.submit(resolved)
    await sink.close(timeout_s=5)
    first, second = (orjson.loads(s.body) for s in endpoint.seen)
    assert first["tags"] == ["vigie", "situation", opened["lead"]["type"], opened["severity"],
                             "socgen", "open"]
    assert first["text"] == opened["summary"]
    assert second["tags"][:2] == ["vigie", "situation"] and second["tags"][-1] == "resolved"
    assert second["timeEnd"] > second["time"]


async def test_grafana_bad_token_is_a_client_error(endpoint: Endpoint) -> None:
    counters = Counters()
    endpoint.script = [Reply(401)]
    sink = GrafanaAnnotationSink(GrafanaConfig(url=endpoint.url, token="bad", **FAST),
                                 counters.callbacks)
    sink.submit(load("volume-spike-open"))
    await sink.close(timeout_s=5)
    assert counters.dropped == [("grafana", "client_error")] and len(endpoint.seen) == 1


async def test_chat_sink_filters_severity_and_posts_slack_and_teams(endpoint: Endpoint) -> None:
    counters = Counters()
    slack = ChatWebhookSink(ChatWebhookConfig(url=f"{endpoint.url}/slack", min_severity="crisis",
                                              **FAST), counters.callbacks)
    teams = ChatWebhookSink(ChatWebhookConfig(url=f"{endpoint.url}/teams", name="teams",
                                              flavor="teams_adaptive", **FAST),
                            counters.callbacks)
    sinks: list[Sink] = [slack, teams]
    warning, crisis = load("volume-spike-open"), load("volume-spike-update-escalation")
    assert crisis["severity"] == "crisis"
    for alert in (warning, crisis):
        for sink in sinks:
            sink.submit(alert)
    assert [await s.close(timeout_s=5) for s in sinks] == [0, 0]
    by_path: dict[str, list[dict[str, Any]]] = {}
    for req in endpoint.seen:
        by_path.setdefault(req.path, []).append(orjson.loads(req.body))
    assert len(by_path["/slack"]) == 1 and len(by_path["/teams"]) == 2
    assert by_path["/slack"][0]["text"].endswith(crisis["summary"])
    assert by_path["/teams"][0]["attachments"][0]["content"]["type"] == "AdaptiveCard"
    assert sorted(counters.delivered) == ["chat", "teams", "teams"]


async def test_close_flushes_everything_queued(endpoint: Endpoint) -> None:
    counters = Counters()
    sink = SignedWebhookSink(SignedWebhookConfig(url=endpoint.url, secret=SECRET, **FAST),
                             counters.callbacks)
    alert = load("volume-spike-open")
    for sequence in range(3):
        assert sink.submit({**alert, "sequence": sequence,
                            "dedup_key": f"{alert['alert_id']}:{sequence}"})
    assert await sink.close(timeout_s=5) == 0
    assert [orjson.loads(r.body)["sequence"] for r in endpoint.seen] == [0, 1, 2]
    assert not sink.submit(alert)  # closed sinks refuse new work
