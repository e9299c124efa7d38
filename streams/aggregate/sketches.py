"""Bounded-memory, mergeable heavy-hitter sketches (Space-Saving with weights and decay).

``SpaceSaving(k)`` monitors at most ``k`` items.  Each monitored item carries an upper bound
``count`` of its (weighted) frequency and an ``error`` such that::

    count - error <= true frequency <= count

and every item that is not monitored has a true frequency ``<= floor``.  As long as the sketch
is only built with ``add_many``/``merge``/``scaled`` (no ``prune``), the sum of the counters never
exceeds the total weight ``N`` added, hence ``floor <= N / k`` and ``error <= N / k``: every item
heavier than ``N / k`` is monitored.

Merging follows the mergeable-summaries construction (Agarwal et al. 2012; Cafaro et al. 2016
for Space-Saving): an item missing from one side is charged that side's floor, the union is
truncated to the ``k`` largest upper bounds, and the floor becomes the largest dropped bound.
``add_many`` is the merge with an exact summary of one batch, so a batch of ``m`` items costs
O((k + m) log k) whatever the order of its items, and its result does not depend on that order.

Weights may be floats: ``scaled(f)`` multiplies every bound by ``f`` (exponential decay keeps
the guarantees for the decayed weights).  Sketches are immutable values: every operation
returns a new sketch and never mutates its inputs.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

Entry = tuple[float, float]  # (count upper bound, error)


def _truncate(items: dict[str, Entry], k: int, floor: float) -> tuple[dict[str, Entry], float]:
    """Keep the k largest upper bounds (ties by name, so the result is deterministic)."""
    if len(items) <= k:
        return items, floor
    kept = heapq.nsmallest(k + 1, items.items(), key=lambda kv: (-kv[1][0], kv[0]))
    # everything dropped is bounded by the (k+1)-th largest count
    return dict(kept[:k]), max(floor, kept[k][1][0])


@dataclass(frozen=True, eq=True)
class SpaceSaving:
    """Immutable weighted Space-Saving sketch of at most k monitored items."""

    k: int
    items: Mapping[str, Entry] = field(default_factory=dict)
    floor: float = 0.0  # upper bound of the frequency of any item that is not monitored
    total: float = 0.0  # total weight added (decayed with the counts)

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got k={self.k}")

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: object) -> bool:
        return item in self.items

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)

    def estimate(self, item: str) -> float:
        """Upper bound of an item's frequency (its counter, or the floor if not monitored)."""
        entry = self.items.get(item)
        return self.floor if entry is None else entry[0]

    def lower(self, item: str) -> float:
        """Guaranteed lower bound of an item's frequency (0 if not monitored)."""
        entry = self.items.get(item)
        return 0.0 if entry is None else max(entry[0] - entry[1], 0.0)

    def error_bound(self) -> float:
        """Largest possible overestimate of any item right now."""
        return self.floor if len(self.items) < self.k else max(
            self.floor, min(c for c, _ in self.items.values()))

    def add_many(self, counts: Mapping[str, float]) -> SpaceSaving:
        """Sketch of this stream followed by one batch of exact (item -> weight) counts."""
        items = dict(self.items)
        fl = self.floor
        added = 0.0
        for item, n in counts.items():
            if not n > 0:  # zero, negative and NaN weights are not occurrences
                continue
            added += n
            entry = items.get(item)
            items[item] = (n + fl, fl) if entry is None else (entry[0] + n, entry[1])
        items, fl = _truncate(items, self.k, fl)
        return SpaceSaving(self.k, items, fl, self.total + added)

    def merge(self, other: SpaceSaving) -> SpaceSaving:
        """Sketch of the concatenation of both streams, with self.k counters."""
        fa, fb = self.floor, other.floor
        items: dict[str, Entry] = {}
        for item, (c, e) in self.items.items():
            o = other.items.get(item)
            items[item] = (c + fb, e + fb) if o is None else (c + o[0], e + o[1])
        for item, (c, e) in other.items.items():
            if item not in self.items:
                items[item] = (c + fa, e + fa)
        items, fl = _truncate(items, self.k, fa + fb)
        return SpaceSaving(self.k, items, fl, self.total + other.total)

    def scaled(self, factor: float) -> SpaceSaving:
        """Every weight multiplied by factor in [0, 1] (exponential decay)."""
        if factor == 1.0:
            return self
        f = min(max(factor, 0.0), 1.0)
        items = {item: (c * f, e * f) for item, (c, e) in self.items.items()}
        return SpaceSaving(self.k, items, self.floor * f, self.total * f)

    def prune(self, min_count: float) -> SpaceSaving:
        """Drop items whose upper bound is below min_count (the floor keeps the bound)."""
        dropped = [c for c, _ in self.items.values() if c < min_count]
        if not dropped:
            return self
        items = {item: ce for item, ce in self.items.items() if ce[0] >= min_count}
        return SpaceSaving(self.k, items, max(self.floor, max(dropped)), self.total)

    def top(self, n: int) -> list[tuple[str, float, float]]:
        """The n items with the largest counts: (item, count, error), heaviest first."""
        if n <= 0:
            return []
        best = heapq.nsmallest(n, self.items.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [(item, c, e) for item, (c, e) in best]
