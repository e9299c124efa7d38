"""Bounded per-sink queue, background drain task and HTTP retry loop shared by every sink."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, runtime_checkable

import aiohttp

from streams.outputs.delivery._config import (
    DROP_CLIENT_ERROR,
    DROP_GAVE_UP,
    DROP_QUEUE_FULL,
    Alert,
    DeliveryConfig,
    meets_severity,
)

log = logging.getLogger(__name__)
C = TypeVar("C", bound=DeliveryConfig)

def _noop(*_args: object) -> None:
    return None


@dataclass(frozen=True)
class DeliveryCallbacks:
    """Counters as plain callbacks; the caller wires them to Prometheus."""

    on_delivered: Callable[[str], None] = _noop
    on_dropped: Callable[[str, str], None] = _noop
    on_retry: Callable[[str], None] = _noop


@dataclass(frozen=True)
class Request:
    """One HTTP POST, fully prepared except for per-attempt headers."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Sink(Protocol):
    """What the worker holds a list of: non-blocking submit, flush on close."""

    name: str

    def accepts(self, alert: Alert) -> bool:
        """True when this sink wants the alert (severity filter)."""
        ...

    def submit(self, alert: Alert) -> bool:
        """Enqueue without blocking; False when filtered out or dropped."""
        ...

    async def close(self, timeout_s: float = 5.0) -> int:
        """Flush what can be flushed in ``timeout_s``; return the number abandoned."""
        ...


def parse_retry_after(value: str | None, now_s: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now_s is None else now_s
    return max(0.0, when.timestamp() - now)


def backoff_s(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter before retry number ``attempt`` (1-based)."""
    ceiling = min(max_s, base_s * (2 ** (attempt - 1)))
    return rng.uniform(ceiling / 2, ceiling)


class QueuedSink(Generic[C]):
    """Base of every sink: severity filter, bounded queue, drain task, retries.

    Subclasses implement ``build_request(alert)`` (their config, typed, is ``self.config``)
    and may override ``attempt_headers``.
    """

    def __init__(
        self,
        config: C,
        callbacks: DeliveryCallbacks | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.min_severity = config.min_severity
        self.timeout_s = config.timeout_s
        self.max_attempts = config.max_attempts
        self.base_backoff_s = config.base_backoff_s
        self.max_backoff_s = config.max_backoff_s
        self.callbacks = callbacks or DeliveryCallbacks()
        # Jitter only needs to decorrelate senders, not to be unpredictable.
        self._rng = rng or random.Random()
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize=config.queue_size)
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = False
        self._abandoned_inflight = 0

    # --- subclass hooks -----------------------------------------------------------------
    def build_request(self, alert: Alert) -> Request:
        """Prepare the POST for one alert (payload, URL, static headers)."""
        raise NotImplementedError

    def attempt_headers(self, request: Request) -> dict[str, str]:
        """Headers computed afresh on each attempt (e.g. a signature with a timestamp)."""
        return dict(request.headers)

    # --- public API ---------------------------------------------------------------------
    def accepts(self, alert: Alert) -> bool:
        """True when the alert's severity is at or above this sink's ``min_severity``."""
        return meets_severity(alert, self.min_severity)

    def submit(self, alert: Alert) -> bool:
        """Enqueue without ever blocking; False when filtered out, closing or queue full."""
        if self._closing or not self.accepts(alert):
            return False
        try:
            self._queue.put_nowait(alert)
        except asyncio.QueueFull:
            self._count_drop(DROP_QUEUE_FULL, alert)
            return False
        if self._task is None:
            with contextlib.suppress(RuntimeError):  # no running loop yet: start() later
                self.start()
        return True

    def start(self) -> None:
        """Start the drain task on the running loop (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name=f"vigie-delivery-{self.name}")

    @property
    def pending(self) -> int:
        """Alerts waiting in the queue (not counting the one being delivered)."""
        return self._queue.qsize()

    async def close(self, timeout_s: float = 5.0) -> int:
        """Stop accepting, flush for up to ``timeout_s``, then abandon the rest (gave_up)."""
        self._closing = True
        if self._task is None and not self._queue.empty():
            self.start()
        abandoned = 0
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=max(0.0, timeout_s))
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # A cancelled in-flight delivery is reported by _drain; count what never started.
        while not self._queue.empty():
            self._count_drop(DROP_GAVE_UP, self._queue.get_nowait())
            self._queue.task_done()
            abandoned += 1
        if self._session is not None:
            await self._session.close()
            self._session = None
        return abandoned + self._abandoned_inflight

    # --- internals ----------------------------------------------------------------------
    def _call(self, callback: Callable[..., None], *args: str) -> None:
        try:
            callback(*args)
        except Exception:  # a broken metrics callback must never kill delivery
            log.exception("delivery callback failed sink=%s", self.name)

    def _count_drop(self, reason: str, alert: Alert) -> None:
        log.warning("alert dropped sink=%s reason=%s dedup_key=%s", self.name, reason,
                    alert.get("dedup_key"))
        self._call(self.callbacks.on_dropped, self.name, reason)

    async def _drain(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                await self._deliver(alert)
            except asyncio.CancelledError:
                self._abandoned_inflight += 1
                self._count_drop(DROP_GAVE_UP, alert)
                raise
            except Exception:
                log.exception("delivery failed sink=%s dedup_key=%s", self.name,
                              alert.get("dedup_key"))
                self._count_drop(DROP_GAVE_UP, alert)
            finally:
                self._queue.task_done()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        return self._session

    async def _deliver(self, alert: Alert) -> None:
        request = self.build_request(alert)
        for attempt in range(1, self.max_attempts + 1):
            wait_s = await self._attempt(request, alert, attempt)
            if wait_s is None:
                return
            if attempt == self.max_attempts:
                break
            self._call(self.callbacks.on_retry, self.name)
            await asyncio.sleep(wait_s)
        self._count_drop(DROP_GAVE_UP, alert)

    async def _attempt(self, request: Request, alert: Alert, attempt: int) -> float | None:
        """One POST; None when finished (delivered or dropped), else seconds to wait."""
        retry_after: float | None = None
        try:
            async with self._client().post(
                request.url, data=request.body, headers=self.attempt_headers(request),
                allow_redirects=False,
            ) as response:
                status = response.status
                detail = (await response.text())[:200]
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            status, detail = 0, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            log.debug("alert delivered sink=%s dedup_key=%s attempt=%d", self.name,
                      alert.get("dedup_key"), attempt)
            self._call(self.callbacks.on_delivered, self.name)
            return None
        if status and status != 429 and status < 500:
            log.warning("delivery rejected sink=%s status=%d detail=%r", self.name, status,
                        detail)
            self._count_drop(DROP_CLIENT_ERROR, alert)
            return None
        wait_s = backoff_s(attempt, self.base_backoff_s, self.max_backoff_s, self._rng)
        if retry_after is not None:
            # The server knows best, but one alert must never hold the queue forever.
            wait_s = min(max(wait_s, retry_after), self.max_backoff_s)
        log.info("delivery failed, will retry sink=%s status=%d attempt=%d wait_s=%.2f "
                 "detail=%r", self.name, status, attempt, wait_s, detail)
        return wait_s
