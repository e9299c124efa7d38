"""NAB realTweets evaluation of the product's volume-spike detector (eval code only)."""

from __future__ import annotations

import argparse
import csv
import glob
import importlib.util
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC
from types import ModuleType
from typing import Any

from streams.detectors.volume import VolumeConfig, initial_state, update

log = logging.getLogger(__name__)

CORPUS = "realTweets"


def _load_nab_score(nab_root: str) -> ModuleType:
    """Import NAB's scorer from the evaluation folder (only ever at eval time)."""
    path = os.path.join(nab_root, "nab_score.py")
    spec = importlib.util.spec_from_file_location("vigie_nab_score", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def replay(nab_score: ModuleType, csv_path: str, cfg: VolumeConfig
           ) -> tuple[list[Any], list[float]]:
    """Feed one series to the detector one point at a time; timestamps and per-row scores."""
    with open(csv_path, newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        it, iv = header.index("timestamp"), header.index("value")
        rows = [(r[it], r[iv]) for r in reader if r]
    state = initial_state(cfg)
    stamps, scores = [], []
    for ts_text, value in rows:
        dt = nab_score.parse_time(ts_text)
        state = update(state, dt.replace(tzinfo=UTC).timestamp(), float(value), cfg)
        stamps.append(dt)
        scores.append(state.score)
    return stamps, scores


def run(nab_root: str, json_path: str | None = None,
        out: Callable[[str], Any] = print) -> dict[str, dict[str, float | None]]:
    """Replay every realTweets series through the default detector and score it the NAB way."""
    nab_score = _load_nab_score(nab_root)
    cfg = VolumeConfig()
    windows = nab_score.load_windows(
        os.path.join(nab_root, "labels", "combined_windows.json"), CORPUS)
    files = sorted(glob.glob(os.path.join(nab_root, "data", CORPUS, "*.csv")))
    series = {}
    for path in files:
        rel = f"{CORPUS}/{os.path.basename(path)}"
        if rel not in windows:
            log.warning("unlabelled series skipped file=%s", rel)
            continue
        series[rel] = replay(nab_score, path, cfg)
    if not series:
        raise SystemExit(f"no labelled {CORPUS} series under {nab_root}")
    windows = {rel: w for rel, w in windows.items() if rel in series}
    profiles = nab_score.load_profiles(None)
    names = nab_score._profile_names("all", profiles)
    loo = len(series) > 1  # leave-one-file-out needs another file to pick the threshold on
    opt = nab_score.evaluate(series, windows, profiles, names, loo=loo)
    fixed = nab_score.evaluate(series, windows, profiles, names,
                               fixed_thresholds={p: cfg.alert_threshold for p in names})
    result: dict[str, dict[str, float | None]] = {"optimised": {}, "fixed": {}, "loo": {}}
    out(f"volume detector on {len(series)} {CORPUS} series "
        f"(fixed threshold = alert_threshold {cfg.alert_threshold:.3f})")
    for p in names:
        result["optimised"][p] = float(opt[p]["score"])
        result["fixed"][p] = float(fixed[p]["score"])
        result["loo"][p] = float(opt[p]["loo_score"]) if loo else None
        loo_text = f"{opt[p]['loo_score']:6.1f}" if loo else "n/a"
        out(f"{p:20s} optimised={opt[p]['score']:6.1f} (thr={opt[p]['threshold']:.3f})  "
            f"fixed={fixed[p]['score']:6.1f}  loo={loo_text}")
    for pf in fixed["standard"]["per_file"]:
        out(f"  {pf['file']:40s} standard raw at fixed threshold={pf['raw']:7.3f} "
            f"hit={pf['win_hit']} miss={pf['win_miss']} fp={pf['fp']}")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=1)
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m streams.dev.eval.volume --nab-root ../shared/eval/nab [--json out.json]."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nab-root", required=True, help="folder with data/, labels/, nab_score.py")
    ap.add_argument("--json", default=None, help="write the scores as JSON here")
    args = ap.parse_args(argv)
    run(args.nab_root, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
