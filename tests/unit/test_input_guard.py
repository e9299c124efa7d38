"""The input guard: records the client consumed and the agent never received are re-read."""

from __future__ import annotations

import asyncio
from collections import namedtuple
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from streams.worker.input_guard import (
    BEGINNING,
    GRACE_S,
    GuardState,
    Observed,
    check,
    expected_next,
)


def _run(steps: list[tuple[dict[int, Observed], bool, float]]) -> list[dict[int, int]]:
    state, out = GuardState(), []
    for observed, idle, now in steps:
        state, rewinds = check(state, observed, idle, now)
        out.append(rewinds)
    return out


def test_expected_next_takes_the_furthest_known_offset() -> None:
    assert expected_next(Observed(30, 9, 5)) == 10
    assert expected_next(Observed(30, 3, 7)) == 7  # reassigned: the commit moved on meanwhile
    assert expected_next(Observed(30, None, 6)) == 6
    assert expected_next(Observed(30, None, None)) == BEGINNING


def test_a_skipped_partition_is_rewound_once_after_the_grace() -> None:
    # the stall seen after a restart: p1 at the end of its records, none received, p0 fine
    skipped = {0: Observed(28, 27, 7), 1: Observed(26, None, 6)}
    rewinds = _run([(skipped, True, 100.0), (skipped, True, 105.0),
                    (skipped, True, 100.0 + GRACE_S), (skipped, True, 120.0),
                    (skipped, True, 200.0)])
    assert rewinds == [{}, {}, {1: 6}, {}, {}]  # after grace_s, and never twice for the same


def test_no_rewind_while_records_are_in_the_stage_or_moving() -> None:
    busy = {0: Observed(40, 20, 0)}
    assert _run([(busy, False, t) for t in (0.0, 20.0, 40.0)]) == [{}, {}, {}]
    # received moves on between checks: the records are flowing, not skipped
    moving = [({0: Observed(40, 20 + i, 0)}, True, 6.0 * i) for i in range(6)]
    assert _run(moving) == [{}] * 6


def test_a_partition_caught_up_or_empty_is_left_alone() -> None:
    caught_up = {0: Observed(28, 27, 28), 1: Observed(0, None, None), 2: Observed(5, None, 5),
                 3: Observed(None, None, None)}
    assert _run([(caught_up, True, t) for t in (0.0, 30.0, 60.0)]) == [{}, {}, {}]


def test_nothing_received_nor_committed_rewinds_to_the_beginning() -> None:
    never = {0: Observed(26, None, None)}
    assert _run([(never, True, 0.0), (never, True, GRACE_S)]) == [{}, {0: BEGINNING}]


def test_a_new_gap_after_a_rewind_is_rewound_again() -> None:
    s1 = {0: Observed(26, 3, None)}
    s2 = {0: Observed(40, 30, None)}  # later, after more records: skipped again elsewhere
    assert _run([(s1, True, 0.0), (s1, True, 10.0), (s2, True, 20.0), (s2, True, 30.0)]) == [
        {}, {0: 4}, {}, {0: 31}]


def test_a_revoked_partition_is_forgotten() -> None:
    state, _ = check(GuardState(), {0: Observed(26, 3, None)}, True, 0.0)
    state, rewinds = check(state, {1: Observed(5, 4, 5)}, True, 50.0)
    assert rewinds == {} and dict(state.seen) == {} and dict(state.rewound) == {}


EVENTS = "social.events"
TP = namedtuple("TP", "topic partition")  # the shape of Faust's TP


class _Consumer:
    """The part of Faust's consumer the guard uses, with one partition skipped to its end."""

    def __init__(self, positions: dict[int, int | None], committed: dict[int, int]) -> None:
        self.tps = {p: TP(EVENTS, p) for p in positions}
        self.positions = positions
        self._committed_offset = {self.tps[p]: o for p, o in committed.items()}
        self.seeks: list[tuple[int, int]] = []

    def assignment(self) -> set[Any]:
        return {*self.tps.values(), TP("vigie.watch-partials", 0)}

    async def position(self, tp: Any) -> int | None:
        if self.positions[tp.partition] is None:
            await asyncio.sleep(3600)  # aiokafka waits for a valid position
        return self.positions[tp.partition]

    async def earliest_offsets(self, *tps: Any) -> dict[Any, int]:
        return {tp: 3 for tp in tps}

    async def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append((tp.partition, offset))


def test_the_worker_glue_seeks_the_skipped_partition_back_and_counts_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.settings import Settings
    from streams.worker import consumer_guard
    from streams.worker.context import build_context

    monkeypatch.setattr(consumer_guard, "POSITION_TIMEOUT_S", 0.05)
    rt = build_context(Settings(), CollectorRegistry())
    rt.input_received.update({0: 27})
    rt.input_offsets.update({0: 27})  # the stage is idle
    consumer = _Consumer({0: 28, 1: 26, 2: 9, 3: None}, {1: 6})

    async def run() -> None:
        state = GuardState()
        for now in (0.0, 5.0, 10.0, 15.0):
            state = await consumer_guard.guard_input(consumer, rt, state, now)

    asyncio.run(run())
    # p1: back to its committed offset; p2: nothing received or committed, to its earliest;
    # p0 caught up; p3's position unknown (timed out): left alone
    assert sorted(consumer.seeks) == [(1, 6), (2, 3)]
    counted = {s.labels["partition"]: s.value for fam in rt.metrics.registry.collect()
               if fam.name == "vigie_input_rewinds" for s in fam.samples
               if s.name.endswith("_total")}
    assert counted == {"1": 1.0, "2": 1.0}
