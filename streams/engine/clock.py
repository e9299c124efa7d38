"""Event time per internal partition: the input partitions' watermarks, and idle closing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Clock:
    """Event-time clock of one internal partition: the watermark of every input partition.

    The effective watermark is the minimum over input partitions, as in Flink, so a fast
    partition cannot close a bucket a slower one still feeds. An input partition that is caught
    up (no record left to read) and has not advanced for idle_s follows the wall clock from
    there, so a quiet stream still closes. One with records still to read is slow, not idle:
    it holds buckets open however long it takes (a backlog after a restart, a loaded worker).
    """

    # source -> (watermark or None if nothing read yet, wall time of its last advance, backlog)
    sources: dict[str, tuple[float | None, float, bool]] = field(default_factory=dict)
    first_data_s: float | None = None  # wall time the first watermark of any source was seen

    def observe(self, source: str, watermark_s: float | None, wall_s: float,
                backlog: bool = False) -> None:
        """Record an input partition's watermark (monotonic); None: assigned, nothing read yet;
        backlog: it still has records to read."""
        if watermark_s is not None and self.first_data_s is None:
            self.first_data_s = wall_s
        prev = self.sources.get(source)
        if prev is None or (watermark_s is not None and (prev[0] is None or watermark_s > prev[0])):
            self.sources[source] = (watermark_s, wall_s, backlog)
        else:
            self.sources[source] = (prev[0], prev[1], backlog)

    def effective(self, wall_s: float, idle_s: float) -> float | None:
        """The watermark buckets may close against; None while it is not known yet.

        An assigned input partition that has not delivered anything holds every bucket open
        while it has a backlog, and for idle_s after data started flowing on any partition;
        after that an empty one is ignored.
        """
        marks = []
        for wm, since, backlog in self.sources.values():
            if wm is None:
                # its grace runs from when data started flowing at all (a restart after a
                # quiet spell: the others' first records must not close its buckets)
                if backlog or wall_s - max(since, self.first_data_s or since) < idle_s:
                    return None
                continue
            marks.append(wm if backlog else wm + max(0.0, wall_s - since - idle_s))
        return min(marks) if marks else None


def observe_tick(clock: Clock, doc: Mapping[str, Any], wall_s: float, idle_s: float
                 ) -> float | None:
    """Feed a tick's input-partition watermarks to a clock; return its effective watermark."""
    busy = set(doc.get("busy", ()))  # input partitions with records still to read
    for src, wm in doc.get("wm", {}).items():
        clock.observe(src, None if wm is None else float(wm), wall_s, src in busy)
    return clock.effective(wall_s, idle_s)
