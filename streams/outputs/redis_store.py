"""Redis: the alert dedup ledger and the current state of each watch, never blocking alerts."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
LAST_ALERTS = 200


class RedisStore:
    """Best-effort Redis writer: failures are counted, states are retried, alerts still flow."""

    def __init__(self, url: str, prefix: str, dedup_ttl_s: int, timeout_s: float,
                 on_error: Callable[[str], None], password: str | None = None) -> None:
        self._client = aioredis.Redis.from_url(
            url, password=password or None, socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s, retry_on_timeout=False)
        self._prefix = prefix
        self._ttl_s = dedup_ttl_s
        self._on_error = on_error
        self._pending: dict[str, bytes] = {}  # watch -> latest state not yet written

    def key(self, *parts: str) -> str:
        """Namespaced key."""
        return ":".join((self._prefix, *parts))

    async def claim(self, dedup_key: str) -> bool:
        """True when this alert emission was not seen before (SET NX EX); True if Redis fails."""
        try:
            ok = await self._client.set(self.key("dedup", dedup_key), b"1", nx=True,
                                        ex=self._ttl_s)
        except (RedisError, OSError) as exc:
            self._failed("claim", exc)
            return True  # Kafka is the source of truth: fail open, subscribers dedup on id
        return bool(ok)

    async def publish_state(self, watch: str, state: dict[str, Any]) -> None:
        """Store the current state of a watch; kept pending and retried when Redis is down."""
        self._pending[watch] = orjson.dumps(state)
        await self.flush()

    async def read_state(self, watch: str) -> dict[str, Any] | None:
        """The last published state of a scope (another worker may own it); None if unknown."""
        try:
            blob = await self._client.get(self.key("watch", watch))
        except (RedisError, OSError) as exc:
            self._failed("read_state", exc)
            return None
        return None if blob is None else dict(orjson.loads(blob))

    async def rosters(self, watches: list[str]) -> dict[str, list[str]] | None:
        """Roster handles per watch from the sets <prefix>:roster:<watch>; None if unreachable."""
        try:
            pipe = self._client.pipeline(transaction=False)
            for w in watches:
                pipe.smembers(self.key("roster", w))
            found = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("rosters", exc)
            return None
        return {w: sorted(h.decode() if isinstance(h, bytes) else str(h) for h in members)
                for w, members in zip(watches, found, strict=True) if members}

    async def record_alert(self, alert: dict[str, Any]) -> None:
        """Keep the last alerts in a capped list for dashboards and the live page."""
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.lpush(self.key("alerts"), orjson.dumps(alert))
            pipe.ltrim(self.key("alerts"), 0, LAST_ALERTS - 1)
            await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("record_alert", exc)

    async def flush(self) -> int:
        """Write pending watch states; return how many are still pending."""
        if not self._pending:
            return 0
        batch = dict(self._pending)
        try:
            pipe = self._client.pipeline(transaction=False)
            for watch, blob in batch.items():
                pipe.set(self.key("watch", watch), blob)
            await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("publish_state", exc)
            return len(self._pending)
        for watch, blob in batch.items():
            if self._pending.get(watch) is blob:
                del self._pending[watch]
        return len(self._pending)

    async def close(self) -> None:
        """Close the connection pool."""
        with contextlib.suppress(RedisError, OSError):
            await self._client.aclose()

    def _failed(self, op: str, exc: BaseException) -> None:
        self._on_error(op)
        log.warning("redis call failed op=%s error=%s", op, type(exc).__name__)
