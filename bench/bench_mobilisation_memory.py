"""Benchmark: memory and cost of mobilisation detection, 1M posts/hour across 10,000 hashtags.

Run from the repo root: ``.venv/bin/python bench/bench_mobilisation_memory.py [--watches 10]``.
One hour of event time in 60 s buckets: ``--posts`` posts (1-3 hashtags each, Zipf over
``--tags`` hashtags, 200,000 authors, 5 % affiliated bios) spread over ``--watches`` watches go
through ``CampaignBuilder`` (batches of 500) -> ``merge_campaigns`` per (watch, bucket) ->
``mobilisation.update`` + ``evaluate`` per watch and bucket.  Posts are generated per bucket
(outside the timings) and dropped after use, so the RSS growth is the pipeline's state.
Reported: RSS growth (/proc/self/status), tracemalloc peak (``--tracemalloc``, slower),
us/post, and the final detector state size (bytes of its JSON).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import sys
import time
import tracemalloc
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams import codec
from streams.aggregate.bucket import author_hash
from streams.aggregate.campaign import Affiliation, CampaignAgg, CampaignBuilder, merge_campaigns
from streams.detectors import mobilisation as mob
from streams.events.model import Author, SocialEvent

T0 = 1_710_316_800  # Wednesday 2024-03-13 08:00 UTC
WORDS = ("banque", "clients", "équipes", "fiers", "service", "panne", "argent", "appli", "carte",
         "virement", "conseiller", "agence", "match", "rugby", "stade", "bravo", "scandale",
         "frais", "prêt", "compte", "semaine", "matin")


def rss_mb() -> float:
    """Resident set size of this process in MB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("VmRSS not in /proc/self/status")


def _authors(rng: random.Random, n: int) -> list[Author]:
    bios = ("", "Dev web | café", "Conseillère chez SG", "Tweets are my own", "Parisienne")
    return [Author(f"a{i}", f"user{i}", int(rng.lognormvariate(5, 1.6)), False,
                   bios[0] if rng.random() < 0.5 else bios[1 + (i % 4)] if i % 20 else bios[2],
                   T0 - rng.uniform(1, 4000) * 86400) for i in range(n)]


def _bucket_posts(rng: random.Random, b: int, n: int, authors: list[Author],
                  cum: list[float], tags: list[str], seq: itertools.count) -> list[SocialEvent]:
    out = []
    for _ in range(n):
        k = 1 + (rng.random() < 0.4) + (rng.random() < 0.1)
        ts = tuple(rng.choices(tags, cum_weights=cum, k=k))
        words = " ".join(rng.choices(WORDS, k=rng.randint(8, 25)))
        out.append(SocialEvent(f"p{next(seq)}", "x", b + rng.random() * 60,
                               rng.choice(authors), f"{words} #{' #'.join(ts)}", hashtags=ts))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--tags", type=int, default=10_000)
    ap.add_argument("--watches", type=int, default=1)
    ap.add_argument("--buckets", type=int, default=60)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--tracemalloc", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    authors = _authors(rng, 200_000)
    tags = [f"tag{i:05d}" for i in range(args.tags)]
    cum = list(itertools.accumulate(1.0 / (i + 1) ** 1.05 for i in range(args.tags)))
    watches = [f"w{i:02d}" for i in range(args.watches)]
    aff = Affiliation(bio_cues=(" chez sg ",), brand_terms=(" sg ",), tz="Europe/Paris")
    affs = dict.fromkeys(watches, aff)
    hashes = {a.id: author_hash(a.id) for a in authors}
    states = {w: mob.initial_state() for w in watches}
    seq = itertools.count()
    per_bucket = args.posts // args.buckets
    gc.collect()
    rss0 = rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    spent = {"builder": 0.0, "merge": 0.0, "detector": 0.0}
    signals = 0
    for k in range(args.buckets):
        b = T0 + 60 * k
        posts = _bucket_posts(rng, b, per_bucket, authors, cum, tags, seq)
        merged: dict[str, dict[str, CampaignAgg]] = {w: {} for w in watches}
        for i in range(0, len(posts), args.batch):
            t0 = time.perf_counter()
            builder = CampaignBuilder(affs)
            for j, ev in enumerate(posts[i:i + args.batch]):
                w = watches[(i + j) % len(watches)]
                builder.add(w, ev.hashtags or (), ev, 0.2, hashes[ev.author.id], b)
            parts = builder.freeze()
            t1 = time.perf_counter()
            for (w, _), by_tag in parts.items():
                merged[w] = merge_campaigns(merged[w], by_tag)
            t2 = time.perf_counter()
            spent["builder"] += t1 - t0
            spent["merge"] += t2 - t1
        t0 = time.perf_counter()
        for w in watches:
            states[w] = mob.fold(states[w], b, merged[w], per_bucket // 10,
                                   per_bucket // len(watches), office_bucket=True)
            signals += len(mob.evaluate(states[w]))
        spent["detector"] += time.perf_counter() - t0
        del posts, merged
        if k % 10 == 9 or k == args.buckets - 1:
            size = sum(len(codec.dumps(s)) for s in states.values())
            print(f"  minute {k + 1:3d}: RSS +{rss_mb() - rss0:7.1f} MB, state JSON "
                  f"{size / 1e3:8.1f} kB, tracked {sum(len(s.tracked) for s in states.values())}")
    peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    gc.collect()
    total_posts = per_bucket * args.buckets
    size = sum(len(codec.dumps(s)) for s in states.values())
    print(f"{total_posts} posts, {args.tags} hashtags, {args.watches} watch(es), "
          f"{args.buckets} buckets; signals evaluated: {signals}")
    print(f"RSS growth {rss_mb() - rss0:.1f} MB"
          + (f"; tracemalloc peak {peak / 1e6:.1f} MB" if peak is not None else ""))
    for name, s in spent.items():
        print(f"  {name:8s} {s / total_posts * 1e6:6.2f} us/post")
    print(f"  total    {sum(spent.values()) / total_posts * 1e6:6.2f} us/post")
    print(f"final state: {size} bytes of JSON ({size / len(watches):.0f} per watch)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
