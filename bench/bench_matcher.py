"""Benchmark: fold + extract + match cost per post with 10 and 1,000 watches.

Run from the repo root: ``.venv/bin/python bench/bench_matcher.py [--posts N] [--reps N]``.
The pipeline budget is ~50,000 posts/s per core, i.e. 20 µs per post for everything; the matcher
should take a few µs and its cost should not grow with the number of watches.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repo root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.text.normalize import (
    extract_hashtags,
    extract_mentions,
    extract_urls,
    fold,
)
from streams.watches.matcher import Watch, WatchMatcher

_SYLLABLES = ["ka", "lo", "ré", "mi", "to", "va", "sé", "nu", "bra", "qui", "dé", "po", "xa", "zè"]
_SUFFIXES = ["Group", "Bank", "Telecom", "Mobilités", "Énergie", "Assurances", "Santé"]
_PRODUCTS = ["appli", "carte", "box", "forfait", "compte", "livraison", "service client"]
_FR_TEXT = (
    "encore une panne chez {b} ce matin impossible de me connecter à l'appli depuis hier soir "
    "franchement c'est la troisième fois cette semaine je vais changer de crémerie merci pour "
    "rien le service client ne répond pas grève réseau retard remboursement déçu énervé"
)
_EN_TEXT = (
    "another outage at {b} this morning cannot log in to the app since yesterday seriously "
    "third time this week thinking of switching customer service not answering strike delay "
    "refund disappointed angry great news proud of the team amazing launch today"
)
_FR_FILLER = _FR_TEXT.split()
_EN_FILLER = _EN_TEXT.split()
_EMOJI = ["😡", "🙄", "👏", "🔥", "💔", "😂", "🙏🏽", ""]


@dataclass(frozen=True)
class Post:
    """A synthetic post as the pipeline sees it."""

    text: str
    author: str
    lang: str


def _brand(rng: random.Random, i: int) -> str:
    # The index suffix keeps brand names unique across 1,000 watches.
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3)))
    return f"{word}{i}"


def make_watches(count: int, seed: int = 7) -> list[Watch]:
    """Return ``count`` synthetic watches (~5 keywords incl. phrases, 2 hashtags, 2 handles)."""
    rng = random.Random(seed)
    watches = []
    for i in range(count):
        brand = _brand(rng, i)
        title = brand.capitalize()
        suffix = rng.choice(_SUFFIXES)
        watches.append(
            Watch(
                id=f"w{i:04d}",
                name=f"{title} {suffix}",
                keywords=(
                    brand,
                    f"{title} {suffix}",
                    f"{rng.choice(_PRODUCTS)} {brand}",
                    f"groupe {brand}",
                    f"{brand} {rng.choice(['France', 'Europe', 'Pro'])}",
                ),
                hashtags=(f"{title}{suffix}", f"Team{title}"),
                handles=(f"{title}_FR", f"{title}Help"),
                owned_accounts=(f"{title}_FR",),
                exclude=(f"{brand} island",),
                languages=("fr", "en") if i % 10 == 0 else (),
            )
        )
    return watches


def _reference(rng: random.Random, watch: Watch) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(watch.keywords)
    if kind == 1:
        return "#" + rng.choice(watch.hashtags)
    if kind == 2:
        return "@" + rng.choice(watch.handles)
    return rng.choice(watch.keywords).upper()


def make_posts(watches: Sequence[Watch], count: int, seed: int = 11) -> list[Post]:
    """Return ``count`` FR/EN posts; about a third reference one or two watches."""
    rng = random.Random(seed)
    posts = []
    for _ in range(count):
        lang = "fr" if rng.random() < 0.6 else "en"
        filler = _FR_FILLER if lang == "fr" else _EN_FILLER
        words = rng.choices(filler, k=rng.randint(8, 40))
        roll = rng.random()
        if roll < 0.35:
            for _ in range(rng.choice([1, 1, 1, 2])):
                words.insert(rng.randrange(len(words) + 1), _reference(rng, rng.choice(watches)))
        text = " ".join(words).replace("{b}", rng.choice(["eux", "them", "ma banque"]))
        if rng.random() < 0.3:
            text += f" #{rng.choice(['panne', 'Grève', 'fail', 'news', 'BadBuzz'])}"
        if rng.random() < 0.25:
            text += f" https://t.co/{rng.getrandbits(40):x}"
        text = (text[0].upper() + text[1:] + " " + rng.choice(_EMOJI)).strip()
        posts.append(Post(text=text, author=f"user{rng.randrange(100_000)}", lang=lang))
    return posts


def _time_per_post_us(posts: Sequence[Post], work: Callable[[Post], object], reps: int) -> float:
    runs = []
    for _ in range(reps):
        start = time.perf_counter_ns()
        for post in posts:
            work(post)
        runs.append((time.perf_counter_ns() - start) / len(posts) / 1000)
    return statistics.median(runs)


def _pipeline(matcher: WatchMatcher) -> Callable[[Post], object]:
    def work(post: Post) -> object:
        text = post.text
        hashtags = extract_hashtags(text)
        mentions = extract_mentions(text)
        extract_urls(text)
        return matcher.match(text, hashtags, mentions, post.author, post.lang)

    return work


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)

    all_watches = make_watches(1000)
    posts = make_posts(all_watches, args.posts)
    non_ascii = sum(not p.text.isascii() for p in posts) / len(posts)
    print(f"posts={len(posts)} non_ascii={non_ascii:.0%} reps={args.reps} (median of reps)")

    fold_us = _time_per_post_us(posts, lambda p: fold(p.text), args.reps)
    extract_us = _time_per_post_us(
        posts,
        lambda p: (extract_hashtags(p.text), extract_mentions(p.text), extract_urls(p.text)),
        args.reps,
    )
    print(f"fold only:                 {fold_us:6.2f} µs/post")
    print(f"extract tags/mentions/urls:{extract_us:6.2f} µs/post")

    results: dict[int, float] = {}
    for size in (10, 1000):
        start = time.perf_counter()
        matcher = WatchMatcher(all_watches[:size])
        build_ms = (time.perf_counter() - start) * 1000
        matched = sum(bool(_pipeline(matcher)(p)) for p in posts) / len(posts)
        results[size] = _time_per_post_us(posts, _pipeline(matcher), args.reps)
        print(
            f"watches={size:5d}: fold+extract+match {results[size]:6.2f} µs/post "
            f"({1e6 / results[size]:,.0f} posts/s/core), matched={matched:.1%}, "
            f"build={build_ms:.1f} ms"
        )
    print(f"ratio 1000/10 watches: {results[1000] / results[10]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
