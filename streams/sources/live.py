"""Live streams a URL away: Bluesky Jetstream (websocket, resumed from its time_us cursor)
and Mastodon streaming (SSE or websocket), reconnected with bounded, jittered backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp

from streams.sources.bluesky import time_us
from streams.sources.common import Payload
from streams.sources.framing import SseParser

log = logging.getLogger(__name__)
FATAL_STATUS = frozenset({400, 401, 403, 404, 410})  # retrying cannot fix these
HEARTBEAT_S = 30.0  # websocket ping period; a peer that stops answering is dropped
IDLE_S = 90.0  # SSE: Mastodon sends a heartbeat comment every ~15 s; silence means dead


class SourceError(RuntimeError):
    """A live source that cannot work (bad URL, refused credentials, retries exhausted)."""

    def __init__(self, message: str, gave_up: bool = False) -> None:
        super().__init__(message)
        self.gave_up = gave_up


@dataclass
class Backoff:
    """Exponential backoff with jitter: attempt n waits in [d/2, d], d = min(cap, base*2^n)."""

    base_s: float = 0.5
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """The wait before the next attempt; each call counts one attempt."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(self.attempt, 30))
        self.attempt += 1
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        """A connection worked: start again from the base delay."""
        self.attempt = 0


@dataclass
class LiveState:
    """What a live source did, for the summary and for resuming."""

    connects: int = 0
    reconnects: int = 0
    cursor: int | None = None  # Jetstream: the newest time_us received
    delays_s: list[float] = field(default_factory=list)


def with_cursor(url: str, cursor: int) -> str:
    """The Jetstream URL with its cursor query parameter set."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "cursor"]
    query.append(("cursor", str(cursor)))
    return urlunsplit(parts._replace(query=urlencode(query)))


class LiveSource:
    """Reads a live URL into a queue until stopped, reconnecting after every drop.

    kind: `jetstream` (websocket; reconnects resume `rewind_s` before the newest time_us,
    the replayed events are deduplicated downstream by post id), `mastodon-sse` or
    `mastodon-ws` (no cursor in the protocol: posts published while disconnected are lost).
    """

    def __init__(self, url: str, kind: str, *, token: str = "", cursor: int | None = None,
                 rewind_s: float = 2.0, backoff: Backoff | None = None,
                 max_retries: int = 0) -> None:
        self.url = url
        self.kind = kind
        self.token = token
        self.rewind_us = int(rewind_s * 1e6)
        self.backoff = backoff or Backoff()
        self.max_retries = max_retries
        self.state = LiveState(cursor=cursor)
        self._pos = 0

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _url(self) -> str:
        if self.kind == "jetstream" and self.state.cursor is not None:
            return with_cursor(self.url, max(0, self.state.cursor - self.rewind_us))
        return self.url

    async def run(self, queue: asyncio.Queue[list[Payload] | None],
                  stop: asyncio.Event) -> None:
        """Connect, read, reconnect after a drop; return when `stop` is set."""
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                reason = await self._once(session, queue, stop)
                if stop.is_set():
                    return
                if self.max_retries and self.backoff.attempt >= self.max_retries:
                    n = self.backoff.attempt
                    raise SourceError(f"{self.kind}: gave up after {n} failed reconnect"
                                      f"{'' if n == 1 else 's'} ({reason})", gave_up=True)
                delay = self.backoff.next_delay()
                self.state.reconnects += 1
                self.state.delays_s.append(delay)
                log.warning("source disconnected kind=%s reason=%s reconnect_in_s=%.2f "
                            "attempt=%d cursor=%s%s", self.kind, reason, delay,
                            self.backoff.attempt, self.state.cursor,
                            "" if self.kind == "jetstream"
                            else " (posts published while disconnected are not recovered)")
                with contextlib.suppress(TimeoutError):  # the wait, cut short by a stop
                    await asyncio.wait_for(stop.wait(), delay)

    async def _once(self, session: aiohttp.ClientSession,
                    queue: asyncio.Queue[list[Payload] | None], stop: asyncio.Event) -> str:
        """One connection, read until it drops; return why it ended."""
        url = self._url()
        try:
            if self.kind == "mastodon-sse":
                await self._sse(session, url, queue, stop)
            else:
                await self._ws(session, url, queue, stop)
            return "closed by the server"
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in FATAL_STATUS:
                raise SourceError(f"{self.kind}: HTTP {exc.status} from {self.url}"
                                  + _hint(exc.status)) from None
            return f"HTTP {exc.status}"
        except aiohttp.ClientResponseError as exc:
            return f"HTTP {exc.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"[:200]

    async def _ws(self, session: aiohttp.ClientSession, url: str,
                  queue: asyncio.Queue[list[Payload] | None], stop: asyncio.Event) -> None:
        async with session.ws_connect(url, headers=self._headers(), heartbeat=HEARTBEAT_S,
                                      max_msg_size=16 * 2**20) as ws:
            self._connected(url)
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await self._put(msg.data.encode("utf-8"), queue)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    await self._put(msg.data, queue)
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    raise aiohttp.ClientError(str(ws.exception()))
                if stop.is_set():
                    return

    async def _sse(self, session: aiohttp.ClientSession, url: str,
                   queue: asyncio.Queue[list[Payload] | None], stop: asyncio.Event) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=IDLE_S)
        headers = {"Accept": "text/event-stream", **self._headers()}
        async with session.get(url, headers=headers, timeout=timeout) as resp:
            if resp.status in FATAL_STATUS:
                raise SourceError(f"{self.kind}: HTTP {resp.status} from {self.url}"
                                  + _hint(resp.status))
            if resp.status != 200:
                raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status,
                                                  message=resp.reason or "")
            self._connected(url)
            parser = SseParser()
            parser.pos = self._pos
            buf = b""
            async for chunk in resp.content.iter_any():
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    p = parser.feed(line)
                    if p is not None:
                        self._pos = parser.pos
                        await self._emit(p, queue)
                if stop.is_set():
                    return

    def _connected(self, url: str) -> None:
        self.state.connects += 1
        log.info("source connected kind=%s url=%s", self.kind, _redact(url))

    async def _put(self, data: bytes, queue: asyncio.Queue[list[Payload] | None]) -> None:
        if self.kind == "jetstream":
            t = time_us(data)
            if t is not None and (self.state.cursor is None or t > self.state.cursor):
                self.state.cursor = t
        await self._emit(Payload(data, self._pos), queue)
        self._pos += 1

    async def _emit(self, p: Payload, queue: asyncio.Queue[list[Payload] | None]) -> None:
        self.backoff.reset()  # data flows: the next drop starts from the base delay again
        await queue.put([p])


def _hint(status: int) -> str:
    if status in (401, 403):
        return " (set VIGIE_INGEST_TOKEN to a token that may read this stream)"
    return " (check the URL)"


def _redact(url: str) -> str:
    """The URL without an access_token query parameter."""
    parts = urlsplit(url)
    query = [(k, "***" if k == "access_token" else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))
