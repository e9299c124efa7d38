"""The input guard: records the client consumed and the agent never received are re-read."""

from __future__ import annotations

from streams.input_guard import BEGINNING, GRACE_S, GuardState, Observed, check, expected_next


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
