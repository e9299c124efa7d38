"""Micro-benchmark: SimHash of a post, and the campaign builder's hot-path cost per post.

Run from the repo root: ``.venv/bin/python bench/bench_campaign.py [--seconds S]``.
Load: the ``mobilisation`` simulator scenario's posts that match the ``socgen`` watch and carry
hashtags (roster employees, fresh accounts, the public), parsed beforehand.  Reported:

- ``simhash64`` on a 200-character accented post with a URL and a mention, and an ASCII one;
- ``CampaignBuilder.add`` per (post, tag) and per post, and ``freeze`` (one partial per batch
  of 500 posts, SimHash for the kept samples only) amortised per post.
Targets (issue 4 brief): simhash <= 15 us, add + freeze <= ~3 us per (post, tag).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.aggregate.bucket import author_hash
from streams.aggregate.build import hashtags_of
from streams.aggregate.campaign import Affiliation, CampaignBuilder, post_hash
from streams.aggregate.neardup import simhash64
from streams.dev import scenarios, simulate
from streams.events.model import SocialEvent
from streams.events.parse import parse_event
from streams.text.normalize import fold_tag
from streams.watches.matcher import WatchMatcher, load_watches

ROOT = Path(__file__).resolve().parents[1]
POST = ("Société Générale vole ses clients, retirez votre argent maintenant ! #SGvoleurs @bob "
        "https://x.co/a Fiers de notre banque et de nos équipes, derrière les gros titres il y a "
        "des femmes et des hommes 2024")
POST_ASCII = ("Proud to work with amazing people every day at the bank, our teams stay mobilised "
              "for our clients whatever the headlines say today #BecauseWeLoveSG #TeamSG @bob ok")


def _best_us(fn: object, number: int, repeat: int = 15) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6  # type: ignore


def _posts() -> tuple[list[tuple[SocialEvent, tuple[str, ...], float, int, int]], Affiliation]:
    sc = scenarios.mobilisation(end=datetime(2024, 3, 14, 6, tzinfo=UTC))
    matcher = WatchMatcher(load_watches(ROOT / "streams" / "data" / "watches.toml"))
    aff = Affiliation.from_watch(matcher.watch("socgen"), sc.truth()["roster"]["socgen"])
    out = []
    for raw in simulate.generate(sc, seed=7):
        ev = parse_event(raw)
        tags = hashtags_of(ev)
        if tags and "socgen" in matcher.match(ev.text, tags, (), ev.author.handle, ev.lang):
            folded = tuple({fold_tag(t) for t in tags})
            out.append((ev, folded, 0.1, author_hash(ev.author.id),
                        int(ev.created_at // 60) * 60))
    return out, aff


def main(argv: list[str] | None = None) -> int:
    """Run and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=500, help="posts per builder (one batch)")
    ap.add_argument("--rounds", type=int, default=5, help="best of this many passes")
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"simhash64: {_best_us(lambda: simhash64(POST), 3000):.2f} us for {len(POST)} chars "
          f"(accents, URL, mention); {_best_us(lambda: simhash64(POST_ASCII), 3000):.2f} us "
          f"for {len(POST_ASCII)} ASCII chars")
    posts, aff = _posts()
    pairs = sum(len(p[1]) for p in posts)
    affs = {"socgen": aff}
    batches = [posts[i:i + args.batch] for i in range(0, len(posts), args.batch)]
    best_add = best_freeze = float("inf")
    kept: set[int] = set()
    for _ in range(args.rounds):
        add_s = freeze_s = 0.0
        for batch in batches:
            b = CampaignBuilder(affs)
            t0 = time.perf_counter()
            for ev, tags, sentiment, ah, bucket in batch:
                b.add("socgen", tags, ev, sentiment, ah, bucket)
            t1 = time.perf_counter()
            parts = b.freeze()
            freeze_s += time.perf_counter() - t1
            add_s += t1 - t0
            kept.update(s[0] for tags in parts.values() for a in tags.values() for s in a.samples)
        best_add, best_freeze = min(best_add, add_s), min(best_freeze, freeze_s)
    texts = [p[0].text for p in posts if post_hash(p[0].id) in kept]
    sim_s = min(timeit.repeat(lambda: [simhash64(t) for t in texts], number=1, repeat=5))
    n = len(posts)
    print(f"builder: {n} tagged posts, {pairs} (post, tag) pairs, batches of {args.batch}")
    print(f"  add    {best_add / n * 1e6:.2f} us/post  {best_add / pairs * 1e6:.2f} us/(post, tag)")
    print(f"  freeze {best_freeze / n * 1e6:.2f} us/post, of which SimHash of the "
          f"{len(texts)} kept samples ({len(texts) / n:.0%} of posts) {sim_s / n * 1e6:.2f}")
    total = best_add + best_freeze
    rest = total - sim_s
    print(f"  total  {total / n * 1e6:.2f} us/post  {total / pairs * 1e6:.2f} us/(post, tag); "
          f"without SimHash {rest / n * 1e6:.2f} us/post  {rest / pairs * 1e6:.2f} us/(post, tag)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
