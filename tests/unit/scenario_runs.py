"""Offline replays of the built-in scenarios, each run once per test session (they are slow)."""

from __future__ import annotations

from functools import cache
from typing import Any

from streams.dev.replay_offline import DEFAULT_END, OfflineRun, run_scenario
from streams.dev.scenarios import SCENARIOS


@cache
def replay(name: str) -> OfflineRun:
    """The scenario replayed offline with its default seed, length and settings."""
    return run_scenario(name)


@cache
def truth(name: str) -> dict[str, Any]:
    """The scenario's ground truth (the same fixed end as the replay)."""
    return SCENARIOS[name](end=DEFAULT_END).truth()
