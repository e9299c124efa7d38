"""NAB realTweets evaluation of the product's volume-spike detector (eval code only).

Leave-one-series-out first (each series scored at the threshold optimised on the others), then
NAB's own threshold optimised with hindsight, then the product's fixed alert threshold; per
series: windows found, false alarms and their rate per week of data.  ``--sensitivity`` moves
every parameter by -30 % and +30 %; ``--perturb`` drops the first rows of each series, which
shows how much of a difference is noise.  Protocol: streams/dev/eval/VOLUME.md.
"""

from __future__ import annotations

import argparse
import csv
import glob
import importlib.util
import json
import logging
import os
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC
from types import ModuleType
from typing import Any

from streams.detectors.volume import VolumeConfig, initial_state, update
from streams.dev.eval import volume_sim
from streams.dev.eval.volume_sim import scaled

log = logging.getLogger(__name__)

CORPUS = "realTweets"
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
Series = dict[str, tuple[list[Any], list[float]]]


def _load_nab_score(nab_root: str) -> ModuleType:
    """Import NAB's scorer from the evaluation folder (only ever at eval time)."""
    path = os.path.join(nab_root, "nab_score.py")
    spec = importlib.util.spec_from_file_location("vigie_nab_score", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(csv_path: str) -> list[tuple[str, str]]:
    with open(csv_path, newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader)]
        it, iv = header.index("timestamp"), header.index("value")
        return [(r[it], r[iv]) for r in reader if r]


def replay(nab_score: ModuleType, csv_path: str, cfg: VolumeConfig, skip: int = 0
           ) -> tuple[list[Any], list[float]]:
    """Feed one series to the detector one point at a time; timestamps and per-row scores.

    ``skip`` rows at the start are shown to the scorer with score 0 but not to the detector.
    """
    state = initial_state(cfg)
    stamps, scores = [], []
    for i, (ts_text, value) in enumerate(_rows(csv_path)):
        dt = nab_score.parse_time(ts_text)
        if i >= skip:
            state = update(state, dt.replace(tzinfo=UTC).timestamp(), float(value), cfg)
        stamps.append(dt)
        scores.append(state.score if i >= skip else 0.0)
    return stamps, scores


def _series(nab_score: ModuleType, nab_root: str, cfg: VolumeConfig, skip: int = 0
            ) -> tuple[Series, dict[str, Any]]:
    windows = nab_score.load_windows(
        os.path.join(nab_root, "labels", "combined_windows.json"), CORPUS)
    series: Series = {}
    for path in sorted(glob.glob(os.path.join(nab_root, "data", CORPUS, "*.csv"))):
        rel = f"{CORPUS}/{os.path.basename(path)}"
        if rel not in windows:
            log.warning("unlabelled series skipped file=%s", rel)
            continue
        series[rel] = replay(nab_score, path, cfg, skip)
    if not series:
        raise SystemExit(f"no labelled {CORPUS} series under {nab_root}")
    return series, {rel: w for rel, w in windows.items() if rel in series}


def score(nab_score: ModuleType, series: Series, windows: dict[str, Any], cfg: VolumeConfig
          ) -> dict[str, Any]:
    """LOO, optimised and fixed-threshold scores per profile, per-series detail (standard)."""
    profiles = nab_score.load_profiles(None)
    loo = len(series) > 1  # leave-one-series-out needs another series to pick the threshold
    opt = nab_score.evaluate(series, windows, profiles, list(PROFILES), loo=loo)
    fixed = nab_score.evaluate(series, windows, profiles, list(PROFILES),
                               fixed_thresholds=dict.fromkeys(PROFILES, cfg.alert_threshold))
    result: dict[str, Any] = {"loo": {}, "optimised": {}, "fixed": {}, "threshold": {},
                              "fixed_threshold": cfg.alert_threshold, "per_series": {}}
    for p in PROFILES:
        result["loo"][p] = float(opt[p]["loo_score"]) if loo else None
        result["optimised"][p] = float(opt[p]["score"])
        result["fixed"][p] = float(fixed[p]["score"])
        result["threshold"][p] = float(opt[p]["threshold"])
    for pf in fixed["standard"]["per_file"]:
        stamps = series[pf["file"]][0]
        weeks = (stamps[-1] - stamps[0]).total_seconds() / (7 * 86400)
        result["per_series"][pf["file"]] = {
            "windows_hit": pf["win_hit"], "windows_missed": pf["win_miss"],
            "false_alarm_rows": pf["fp"], "false_alarms": pf["fp_events"],
            "weeks": weeks, "false_alarms_per_week": pf["fp_events"] / weeks}
    return result


def run(nab_root: str, json_path: str | None = None, out: Callable[[str], Any] = print,
        cfg: VolumeConfig | None = None) -> dict[str, Any]:
    """Replay every realTweets series through the detector and score it the NAB way."""
    nab_score = _load_nab_score(nab_root)
    cfg = cfg or VolumeConfig()
    series, windows = _series(nab_score, nab_root, cfg)
    result = score(nab_score, series, windows, cfg)
    out(f"volume detector on {len(series)} {CORPUS} series; fixed threshold = alert_threshold "
        f"{cfg.alert_threshold:.3f} (once in {cfg.warning_days:g} days)")
    for p in PROFILES:
        loo = result["loo"][p]
        out(f"{p:20s} LOO={'n/a' if loo is None else f'{loo:5.1f}'}  "
            f"optimised={result['optimised'][p]:5.1f} (thr={result['threshold'][p]:.3f})  "
            f"fixed={result['fixed'][p]:5.1f}")
    for rel, s in result["per_series"].items():
        out(f"  {rel:40s} windows {s['windows_hit']}/{s['windows_hit'] + s['windows_missed']}  "
            f"false alarms {s['false_alarms']} ({s['false_alarm_rows']} rows) in "
            f"{s['weeks']:.1f} weeks = {s['false_alarms_per_week']:.2f}/week")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(result, f, indent=1)
    return result


def sensitivity(nab_root: str, factor: float = 0.3, names: list[str] | None = None,
                out: Callable[[str], Any] = print) -> dict[str, Any]:
    """Standard-profile figures with each parameter moved by -factor and +factor."""
    nab_score = _load_nab_score(nab_root)
    base = VolumeConfig()
    names = names or [f.name for f in fields(VolumeConfig) if f.name not in ("bucket_s",)]
    table: dict[str, Any] = {}
    rows = [("baseline", base)]
    for name in names:
        rows += [(f"{name} x{1 - factor:g}", scaled(base, name, 1 - factor)),
                 (f"{name} x{1 + factor:g}", scaled(base, name, 1 + factor))]
    for label, cfg in rows:
        series, windows = _series(nab_score, nab_root, cfg)
        r = score(nab_score, series, windows, cfg)
        hit = sum(s["windows_hit"] for s in r["per_series"].values())
        total = hit + sum(s["windows_missed"] for s in r["per_series"].values())
        alarms = sum(s["false_alarms"] for s in r["per_series"].values())
        table[label] = {"loo": r["loo"]["standard"], "optimised": r["optimised"]["standard"],
                        "fixed": r["fixed"]["standard"], "windows": f"{hit}/{total}",
                        "false_alarms": alarms}
        t = table[label]
        out(f"{label:34s} LOO={t['loo']:5.1f} optimised={t['optimised']:5.1f} "
            f"fixed={t['fixed']:5.1f} windows={t['windows']} false alarms={alarms}")
    return table


def perturb(nab_root: str, skips: tuple[int, ...] = (1, 2, 3, 4, 5),
            out: Callable[[str], Any] = print) -> dict[str, Any]:
    """The same detector with the first rows of every series dropped: the figures' noise."""
    nab_score = _load_nab_score(nab_root)
    cfg = VolumeConfig()
    table: dict[str, Any] = {}
    for skip in (0, *skips):
        series, windows = _series(nab_score, nab_root, cfg, skip)
        r = score(nab_score, series, windows, cfg)
        table[str(skip)] = {k: r[k]["standard"] for k in ("loo", "optimised", "fixed")}
        out(f"first {skip} rows dropped: LOO={r['loo']['standard']:5.1f} optimised="
            f"{r['optimised']['standard']:5.1f} fixed={r['fixed']['standard']:5.1f}")
    return table


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m streams.dev.eval.volume --nab-root DIR [--json F] [--sensitivity]
    [--perturb]."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nab-root", required=True, help="folder with data/, labels/, nab_score.py")
    ap.add_argument("--json", default=None, help="write the scores as JSON here")
    ap.add_argument("--sensitivity", action="store_true", help="every parameter -30 %% / +30 %%")
    ap.add_argument("--perturb", action="store_true", help="drop the first 1-5 rows per series")
    ap.add_argument("--simulated", action="store_true",
                    help="also the simulated watches (streams.dev.eval.volume_sim, minutes)")
    args = ap.parse_args(argv)
    if not os.path.exists(os.path.join(args.nab_root, "nab_score.py")):
        print(f"error: no nab_score.py under {args.nab_root}")
        return 2
    result: dict[str, Any] = {"nab": run(args.nab_root)}
    if args.perturb:
        result["perturb"] = perturb(args.nab_root)
    if args.sensitivity:
        result["sensitivity"] = sensitivity(args.nab_root)
    if args.simulated:

        result["simulated"] = volume_sim.run()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
