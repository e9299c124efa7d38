"""Simulated count series for the volume detector: quiet weeks and injected spikes (eval only).

The rhythm is the simulator's (streams.simulate.HOURLY x WEEKDAY, Paris local time), rescaled
to a weekly mean of 1, so a watch of ``per_min`` posts per minute averages that over a week.
``smooth=True`` (the default here) interpolates both tables linearly between slot centres; the
simulator's own step rhythm (an audience that doubles at 07:00:00) is ``smooth=False``.

Run: ``python -m streams.dev.eval.volume_sim [--watches N] [--json FILE]`` prints false alarms per
quiet day against the promise (small and large watches) and the delay to detect spikes.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from streams.detectors.volume import DAY_S, VolumeConfig, initial_state, update
from streams.dev.simulate import HOURLY, PARIS, WEEKDAY

STEP_S = 60.0  # the product's bucket
START = datetime(2026, 1, 5, tzinfo=UTC).timestamp()  # a Monday, UTC midnight
SIZES = {"small": 0.2, "large": 50.0}  # posts per minute, weekly mean
MULTS = (2.0, 3.0, 5.0)



def scaled(cfg: VolumeConfig, name: str, factor: float) -> VolumeConfig:
    """cfg with one parameter (a number or a tuple of them) multiplied by factor."""
    value = getattr(cfg, name)
    new: Any
    if isinstance(value, tuple):
        new = tuple(v * factor for v in value)
    elif isinstance(value, int) and not isinstance(value, bool):
        new = max(1, round(value * factor))
    else:
        new = value * factor
    return replace(cfg, **{name: new})

def _interp(table: tuple[float, ...], pos: float) -> float:
    pos -= 0.5  # table entry i is the value at the centre of slot i
    lo = math.floor(pos)
    f = pos - lo
    return table[lo % len(table)] * (1.0 - f) + table[(lo + 1) % len(table)] * f


def _activity(ts: float, smooth: bool) -> float:
    local = datetime.fromtimestamp(ts, tz=UTC).astimezone(PARIS)
    if not smooth:
        return HOURLY[local.hour] * WEEKDAY[local.weekday()]
    hour = local.hour + local.minute / 60.0 + local.second / 3600.0
    return _interp(HOURLY, hour) * _interp(WEEKDAY, local.weekday() + hour / 24.0)


def rhythm(n: int, smooth: bool = True, start: float = START,
           step_s: float = STEP_S) -> np.ndarray:
    """Relative activity of n buckets from start (weekly mean 1; the series repeats weekly)."""
    week = round(7 * DAY_S / step_s)
    one = np.array([_activity(start + i * step_s, smooth) for i in range(week)])
    one /= one.mean()
    return np.resize(one, n)


@dataclass(frozen=True)
class Spike:
    """An injected spike: the rate is mult x the baseline from onset for minutes."""

    onset_i: int
    minutes: float
    mult: float


def counts(per_min: float, days: float, seed: int, smooth: bool = True,
           spikes: Iterable[Spike] = (), act: np.ndarray | None = None) -> np.ndarray:
    """Poisson counts per 60 s bucket of a watch of per_min posts/min, with injected spikes."""
    n = round(days * DAY_S / STEP_S)
    lam = per_min * STEP_S / 60.0 * (act if act is not None else rhythm(n, smooth))[:n]
    lam = lam.copy()
    for s in spikes:
        lam[s.onset_i:s.onset_i + round(s.minutes)] *= s.mult
    return np.random.default_rng(seed).poisson(lam).astype(float)


def _replay(x: np.ndarray, cfg: VolumeConfig, on_bucket: Callable[[int, Any], None]) -> None:
    state = initial_state(cfg)
    for i, c in enumerate(x.tolist()):
        state = update(state, START + i * STEP_S, c, cfg)
        on_bucket(i, state)


def calibration(cfg: VolumeConfig, per_min: float, watches: int, warm_days: float,
                days: float, levels: tuple[float, ...], smooth: bool = True,
                seed: int = 0) -> dict[str, Any]:
    """False alarms per quiet day: spikes (one per onset) whose return period reached a level."""
    act = rhythm(round((warm_days + days) * DAY_S / STEP_S), smooth)
    first = round(warm_days * DAY_S / STEP_S)
    hits = dict.fromkeys(levels, 0)
    for w in range(watches):
        x = counts(per_min, warm_days + days, seed * 1000 + w, smooth, act=act)
        peaks: list[float] = []

        def on_bucket(i: int, st: Any, peaks: list[float] = peaks) -> None:
            if i < first or not st.elevated:
                return
            if st.onset or not peaks:
                peaks.append(st.return_days)
            else:
                peaks[-1] = max(peaks[-1], st.return_days)

        _replay(x, cfg, on_bucket)
        for lv in levels:
            hits[lv] += sum(p >= lv for p in peaks)
    quiet_days = watches * days
    return {"per_min": per_min, "watches": watches, "quiet_days": quiet_days,
            "levels": {str(lv): {"promise_per_day": 1.0 / lv, "alarms": hits[lv],
                                 "per_day": hits[lv] / quiet_days,
                                 "ratio": hits[lv] * lv / quiet_days} for lv in levels}}


def delays(cfg: VolumeConfig, per_min: float, mult: float, watches: int, warm_days: float,
           smooth: bool = True, seed: int = 0) -> dict[str, Any]:
    """Minutes from a spike's start to its first alert (score >= alert) and first report."""
    rng = np.random.default_rng(10_000 + seed)
    days = warm_days + 1.0
    act = rhythm(round(days * DAY_S / STEP_S), smooth)
    alert, report, missed = [], [], 0
    for w in range(watches):
        onset = round((warm_days + rng.uniform(0.0, 0.9)) * DAY_S / STEP_S)
        minutes = float(rng.uniform(30.0, 60.0))
        x = counts(per_min, days, seed * 1000 + w, smooth, [Spike(onset, minutes, mult)], act)
        seen: dict[str, int] = {}

        def on_bucket(i: int, st: Any, seen: dict[str, int] = seen, onset: int = onset,
                      minutes: float = minutes) -> None:
            if i < onset or i > onset + minutes + 60 or not st.score:
                return
            seen.setdefault("report", i)
            if st.score >= cfg.alert_threshold:
                seen.setdefault("alert", i)

        _replay(x, cfg, on_bucket)
        # a bucket is known when it closes: the delay counts to the end of the bucket
        if "alert" in seen:
            alert.append(seen["alert"] - onset + 1)
        else:
            missed += 1
        if "report" in seen:
            report.append(seen["report"] - onset + 1)
    return {"per_min": per_min, "mult": mult, "watches": watches, "detected": len(alert),
            "missed": missed, "median_alert_min": _median(alert),
            "p90_alert_min": _quantile(alert, 0.9), "median_report_min": _median(report)}


def _median(xs: list[int]) -> float | None:
    return _quantile(xs, 0.5)


def _quantile(xs: list[int], q: float) -> float | None:
    return float(np.quantile(xs, q)) if xs else None


def run(watches: int = 30, warm_days: float = 28.0, days: float = 14.0,
        delay_watches: int = 40, smooth: bool = True, cfg: VolumeConfig | None = None,
        out: Callable[[str], Any] = print, seed: int = 1) -> dict[str, Any]:
    """Calibration on quiet weeks and spike delays, small and large watches."""
    cfg = cfg or VolumeConfig()
    # the product's levels with its own onset rule; below watch_days the curve needs onsets at
    # 1 day (the return period does not depend on the onset level, the spike grouping does)
    curve_cfg = replace(cfg, watch_days=1.0, warning_days=3.0)
    runs = ((cfg, (cfg.watch_days, cfg.warning_days, cfg.crisis_days)), (curve_cfg, (1.0, 3.0)))
    result: dict[str, Any] = {"smooth": smooth, "seed": seed, "calibration": {}, "delays": {}}
    out(f"simulated watches, {'smooth' if smooth else 'step'} rhythm, {STEP_S:.0f} s buckets, "
        f"{watches} watches x {days:g} quiet days after {warm_days:g} days of history, "
        f"seed {seed}")
    for name, per_min in SIZES.items():
        levels: dict[str, Any] = {}
        for run_cfg, lvs in runs:
            cal = calibration(run_cfg, per_min, watches, warm_days, days, lvs, smooth, seed)
            levels.update(cal["levels"])
        result["calibration"][name] = {"per_min": per_min, "quiet_days": watches * days,
                                       "levels": levels}
        cells = "  ".join(f"T>={float(k):g}d {v['per_day']:.4f}/d vs {v['promise_per_day']:.4f} "
                          f"(x{v['ratio']:.2f}, n={v['alarms']})"
                          for k, v in sorted(levels.items(), key=lambda kv: float(kv[0])))
        out(f"  {name:5s} {per_min:g}/min  {cells}")
    for name, per_min in SIZES.items():
        result["delays"][name] = {}
        for mult in MULTS:
            d = delays(cfg, per_min, mult, delay_watches, min(warm_days, 14.0), smooth, seed)
            result["delays"][name][str(mult)] = d
            out(f"  {name:5s} spike x{mult:g} for 30-60 min: alerted {d['detected']}/"
                f"{d['watches']}, median {d['median_alert_min']} min (p90 "
                f"{d['p90_alert_min']}), first report median {d['median_report_min']} min")
    return result


CALIBRATION_PARAMS = ["level_half_life_s", "daily_half_life_s", "weekly_half_life_s", "clip_z",
                      "elevated_slowdown", "evidence_s", "dispersion_rate_per_day",
                      "spikes_per_crossing", "prior_dispersion", "rearm_days", "rearm_s",
                      "history_z"]


def sensitivity(factor: float = 0.3, watches: int = 10, warm_days: float = 28.0,
                days: float = 14.0, names: list[str] | None = None, seed: int = 2,
                out: Callable[[str], Any] = print) -> dict[str, Any]:
    """Quiet-watch false alarms per promise at 3 and 10 days, each parameter -/+ factor.

    Onsets at 1 day (as in the calibration curve) so that a short run holds enough spikes;
    by default the parameters that act on quiet watches (the others do nothing there).
    """
    from dataclasses import fields


    base = replace(VolumeConfig(), watch_days=1.0, warning_days=3.0)
    names = names or CALIBRATION_PARAMS
    assert set(names) <= {f.name for f in fields(VolumeConfig)}
    rows = [("baseline", base)]
    for name in names:
        rows += [(f"{name} x{1 - factor:g}", scaled(base, name, 1 - factor)),
                 (f"{name} x{1 + factor:g}", scaled(base, name, 1 + factor))]
    table: dict[str, Any] = {}
    for label, cfg in rows:
        cells = {}
        for size, per_min in SIZES.items():
            cal = calibration(cfg, per_min, watches, warm_days, days, (3.0, 10.0), True, seed)
            for lv, v in cal["levels"].items():
                cells[f"{size} {float(lv):g}d"] = v["ratio"]
        table[label] = cells
        out(f"{label:34s} " + "  ".join(f"{k}: x{v:.2f}" for k, v in cells.items()))
    return table


def main(argv: list[str] | None = None) -> int:
    """CLI: python -m streams.dev.eval.volume_sim [--watches N] [--steps] [--json FILE]."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--watches", type=int, default=30, help="quiet watches per size")
    ap.add_argument("--warm-days", type=float, default=28.0)
    ap.add_argument("--days", type=float, default=14.0, help="quiet days measured per watch")
    ap.add_argument("--delay-watches", type=int, default=40, help="spikes per size and mult")
    ap.add_argument("--steps", action="store_true", help="the simulator's step rhythm")
    ap.add_argument("--seed", type=int, default=1,
                    help="seed set (0 was used to measure spikes_per_crossing)")
    ap.add_argument("--sensitivity", action="store_true",
                    help="instead: each parameter -30 %% / +30 %%, short runs (about an hour)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if args.sensitivity:
        res = sensitivity()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1)
        return 0
    res = run(args.watches, args.warm_days, args.days, args.delay_watches, not args.steps,
              seed=args.seed)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
