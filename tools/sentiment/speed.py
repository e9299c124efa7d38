"""texts/s of this scorer, another checkout's scorer and VADER, alternated in one run.

Development-time only (VADER: the `sentiment-train` extra). Each round runs every scorer in
its own child process (a checkout's `streams` package cannot share a process with another),
pinned to the same CPU, over the same set; a child warms up, then times passes over the set for
at least --seconds and reports the median pass. The table gives the median over rounds and the
ratios, with the load average before and after.

    taskset -c 1 .venv/bin/python tools/sentiment/speed.py --old /tmp/main-checkout \\
        --set ../shared/eval/sentiment/data/en_tweeteval_val.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

_CHILD = r"""
import json, statistics, sys, time
root, kind, path, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
texts = [r["text"] for r in rows]
lang = rows[0].get("lang") or None
if kind == "vader":
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    f = SentimentIntensityAnalyzer().polarity_scores
    def run():
        for t in texts:
            f(t)
else:
    sys.path.insert(0, root)
    from streams.text.sentiment import score
    def run():
        for t in texts:
            score(t, lang)
run()
rates, spent = [], 0.0
clock = time.process_time if sys.argv[5] == "cpu" else time.perf_counter
while len(rates) < 3 or spent < seconds:
    t0 = clock()
    run()
    dt = clock() - t0
    spent += dt
    rates.append(len(texts) / dt)
print(statistics.median(rates))
"""


def child(root: str, kind: str, path: str, seconds: float, clock: str) -> float:
    out = subprocess.run([sys.executable, "-c", _CHILD, root, kind, path, str(seconds), clock],
                         check=True, capture_output=True, text=True, cwd=root)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--old", required=True, help="root of a checkout of the scorer to compare")
    ap.add_argument("--set", dest="path", required=True, help="a JSONL set of texts")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: the child's own CPU time (less sensitive to a loaded machine)")
    a = ap.parse_args()
    # SPEED_NEW: another tree to time as "new" (default: this checkout)
    here = os.path.abspath(os.environ.get("SPEED_NEW")
                           or os.path.join(os.path.dirname(__file__), "..", ".."))
    path = os.path.abspath(a.path)
    scorers = {"new": (here, "vigie"), "old": (os.path.abspath(a.old), "vigie"),
               "vader": (here, "vader")}
    load0 = os.getloadavg()
    rates: dict[str, list[float]] = {k: [] for k in scorers}
    for _ in range(a.rounds):
        for name, (root, kind) in scorers.items():
            rates[name].append(child(root, kind, path, a.seconds, a.clock))
    load1 = os.getloadavg()
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"set {os.path.basename(path)}, {a.rounds} rounds, cpu affinity "
          f"{sorted(os.sched_getaffinity(0))}, {a.clock} clock, "
          f"load {load0[0]:.2f} -> {load1[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    for k, v in rates.items():
        print(f"  {k:<6} median {med[k]:>9.0f} texts/s  rounds: "
              + " ".join(f"{x:.0f}" for x in v))
    print(f"  new/vader {med['new'] / med['vader']:.2f}x   old/vader "
          f"{med['old'] / med['vader']:.2f}x   new/old {med['new'] / med['old']:.3f}")
    ratios = [n / o for n, o in zip(rates["new"], rates["old"], strict=True)]
    print("  new/old per round: " + " ".join(f"{r:.3f}" for r in ratios))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"rates": rates, "median": med, "load": [load0, load1]}, f, indent=1)


if __name__ == "__main__":
    main()
