"""Live sources against local fake servers (aiohttp) that drop the connection mid-stream:
the reconnect, its backoff, and for Jetstream no event lost or duplicated (cursor)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web

from streams.events.decode import Limits
from streams.sources.bluesky import BlueskyMapper
from streams.sources.live import Backoff, LiveSource, SourceError
from streams.sources.mastodon import map_payload
from streams.sources.run import Ingest, drive
from tests.unit.test_sources_run import ListSink

T0_US = 1_717_401_600_000_000  # 2024-06-03T08:00:00Z
STEP_US = 200_000


def jet_event(i: int) -> bytes:
    """The i-th post of the fake Jetstream log."""
    return orjson.dumps({
        "did": f"did:plc:user{i % 3}", "time_us": T0_US + i * STEP_US, "kind": "commit",
        "commit": {"rev": f"r{i}", "operation": "create", "collection": "app.bsky.feed.post",
                   "rkey": f"k{i:03d}", "record": {
                       "$type": "app.bsky.feed.post", "text": f"post {i} #SGpanne",
                       "createdAt": f"2024-06-03T08:{i // 60:02d}:{i % 60:02d}Z"}}})


@dataclass
class FakeServer:
    """Attempt times, cursors asked for, headers seen; drops and refusals to play."""

    attempts: list[float] = field(default_factory=list)
    cursors: list[int | None] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    drop_at: float = 0.0
    refuse: int = 0
    url: str = ""


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    runners: list[web.AppRunner] = []

    async def start(handler: Any, path: str) -> str:
        app = web.Application()
        app.router.add_get(path, handler)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"127.0.0.1:{port}{path}"

    yield start
    for r in runners:
        await r.cleanup()


async def _run(src: LiveSource, ingest: Ingest, n: int) -> None:
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=64)
    stop = asyncio.Event()
    reader = asyncio.create_task(src.run(queue, stop))
    try:
        await asyncio.wait_for(drive(ingest, queue, stop, max_events=n), 20)
    finally:
        stop.set()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


def test_backoff_grows_with_jitter_up_to_its_cap_and_resets() -> None:
    b = Backoff(base_s=0.5, cap_s=4.0, rng=random.Random(3))
    delays = [b.next_delay() for _ in range(7)]
    for d, ceiling in zip(delays, (0.5, 1, 2, 4, 4, 4, 4), strict=True):
        assert ceiling / 2 <= d <= ceiling
    assert len(set(delays)) == 7  # jittered
    b.reset()
    assert 0.25 <= b.next_delay() <= 0.5


async def test_jetstream_reconnect_resumes_from_the_cursor(
        serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    total, drop_after = 30, 8
    fake = FakeServer(refuse=2)
    published = 0

    async def publish() -> None:  # the firehose moves on while the client is away
        nonlocal published
        while published < total:
            await asyncio.sleep(0.01)
            published += 1

    publisher: list[asyncio.Task[None]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal published
        fake.attempts.append(time.monotonic())
        cursor = request.query.get("cursor")
        fake.cursors.append(None if cursor is None else int(cursor))
        if len(fake.attempts) > 1 and fake.refuse:
            fake.refuse -= 1
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if not publisher:
            publisher.append(asyncio.create_task(publish()))
        # no cursor: live tail from now; a cursor: replay from that time_us on
        i = published if cursor is None else max(0, -(-(int(cursor) - T0_US) // STEP_US))
        sent = 0
        while i < total:
            if i < published:
                await ws.send_bytes(jet_event(i)) if i % 2 else await ws.send_str(
                    jet_event(i).decode())
                i += 1
                sent += 1
                if len(fake.attempts) == 1 and sent == drop_after:
                    fake.drop_at = time.monotonic()
                    assert request.transport is not None
                    request.transport.abort()  # a dropped connection, no close frame
                    return ws
            else:
                await asyncio.sleep(0.005)
        await asyncio.sleep(30)
        return ws

    url = "ws://" + await serve(handler, "/subscribe")
    src = LiveSource(url + "?wantedCollections=app.bsky.feed.post", "jetstream",
                     rewind_s=0.5, backoff=Backoff(base_s=0.1, cap_s=1.0,
                                                   rng=random.Random(1)))
    sink = ListSink()
    ingest = Ingest("bluesky", BlueskyMapper(), sink, Limits(), dedup=True)
    with caplog.at_level(logging.WARNING, logger="streams.sources.live"):
        await _run(src, ingest, total)
    ids = [ev["id"].rsplit("/", 1)[1] for r in sink.records for ev in orjson.loads(r)]
    assert ids == [f"k{i:03d}" for i in range(total)]  # none lost, none twice, in order
    last_before_drop = T0_US + (drop_after - 1) * STEP_US
    # three attempts after the drop: two refused, the third resumes rewind_s before the
    # newest time_us seen; the events replayed from there were dropped as duplicates
    assert fake.cursors == [None] + [last_before_drop - 500_000] * 3
    assert ingest.stats.skipped["duplicate"] == 3  # k005, k006, k007 sent again
    assert src.state.reconnects == 3 and src.state.cursor == T0_US + (total - 1) * STEP_US
    # the backoff: each wait in [d/2, d] with d doubling from the base, seen by the server
    for delay, ceiling in zip(src.state.delays_s, (0.1, 0.2, 0.4), strict=True):
        assert ceiling / 2 <= delay <= ceiling
    gaps = [fake.attempts[1] - fake.drop_at, fake.attempts[2] - fake.attempts[1],
            fake.attempts[3] - fake.attempts[2]]
    for gap, delay in zip(gaps, src.state.delays_s, strict=True):
        assert gap >= delay - 0.005
    logged = [r.getMessage() for r in caplog.records if "source disconnected" in r.message]
    assert len(logged) == 3 and "HTTP 503" in logged[1] and "reconnect_in_s=" in logged[0]
    publisher[0].cancel()


def _sse(status: dict[str, Any]) -> bytes:
    return b"event: update\ndata: " + orjson.dumps(status) + b"\n\n"


def _status(i: int) -> dict[str, Any]:
    return {"id": str(1000 + i), "uri": f"https://m.example/users/u/statuses/{1000 + i}",
            "created_at": f"2024-06-03T08:00:{i:02d}.000Z", "content": f"<p>post {i}</p>",
            "account": {"acct": "u", "url": "https://m.example/@u", "followers_count": 5,
                        "bot": False}, "tags": [], "mentions": []}


async def test_mastodon_sse_reconnects_without_duplicates(serve: Any) -> None:
    fake = FakeServer(refuse=1)

    async def handler(request: web.Request) -> web.StreamResponse:
        fake.attempts.append(time.monotonic())
        fake.auth.append(request.headers.get("Authorization"))
        if len(fake.attempts) == 2:
            return web.Response(status=502)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b":)\n\n")
        if len(fake.attempts) == 1:
            for i in range(5):
                await resp.write(_sse(_status(i)) + b":thump\n\n")
            half = _sse(_status(5))
            await resp.write(half[: len(half) // 2])  # cut mid-event: must not be used
            fake.drop_at = time.monotonic()
            assert request.transport is not None
            request.transport.abort()
            return resp
        for i in range(4, 10):  # the next connection repeats the last post seen
            await resp.write(_sse(_status(i)))
        await asyncio.sleep(30)
        return resp

    url = "http://" + await serve(handler, "/api/v1/streaming/public")
    src = LiveSource(url, "mastodon-sse", token="tok",
                     backoff=Backoff(base_s=0.1, cap_s=1.0, rng=random.Random(2)))
    sink = ListSink()
    ingest = Ingest("mastodon", map_payload, sink, Limits(), dedup=True)
    await _run(src, ingest, 10)
    ids = [ev["id"].rsplit("/", 1)[1] for r in sink.records for ev in orjson.loads(r)]
    assert ids == [str(1000 + i) for i in range(10)]
    assert ingest.stats.skipped["duplicate"] == 1 and ingest.stats.dead == {}
    assert fake.auth == ["Bearer tok"] * 3
    assert src.state.reconnects == 2
    assert 0.05 <= src.state.delays_s[0] <= 0.1 and 0.1 <= src.state.delays_s[1] <= 0.2
    assert fake.attempts[1] - fake.drop_at >= src.state.delays_s[0] - 0.005
    assert fake.attempts[2] - fake.attempts[1] >= src.state.delays_s[1] - 0.005


async def test_mastodon_websocket_reconnects_without_duplicates(serve: Any) -> None:
    fake = FakeServer()

    async def handler(request: web.Request) -> web.StreamResponse:
        fake.attempts.append(time.monotonic())
        fake.auth.append(request.headers.get("Authorization"))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        first = len(fake.attempts) == 1
        for i in range(0, 3) if first else range(2, 7):
            await ws.send_str(orjson.dumps({"stream": ["public"], "event": "update",
                                            "payload": orjson.dumps(_status(i)).decode()}
                                           ).decode())
            if i == 1:
                await ws.send_str('{"stream": ["public"], "event": "delete", "payload": "9"}')
        if first:
            assert request.transport is not None
            request.transport.abort()
            return ws
        await asyncio.sleep(30)
        return ws

    url = "ws://" + await serve(handler, "/api/v1/streaming")
    src = LiveSource(url + "?stream=public", "mastodon-ws", token="tok",
                     backoff=Backoff(base_s=0.05, cap_s=1.0, rng=random.Random(4)))
    ingest = Ingest("mastodon", map_payload, sink := ListSink(), Limits(), dedup=True)
    await _run(src, ingest, 7)
    ids = [ev["id"].rsplit("/", 1)[1] for r in sink.records for ev in orjson.loads(r)]
    assert ids == [str(1000 + i) for i in range(7)]
    assert ingest.stats.skipped == {"duplicate": 1, "delete": 1}
    assert fake.auth == ["Bearer tok"] * 2 and src.state.reconnects == 1


async def test_refused_credentials_stop_at_once(serve: Any) -> None:
    calls: list[int] = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=401)

    url = "http://" + await serve(handler, "/api/v1/streaming/public")
    src = LiveSource(url, "mastodon-sse", backoff=Backoff(base_s=0.01))
    with pytest.raises(SourceError, match=r"HTTP 401 .* VIGIE_INGEST_TOKEN"):
        await src.run(asyncio.Queue(), asyncio.Event())
    ws = LiveSource("ws://" + (await serve(handler, "/subscribe")), "jetstream")
    with pytest.raises(SourceError, match="jetstream: HTTP 401"):
        await ws.run(asyncio.Queue(), asyncio.Event())
    assert len(calls) == 2  # no retry


async def test_gives_up_after_max_retries(serve: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=503)

    url = "ws://" + await serve(handler, "/subscribe")
    src = LiveSource(url, "jetstream", backoff=Backoff(base_s=0.01, cap_s=0.02),
                     max_retries=3)
    with pytest.raises(SourceError, match="gave up after 3 failed reconnects"):
        await asyncio.wait_for(src.run(asyncio.Queue(), asyncio.Event()), 10)
    assert src.state.reconnects == 3


async def test_the_command_reads_a_live_url_until_sigterm(serve: Any, tmp_path: Any) -> None:
    import os
    import signal
    import sys

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for i in range(5):
            await ws.send_bytes(jet_event(i))
        await asyncio.sleep(30)
        return ws

    url = "ws://" + await serve(handler, "/subscribe")
    out = tmp_path / "live.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "streams.cli", "ingest", "--from", "bluesky", url, "--out",
        str(out), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(out.read_bytes().splitlines()
                                              if out.exists() else []) < 5:
        await asyncio.sleep(0.1)  # the partial batch is written after its linger
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr
    assert stdout.decode() == (
        f"ingest bluesky: read 5 payloads, mapped 5 events, skipped 0, dead-lettered 0; sent "
        f"1 record to {out} and 0 dead letters to {out}.dlq.jsonl; 0 reconnects, last cursor "
        f"{T0_US + 4 * STEP_US}\n")


async def test_the_command_exit_codes_for_a_refused_token_and_for_retries_run_out(
        serve: Any, tmp_path: Any) -> None:
    import os
    import sys

    async def unauthorised(request: web.Request) -> web.Response:
        return web.Response(status=401)

    async def unavailable(request: web.Request) -> web.Response:
        return web.Response(status=503)

    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    results = []
    for handler, extra in ((unauthorised, []), (unavailable, ["--max-retries", "2"])):
        url = "http://" + await serve(handler, "/api/v1/streaming/public")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "streams.cli", "ingest", "--from", "mastodon", url, "--out",
            str(tmp_path / "m.jsonl"), *extra, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        mine = [x for x in err.decode().splitlines() if x.startswith("vigie ingest")]
        results.append((proc.returncode, out.decode().count("\n"), mine))
    (code, summaries, lines), (code2, summaries2, lines2) = results
    assert code == 2 and summaries == 1 and len(lines) == 1
    assert "HTTP 401" in lines[0] and "VIGIE_INGEST_TOKEN" in lines[0]
    assert code2 == 1 and summaries2 == 1 and len(lines2) == 1
    assert "gave up after 2 failed reconnects (HTTP 503)" in lines2[0]
