"""The NAB evaluation command on a tiny synthetic NAB-layout folder."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from streams.dev.eval import volume as eval_volume

SHARED_NAB = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval" / "nab"
PROFILES = {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}


@pytest.fixture
def nab_root(tmp_path: Path) -> Path:
    scorer = SHARED_NAB / "nab_score.py"
    if not scorer.exists():
        pytest.skip("../shared/eval/nab is not available")
    os.symlink(scorer.resolve(), tmp_path / "nab_score.py")
    (tmp_path / "data" / "realTweets").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    t0 = datetime(2015, 3, 2, tzinfo=UTC)
    n = 6 * 288  # six days of 5-minute buckets
    stamps = [(t0 + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(n)]
    labels = {}
    # two series (leave-one-out needs another file), each with one clear spike on day five
    for seed, (name, base) in enumerate((("TEST", 20), ("LOW", 1))):
        rng = np.random.default_rng(seed)
        counts = rng.poisson(base, n)
        counts[1200:1212] = rng.poisson(base * 20, 12)
        rows = "\n".join(f"{s},{c}" for s, c in zip(stamps, counts, strict=True))
        rel = f"realTweets/Twitter_volume_{name}.csv"
        (tmp_path / "data" / rel).write_text("timestamp,value\n" + rows + "\n")
        labels[rel] = [[stamps[1150] + ".000000", stamps[1250] + ".000000"]]
    (tmp_path / "labels" / "combined_windows.json").write_text(json.dumps(labels))
    return tmp_path


def test_run_writes_scores_for_every_profile(nab_root: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "scores.json"
    lines: list[str] = []
    result = eval_volume.run(str(nab_root), str(out_json), out=lines.append)
    assert json.loads(out_json.read_text()) == result
    assert set(result) == {"optimised", "fixed", "loo"}
    for part in result.values():
        assert set(part) == PROFILES
        assert all(isinstance(v, float) and v <= 100.0 for v in part.values())
    # the spike is found once, early in its window, with no false alarm: close to perfect
    assert (result["optimised"]["standard"] or 0.0) > 80.0
    assert (result["fixed"]["standard"] or 0.0) > 80.0
    assert any("optimised" in line and "standard" in line for line in lines)


def test_main_parses_arguments(nab_root: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "cli.json"
    assert eval_volume.main(["--nab-root", str(nab_root), "--json", str(out_json)]) == 0
    assert set(json.loads(out_json.read_text())) == {"optimised", "fixed", "loo"}
