"""Micro-benchmark: cost of one volume-detector update, this tree against a git revision.

Run from the repo root: ``.venv/bin/python bench/bench_volume.py [--rev REV] [--passes N]``.
Load: a simulated watch (the simulator's rhythm, 5 posts/min, 60 s buckets, 10 days: the
product's bucket) and, when ../shared/eval/nab is present, the five NAB series (300 s buckets).
Both detectors run in the same process, alternately, pass after pass; the figure is the median
of the passes in microseconds per update, with the ratio new / old.  The early (pre-close)
projection calls the same update once per open bucket, so its cost scales with this figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from streams.detectors import volume as new_volume
from streams.dev.eval.volume_sim import counts, rhythm

ROOT = Path(__file__).resolve().parents[1]
FILES = ("volume", "_volume_math", "_volume_state")


def load_rev(rev: str, tmp: str) -> ModuleType:
    """Import streams/detectors/volume.py of a git revision as a standalone package."""
    pkg = Path(tmp) / "volume_rev"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in FILES:
        src = subprocess.run(["git", "show", f"{rev}:streams/detectors/{name}.py"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout
        (pkg / f"{name}.py").write_text(src.replace("streams.detectors.", "volume_rev."))
    sys.path.insert(0, tmp)
    spec = importlib.util.find_spec("volume_rev.volume")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loads(nab_root: str) -> dict[str, tuple[float, list[tuple[float, float]]]]:
    """Named series: (bucket size, [(ts, count)])."""
    out = {}
    x = counts(5.0, 10.0, seed=1, act=rhythm(10 * 1440))
    t0 = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
    out["sim 5/min, 60 s"] = (60.0, [(t0 + 60.0 * i, c) for i, c in enumerate(x.tolist())])
    nab = Path(nab_root) / "data" / "realTweets"
    if nab.is_dir():
        rows: list[tuple[float, float]] = []
        for path in sorted(nab.glob("*.csv")):
            for line in path.read_text().splitlines()[1:]:
                ts, v = line.split(",")
                rows.append((datetime.fromisoformat(ts).replace(tzinfo=UTC).timestamp(),
                             float(v)))
        out["NAB 5 series, 300 s"] = (300.0, rows)
    return out


def one_pass(module: ModuleType, rows: list[tuple[float, float]]) -> float:
    """Microseconds per update over the whole series (a fresh state per series start)."""
    cfg = module.VolumeConfig()
    state = module.initial_state(cfg)
    last = -1.0
    t = time.perf_counter()
    for ts, c in rows:
        if ts <= last:  # next NAB series: a fresh detector
            state = module.initial_state(cfg)
        state = module.update(state, ts, c, cfg)
        last = ts
    return (time.perf_counter() - t) / len(rows) * 1e6


def main(argv: list[str] | None = None) -> int:
    """Print the median microseconds per update of both revisions, pass by pass alternated."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="8c32d2c", help="revision to compare with (the old detector)")
    ap.add_argument("--passes", type=int, default=7)
    ap.add_argument("--nab-root", default=str(ROOT / ".." / "shared" / "eval" / "nab"))
    args = ap.parse_args(argv)
    load1 = os.getloadavg()[0]
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}"
          f", {os.cpu_count()} cores, Python {platform.python_version()}, load {load1:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        old = load_rev(args.rev, tmp)
        for name, (_step, rows) in loads(args.nab_root).items():
            a: list[float] = []
            b: list[float] = []
            for _ in range(args.passes):
                a.append(one_pass(old, rows))
                b.append(one_pass(new_volume, rows))
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"{name:22s} {len(rows):7d} updates  {args.rev}: {ma:6.1f} us  this tree: "
                  f"{mb:6.1f} us  ratio {mb / ma:.2f}  (passes: "
                  f"{' '.join(f'{x:.0f}' for x in a)} | {' '.join(f'{x:.0f}' for x in b)})")
    print(f"load at the end {os.getloadavg()[0]:.2f}; numpy {np.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
