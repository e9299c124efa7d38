"""Benchmark: memory and cost of the global trending-hashtag state under 1M distinct hashtags.

Run from the repo root: ``.venv/bin/python bench/bench_trending_memory.py [--distinct N]``.
One hour of event time in 60 s buckets goes through one ``TrendState`` (the global scope):
``--distinct`` hashtags seen once each, plus a Zipf mix of ``--vocab`` recurring hashtags
(``--repeated`` occurrences per bucket), with a burst of a new hashtag in the last 20 minutes.
Target: the RSS added by the state (after - before, /proc/self/status VmRSS) <= 150 MB.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repo root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams import codec
from streams.detectors import trending as T

TARGET_MB = 150.0
T0 = 1_700_000_000 - (1_700_000_000 % 3600)


def rss_mb(field: str = "VmRSS") -> float:
    """Resident set size (or VmHWM peak) of this process in MB, from /proc/self/status."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"{field} not in /proc/self/status")


def bucket_counts(b: int, n_buckets: int, distinct: int, vocab: list[str],
                  weights: list[float], repeated: int, rng: random.Random) -> dict[str, int]:
    """Hashtag counts of bucket b: its share of one-off hashtags plus the recurring mix."""
    lo, hi = distinct * b // n_buckets, distinct * (b + 1) // n_buckets
    counts: dict[str, int] = {f"once{i:07d}": 1 for i in range(lo, hi)}
    counts.update(Counter(rng.choices(vocab, weights, k=repeated)))
    if b >= n_buckets - 20:
        counts["nouveautrend"] = 50
    return counts


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--distinct", type=int, default=1_000_000, help="one-off hashtags in total")
    ap.add_argument("--vocab", type=int, default=20_000, help="recurring hashtags (Zipf)")
    ap.add_argument("--repeated", type=int, default=20_000, help="recurring occurrences/bucket")
    ap.add_argument("--buckets", type=int, default=60, help="60 s buckets (60 = one hour)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    vocab = [f"tag{i}" for i in range(args.vocab)]
    weights = [1.0 / (i + 1) ** 1.1 for i in range(args.vocab)]
    cfg = T.DEFAULT
    state = T.initial_state(cfg)
    # warm the generator and the code paths so that their allocations are not counted
    T.top(T.fold(T.initial_state(cfg), T0 - 3600, bucket_counts(
        0, 10**6, 10, vocab, weights, 100, random.Random(0)), cfg), cfg.top_n, cfg)
    gc.collect()
    before = rss_mb()

    costs_ms: list[float] = []
    distinct_seen = 0
    occurrences = 0
    onset_bucket: int | None = None
    for b in range(args.buckets):
        counts = bucket_counts(b, args.buckets, args.distinct, vocab, weights, args.repeated,
                               rng)
        distinct_seen += sum(1 for t in counts if t.startswith("once"))
        occurrences += sum(counts.values())
        t = time.perf_counter()
        state = T.fold(state, T0 + 60 * b, counts, cfg)
        costs_ms.append((time.perf_counter() - t) * 1000.0)
        if onset_bucket is None and any(s.tag == "nouveautrend" for s in T.evaluate(state)):
            onset_bucket = b - (args.buckets - 20) + 1
        del counts
    t = time.perf_counter()
    top = T.top(state, cfg.top_n, cfg)
    top_ms = (time.perf_counter() - t) * 1000.0
    gc.collect()
    after = rss_mb()
    growth = after - before
    stored = len(codec.dumps(state))

    print(f"event time: {args.buckets} buckets of 60 s; {distinct_seen:,} distinct one-off "
          f"hashtags + {args.vocab:,} recurring (Zipf 1.1, {args.repeated:,}/bucket); "
          f"{occurrences:,} occurrences")
    print(f"sketches: recent {len(state.recent)}/{cfg.recent_k}, "
          f"baseline {len(state.base)}/{cfg.baseline_k}, tracked statuses {len(state.status)}")
    print(f"RSS before {before:.1f} MB, after {after:.1f} MB, growth {growth:.1f} MB "
          f"(target <= {TARGET_MB:.0f} MB: {'OK' if growth <= TARGET_MB else 'MISSED'}); "
          f"peak VmHWM {rss_mb('VmHWM'):.1f} MB")
    print(f"update cost per bucket: mean {statistics.fmean(costs_ms):.1f} ms, "
          f"median {statistics.median(costs_ms):.1f} ms, max {max(costs_ms):.1f} ms "
          f"(~{args.distinct // args.buckets:,} one-offs + {args.repeated:,} recurring per "
          f"bucket); top({cfg.top_n}) {top_ms:.1f} ms")
    print(f"stored state (codec JSON): {stored / 1024:.0f} KiB")
    print(f"burst of a new hashtag at 50/min: reported at its bucket {onset_bucket} "
          "(1 = the first)")
    print("top trends: " + ", ".join(f"{x.rank}.{x.tag} {x.score:.2f} ({x.count:.0f} vs "
                                     f"{x.baseline:.0f})" for x in top[:5]))
    return 0 if growth <= TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
