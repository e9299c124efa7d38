"""Golden check: every built-in scenario replayed offline gives the recorded documents, exactly.

The documents in tests/golden were first recorded before the dataflow was reorganised (one
detector protocol, one per-watch loop), and re-recorded when situations came (the signals were
checked identical to the recorded alerts but for schema_version before the signal lifecycle
changed). Any change in a situation message or a signal (id, type, status, sequence, severity,
evidence, summary), a suppression or hold count or a watch view shows here. When a change of
behaviour is intended, regenerate them with `python -m tests.unit.test_golden` and say why in
the commit.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.dev.replay_offline import run_scenario
from streams.settings import Settings
from tests.unit.scenario_runs import replay

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
# a stricter anti-fatigue policy: exercises the cooldown and the hourly cap; its states go
# through the changelog codec between every step (roundtrip)
STRICT = Settings(max_updates_per_hour=1, alert_cooldown_s=7200, resolve_after_s=300)
CASES: dict[str, dict[str, Any]] = {
    "bank-bad-buzz": {"name": "bank-bad-buzz"},
    "quiet-days": {"name": "quiet-days"},
    "crisis-week": {"name": "crisis-week"},
    "mobilisation": {"name": "mobilisation"},
    "mobilisation-strict": {"name": "mobilisation", "days": 1.5, "settings": STRICT,
                            "roundtrip": True},
}


def _run(case: str) -> dict[str, Any]:
    kw = dict(CASES[case])
    name = kw.pop("name")
    run = replay(name) if not kw else run_scenario(name, **kw)
    return dict(orjson.loads(orjson.dumps(run.golden())))


def _first_difference(want: Any, got: Any, path: str = "") -> str:
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got)):
            if want.get(k, "<absent>") != got.get(k, "<absent>"):
                return _first_difference(want.get(k, "<absent>"), got.get(k, "<absent>"),
                                         f"{path}/{k}")
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{path}: {len(want)} items recorded, {len(got)} now"
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{i}]")
    return f"{path}: recorded {want!r:.300}, now {got!r:.300}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_scenario_alerts_are_the_recorded_ones(case: str) -> None:
    want = orjson.loads((GOLDEN / f"{case}.json").read_bytes())
    got = _run(case)
    assert got == want, _first_difference(want, got)
    if case != "quiet-days":
        assert got["signals"] and got["situations"], "a golden file without alerts proves little"


def main(cases: list[str]) -> None:
    """Record the golden files (all cases, or those named)."""
    for case in cases or sorted(CASES):
        (GOLDEN / f"{case}.json").write_bytes(orjson.dumps(
            _run(case), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        print(f"wrote {GOLDEN / case}.json")


if __name__ == "__main__":
    main(sys.argv[1:])
