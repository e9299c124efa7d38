"""The worker's tables (Faust, raw bytes both ways) and a memo of their decoded values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
MEMO_STATES = 10_000  # decoded watch states kept per worker (one per watch)
MEMO_BUCKETS = 4096  # decoded buckets kept per worker (the open ones are the ones reused)


class TableMemo(Generic[T]):
    """Process-local memo of decoded table values: key -> (raw value, decoded snapshot).

    The table stays the source of truth: a memo entry is used only while the table still
    holds the very bytes it was decoded from (same object, or equal bytes after a changelog
    recovery), so it can never serve a stale value. Snapshots are immutable, so sharing one
    between reads is safe. At most max_items keys are kept (oldest dropped first).
    """

    __slots__ = ("_decode", "_items", "_max")

    def __init__(self, decode: Callable[[Any], T | None], max_items: int) -> None:
        self._decode = decode
        self._items: dict[bytes, tuple[Any, T | None]] = {}
        self._max = max_items

    def get(self, key: bytes, raw: Any) -> T | None:
        """The decoded form of raw, the current table value at key."""
        if raw is None:  # a missing or deleted key
            self._items.pop(key, None)
            return None
        hit = self._items.get(key)
        if hit is not None and (hit[0] is raw or hit[0] == raw):
            return hit[1]
        value = self._decode(raw)
        self.put(key, raw, value)
        return value

    def discard(self, key: bytes) -> None:
        """Forget key (a value that will not be read again, e.g. a closed bucket)."""
        self._items.pop(key, None)

    def put(self, key: bytes, raw: Any, value: T | None) -> None:
        """Remember that raw (just written at key) decodes to value."""
        items = self._items
        items.pop(key, None)  # re-inserted last: insertion order is the eviction order
        items[key] = (raw, value)
        if len(items) > self._max:
            del items[next(iter(items))]
