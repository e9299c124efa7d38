"""Input guard: input records the Kafka client consumed but never handed to the ingest agent.

Why: after a SIGKILL restart (2 of 31 against Tansu) we saw a worker whose consumer position
for one input partition was at the end of the topic while the ingest agent had received none of
that partition's records, and stayed so. Nothing was counted: the bad buzz in them was missed.
Where Faust 0.15.3 loses them is not pinned down (DEVELOPERS.md lists the suspects).

What: every check compares, per assigned input partition, the consumer's position with the
next offset the agent expects (the larger of the last received + 1 and the committed offset,
else the partition's earliest offset). When the position is ahead while the whole ingest stage
is idle and nothing has moved for ``grace_s``, the records in between were skipped: the worker
seeks back to the first one (a counted, logged rewind). Redelivered records are harmless: partials
carry their source offsets and merge once. A rewind is not repeated for the same
(expected, position) pair, so a gap with no record in it (a transaction marker) costs one seek.

Pure: ``check(state, observed, idle, now_s, grace_s) -> (state, rewinds)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

GRACE_S = 10.0
BEGINNING = -1  # rewind target of a partition with nothing received or committed


@dataclass(frozen=True)
class Observed:
    """One input partition at a check: where the client is and what the agent received."""

    position: int | None  # next offset the client will return; None: unknown
    received: int | None  # highest offset the ingest agent received; None: none yet
    committed: int | None  # next offset to read, as committed; None: no commit


@dataclass(frozen=True)
class GuardState:
    """Per partition: the (expected, position) pair seen first and since when; last rewinds."""

    seen: Mapping[int, tuple[int, int, float]] = field(default_factory=dict)
    rewound: Mapping[int, tuple[int, int]] = field(default_factory=dict)


def expected_next(o: Observed) -> int:
    """The next offset the agent should receive (BEGINNING when nothing says)."""
    # after a rebalance the committed offset may be past what this worker last received
    known = [x for x in (None if o.received is None else o.received + 1, o.committed)
             if x is not None]
    return max(known) if known else BEGINNING


def check(state: GuardState, observed: Mapping[int, Observed], idle: bool, now_s: float,
          grace_s: float = GRACE_S) -> tuple[GuardState, dict[int, int]]:
    """Partitions to rewind (partition -> offset, or BEGINNING) and the new state.

    ``idle``: the ingest stage holds no record (nothing buffered, in flight or unfinished).
    """
    seen: dict[int, tuple[int, int, float]] = {}
    rewound = {p: r for p, r in state.rewound.items() if p in observed}
    rewinds: dict[int, int] = {}
    for p, o in sorted(observed.items()):
        exp = expected_next(o)
        pos = o.position
        if pos is None or not idle or pos <= (exp if exp != BEGINNING else 0):
            continue
        first = state.seen.get(p)
        since = first[2] if first is not None and first[:2] == (exp, pos) else now_s
        seen[p] = (exp, pos, since)
        if now_s - since >= grace_s and rewound.get(p) != (exp, pos):
            rewinds[p] = exp
            rewound[p] = (exp, pos)
    return GuardState(seen, rewound), rewinds
