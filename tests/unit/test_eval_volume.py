"""The NAB evaluation command on a tiny synthetic NAB-layout folder."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from streams.dev.eval import volume as eval_volume
from streams.dev.eval import volume_sim

# the scorer lives beside the checkout (../shared/eval/nab); NAB_ROOT points elsewhere
SHARED_NAB = Path(os.environ.get("NAB_ROOT") or
                  Path(__file__).resolve().parents[2] / ".." / "shared" / "eval" / "nab")
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
    for key in ("loo", "optimised", "fixed", "threshold"):
        assert set(result[key]) == PROFILES
        assert all(isinstance(v, float) and v <= 100.0 for v in result[key].values())
    # the spike is found once, early in its window, with no false alarm: close to perfect
    assert result["optimised"]["standard"] > 80.0
    assert result["fixed"]["standard"] > 80.0
    # (leave-one-out on two one-spike series is the threshold of one spike tried on the other)
    assert result["fixed_threshold"] == eval_volume.VolumeConfig().alert_threshold
    per = result["per_series"]
    assert set(per) == {"realTweets/Twitter_volume_TEST.csv", "realTweets/Twitter_volume_LOW.csv"}
    assert all(s["windows_hit"] == 1 and s["false_alarms"] == 0 for s in per.values())
    # leave-one-out leads the printout
    assert lines[1].split()[1].startswith("LOO=")


def test_main_parses_arguments(nab_root: Path, tmp_path: Path) -> None:
    out_json = tmp_path / "cli.json"
    assert eval_volume.main(["--nab-root", str(nab_root), "--json", str(out_json),
                             "--perturb"]) == 0
    data = json.loads(out_json.read_text())
    assert set(data) == {"nab", "perturb"}
    assert set(data["perturb"]) == {"0", "1", "2", "3", "4", "5"}


def test_main_rejects_a_folder_without_the_scorer(tmp_path: Path) -> None:
    assert eval_volume.main(["--nab-root", str(tmp_path)]) == 2


def test_sensitivity_moves_each_parameter_both_ways(nab_root: Path) -> None:
    lines: list[str] = []
    table = eval_volume.sensitivity(str(nab_root), names=["warning_days", "evidence_s"],
                                    out=lines.append)
    assert list(table) == ["baseline", "warning_days x0.7", "warning_days x1.3",
                           "evidence_s x0.7", "evidence_s x1.3"]
    assert len(lines) == 5 and all("LOO=" in line for line in lines)


def test_simulated_series_follow_the_rhythm_and_spikes_are_found() -> None:
    act = volume_sim.rhythm(7 * 1440)
    assert abs(act.mean() - 1.0) < 1e-9 and act.max() / act.min() > 10  # quiet nights
    steps = volume_sim.rhythm(7 * 1440, smooth=False)
    assert abs(steps.mean() - 1.0) < 1e-9 and np.abs(np.diff(steps)).max() > 0.2
    x = volume_sim.counts(50.0, 7.0, seed=3, act=act)
    assert abs(x.sum() / (7 * 1440 * 50.0) - 1.0) < 0.01
    d = volume_sim.delays(volume_sim.VolumeConfig(), 50.0, 5.0, watches=2, warm_days=2.0)
    assert d["detected"] == 2 and d["median_alert_min"] is not None
    assert d["median_alert_min"] <= 5.0  # a 5x spike on a 50/min watch: within minutes
    cal = volume_sim.calibration(volume_sim.VolumeConfig(), 5.0, watches=1, warm_days=2.0,
                                 days=1.0, levels=(1.0, 30.0))
    assert set(cal["levels"]) == {"1.0", "30.0"} and cal["quiet_days"] == 1.0
