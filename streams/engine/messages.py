"""The engine's messages: partial batches and ticks on the internal topic, table values.

An internal message is ``{"ps": [partial, ...]}`` (one per partials partition and input
record: Faust's cost is per message) or a tick ``{"tick": wall, "wm": {...}, "busy": [...]}``
announcing the input partitions' watermarks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from streams import codec
from streams.aggregate.bucket import GLOBAL, GLOBAL_HASHTAGS, BucketAgg, heaviest
from streams.engine.watch import WatchState

PARTIALS_KEY = "ps"


def bucket_key(watch: str, bucket: int) -> bytes:
    """Key of the buckets table."""
    return f"{watch}|{bucket}".encode()


def tick_doc(wall: float, watermarks: Mapping[int, float], ends: Mapping[int, int | None],
             done: Mapping[int, int], committed: Mapping[int, int | None]) -> dict[str, Any]:
    """A tick: input watermarks, and which partitions still have records to read ("busy").

    ``ends``: assigned input partition -> end offset as last fetched (None: not known yet);
    ``done``: last offset processed here; ``committed``: next offset to read as committed
    (a partition this worker has not read yet starts there, e.g. after a restart).
    """
    marks: dict[str, float | None] = {str(p): None for p in ends}
    marks.update({str(p): wm for p, wm in watermarks.items()})
    busy = [str(p) for p, end in sorted(ends.items())
            if end is None or max(done.get(p, -1) + 1, committed.get(p) or 0) < end]
    return {"tick": wall, "wm": marks, "busy": busy}


def closes_bucket(before_s: float, after_s: float, bucket_s: int, lateness_s: float) -> bool:
    """Whether a watermark moving from before_s to after_s makes another bucket closable."""
    return (after_s - lateness_s) // bucket_s > (before_s - lateness_s) // bucket_s


def partial_messages(partials: Iterable[BucketAgg],
                     partition_of: Callable[[str], int]) -> list[tuple[int, bytes]]:
    """One internal message per partition of the partials topic, holding all its partials."""
    encode = codec.encoder(BucketAgg)
    by_part: dict[int, list[Any]] = {}
    for p in partials:
        by_part.setdefault(partition_of(p.watch), []).append(encode(p))
    return [(part, orjson.dumps({PARTIALS_KEY: docs})) for part, docs in sorted(by_part.items())]


def partials_of(doc: Mapping[str, Any]) -> list[BucketAgg]:
    """The partials of an internal message."""
    decode = codec.decoder(BucketAgg)
    return [decode(d) for d in doc[PARTIALS_KEY]]


def _doc(raw: Any) -> Any:
    if raw is None or isinstance(raw, (bytes, bytearray, memoryview, str)):
        return None if not raw else orjson.loads(raw)
    raise TypeError(f"unexpected table value type {type(raw).__name__}: {raw!r:.200}")


def load_state(raw: bytes | None) -> WatchState | None:
    """Decode a watch-state table value (None for a missing or deleted key)."""
    doc = _doc(raw)
    return None if doc is None else codec.decode(WatchState, doc)


def load_bucket(raw: bytes | None) -> BucketAgg | None:
    """Decode a buckets table value (None for a missing or deleted key)."""
    doc = _doc(raw)
    return None if doc is None else codec.decode(BucketAgg, doc)


def dump_bucket(agg: BucketAgg) -> bytes:
    """A buckets table value."""
    return codec.dumps(agg)


class GlobalCounts:
    """Global-scope counts held until the next tick: one message per tick, not per record.

    A worker keeps one. Held counts carry no source offsets: global trending is context,
    never an alert, and a redelivery after a crash may count a few posts twice.
    """

    __slots__ = ("_held",)

    def __init__(self) -> None:
        # bucket -> [posts, max created, max arrival, {tag: posts}]
        self._held: dict[int, list[Any]] = {}

    def hold(self, partial: BucketAgg) -> None:
        """Add a global-scope partial's counts."""
        acc = self._held.get(partial.bucket_start)
        if acc is None:
            acc = self._held[partial.bucket_start] = [0, 0.0, 0.0, {}]
        acc[0] += partial.count
        acc[1] = max(acc[1], partial.max_created)
        acc[2] = max(acc[2], partial.max_arrival)
        counts = acc[3]  # added in place: a record must not copy the bucket's whole map
        for tag, n in partial.hashtags.items():
            counts[tag] = counts.get(tag, 0) + n

    def take(self) -> list[BucketAgg]:
        """The held partials, oldest bucket first; the hold is emptied."""
        held, self._held = self._held, {}
        return [BucketAgg(watch=GLOBAL, bucket_start=b, count=n, max_created=created,
                          max_arrival=arrival, hashtags=heaviest(counts, GLOBAL_HASHTAGS))
                for b, (n, created, arrival, counts) in sorted(held.items())]
