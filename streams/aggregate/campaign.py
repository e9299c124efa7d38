"""Per-post affiliation and the mergeable per-(watch, bucket, hashtag) campaign aggregate.

``CampaignAgg`` follows ``BucketAgg``'s discipline: counters add, bounded parts are the k
smallest of a union (author KMV sketches, the earliest ``FIRST_N`` post times, the near-dup
sample: posts whose stable post hash is below ``sample_rate`` x 2^64, the ``max_sample``
smallest), so merging partials equals aggregating every post, in any order.
``CampaignBuilder`` is the per-batch hot path: one record per (watch, post), one list append
per (post, tag); tags are capped per (watch, bucket) and SimHash is computed at freeze time
only for the samples that are kept.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from streams.aggregate.neardup import Sample, simhash64
from streams.aggregate.scale import HASH_SPACE, SENTIMENT_NEG, SENTIMENT_POS
from streams.events.model import SocialEvent
from streams.text.normalize import extract_urls
from streams.watches.affiliation import Affiliation, affiliation_of

__all__ = ["FIRST_N", "KMV_K", "MAX_CAMPAIGN_TAGS", "MAX_SAMPLE", "SOURCES", "Affiliation",
           "CampaignAgg", "CampaignBuilder", "CampaignConfig", "affiliation_of",
           "merge_campaigns", "post_hash"]

KMV_K = 64
FIRST_N = 64
MAX_SAMPLE = 16
MAX_CAMPAIGN_TAGS = 32
SOURCES = ("owned", "roster", "bio", "advocacy")
DAY_S = 86400.0


def post_hash(post_id: str) -> int:
    """Stable 64-bit hash of a post id (sampling key of the near-dup sample)."""
    return int.from_bytes(hashlib.blake2b(post_id.encode(), digest_size=8).digest(), "big")


def _kmv_count(hashes: tuple[int, ...]) -> int:
    if len(hashes) < KMV_K:
        return len(hashes)
    return int((KMV_K - 1) / ((hashes[-1] + 1) / HASH_SPACE))


@dataclass(frozen=True)
class CampaignConfig:
    """Builder parameters; durations in seconds."""

    new_account_s: float = 30 * DAY_S
    low_followers: int = 50
    sample_rate: float = 0.25
    max_sample: int = MAX_SAMPLE
    max_tags: int = MAX_CAMPAIGN_TAGS


DEFAULT_CONFIG = CampaignConfig()


@dataclass(frozen=True)
class CampaignAgg:
    """One hashtag of one watch over one bucket: volume, affiliation, accounts, timing, text."""

    watch: str
    bucket_start: int
    tag: str
    posts: int = 0
    author_hashes: tuple[int, ...] = ()  # KMV: the KMV_K smallest author hashes, sorted
    aff_posts: int = 0
    aff_author_hashes: tuple[int, ...] = ()
    aff_sources: Mapping[str, int] = field(default_factory=dict)  # source -> posts
    new_posts: int = 0  # account younger than new_account_s at post time
    aged_posts: int = 0  # posts whose account creation time is known
    low_posts: int = 0  # fewer than low_followers followers
    office_posts: int = 0  # in the watch's office hours
    sent_sum: float = 0.0
    scored: int = 0
    negative: int = 0
    positive: int = 0
    reach: int = 0  # followers sum
    first_ts: tuple[float, ...] = ()  # the FIRST_N earliest created_at, sorted
    samples: tuple[Sample, ...] = ()  # (post_hash, simhash, author_hash, ts) by post_hash
    CODEC_KEYS: ClassVar[Mapping[str, str]] = {
        "watch": "w", "bucket_start": "b", "tag": "t", "posts": "n", "author_hashes": "ah",
        "aff_posts": "ap", "aff_author_hashes": "aah", "aff_sources": "as", "new_posts": "np",
        "aged_posts": "kp", "low_posts": "lp", "office_posts": "op", "sent_sum": "ss",
        "scored": "sc", "negative": "ng", "positive": "ps", "reach": "r", "first_ts": "f",
        "samples": "s"}

    def distinct_authors(self) -> int:
        """Distinct authors: exact below KMV_K, else the KMV estimate."""
        return _kmv_count(self.author_hashes)

    def distinct_aff_authors(self) -> int:
        """Distinct affiliated authors (KMV)."""
        return _kmv_count(self.aff_author_hashes)

    def merge(self, other: CampaignAgg, max_sample: int = MAX_SAMPLE) -> CampaignAgg:
        """Combine two partial aggregates of the same (watch, bucket, tag)."""
        if (other.watch, other.bucket_start, other.tag) != (self.watch, self.bucket_start,
                                                            self.tag):
            raise ValueError("cannot merge campaign aggregates of different keys")
        return self.combine(other, max_sample)

    def combine(self, other: CampaignAgg, max_sample: int = MAX_SAMPLE) -> CampaignAgg:
        """Fold another aggregate in (any bucket: episode totals); keeps self's key."""
        sources = dict(self.aff_sources)
        for k, n in other.aff_sources.items():
            sources[k] = sources.get(k, 0) + n
        samples = {s[0]: s for s in self.samples}
        for s in other.samples:
            samples[s[0]] = max(s, samples.get(s[0], s))
        return replace(
            self, posts=self.posts + other.posts,
            author_hashes=_kmv(self.author_hashes, other.author_hashes),
            aff_posts=self.aff_posts + other.aff_posts,
            aff_author_hashes=_kmv(self.aff_author_hashes, other.aff_author_hashes),
            aff_sources=sources, new_posts=self.new_posts + other.new_posts,
            aged_posts=self.aged_posts + other.aged_posts,
            low_posts=self.low_posts + other.low_posts,
            office_posts=self.office_posts + other.office_posts,
            sent_sum=self.sent_sum + other.sent_sum, scored=self.scored + other.scored,
            negative=self.negative + other.negative, positive=self.positive + other.positive,
            reach=self.reach + other.reach,
            first_ts=tuple(heapq.nsmallest(FIRST_N, self.first_ts + other.first_ts)),
            samples=tuple(heapq.nsmallest(max_sample, samples.values())),
        )


def _kmv(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not b:
        return a
    if not a:
        return b
    return tuple(heapq.nsmallest(KMV_K, set(a) | set(b)))


def _top_tags(tags: Mapping[str, Any], n: int, weight: Any) -> list[str]:
    if len(tags) <= n:
        return sorted(tags)
    return sorted(heapq.nsmallest(n, tags, key=lambda t: (-weight(tags[t]), t)))


def merge_campaigns(a: Mapping[str, CampaignAgg], b: Mapping[str, CampaignAgg],
                    max_tags: int = MAX_CAMPAIGN_TAGS,
                    max_sample: int = MAX_SAMPLE) -> dict[str, CampaignAgg]:
    """Merge two {tag: CampaignAgg} partials of one (watch, bucket); keep the heaviest tags."""
    out = dict(a)
    for tag, agg in b.items():
        prev = out.get(tag)
        out[tag] = agg if prev is None else prev.merge(agg, max_sample)
    return {t: out[t] for t in _top_tags(out, max_tags, lambda x: x.posts)}


# per (watch, post): post_hash, author_hash, source, aged, new, low, office, sentiment,
# followers, created_at, event
_Rec = tuple[Any, ...]


class CampaignBuilder:
    """Mutable accumulator local to one batch; freeze() returns the immutable partials."""

    __slots__ = ("_aff", "_affs", "_cfg", "_office", "_sample_below", "_tags")

    def __init__(self, affiliation_by_watch: Mapping[str, Affiliation],
                 cfg: CampaignConfig = DEFAULT_CONFIG) -> None:
        self._affs = affiliation_by_watch
        self._cfg = cfg
        self._sample_below = int(cfg.sample_rate * HASH_SPACE)
        self._tags: dict[tuple[str, int], dict[str, list[_Rec]]] = {}
        # per-batch memos of pure functions: authors and quarter-hours repeat within a batch
        self._aff: dict[tuple[str, str, str | None], str | None] = {}
        self._office: dict[tuple[str, int], bool] = {}

    def add(self, watch: str, tags: Iterable[str], ev: SocialEvent, sentiment: float | None,
            author_hash: int, bucket: int) -> None:
        """Count one post of a watch under its (folded, distinct) hashtags."""
        if not tags:
            return
        aff = self._affs.get(watch)
        au = ev.author
        source: str | None = None
        office = False
        if aff is not None:
            key = (watch, au.handle, au.bio)
            if key in self._aff:
                source = self._aff[key]
            else:
                source = self._aff[key] = affiliation_of(aff, au.handle, au.bio, ())
            if source is None and aff.advocacy_patterns:
                urls = ev.urls if ev.urls is not None else extract_urls(ev.text)
                if urls:
                    source = affiliation_of(aff, "", None, urls)
            # office hours change on whole local hours: a UTC quarter-hour never straddles one
            q = (watch, int(ev.created_at // 900))
            known = self._office.get(q)
            if known is None:
                known = self._office[q] = aff.in_office_hours(ev.created_at)
            office = known
        created = au.created_at
        aged = created is not None
        new = created is not None and ev.created_at - created < self._cfg.new_account_s
        rec: _Rec = (post_hash(ev.id), author_hash, source, aged, new,
                     au.followers < self._cfg.low_followers, office, sentiment, au.followers,
                     ev.created_at, ev)
        by_tag = self._tags.get((watch, bucket))
        if by_tag is None:
            by_tag = self._tags[(watch, bucket)] = {}
        for tag in tags:
            recs = by_tag.get(tag)
            if recs is None:
                by_tag[tag] = [rec]
            else:
                recs.append(rec)

    def freeze(self) -> dict[tuple[str, int], dict[str, CampaignAgg]]:
        """The partial aggregates: (watch, bucket) -> {tag: CampaignAgg}, heaviest tags kept."""
        cfg = self._cfg
        out: dict[tuple[str, int], dict[str, CampaignAgg]] = {}
        for (watch, bucket), by_tag in sorted(self._tags.items()):
            kept = _top_tags(by_tag, cfg.max_tags, len)
            out[(watch, bucket)] = {t: _freeze(watch, bucket, t, by_tag[t], cfg,
                                               self._sample_below) for t in kept}
        return out


def _freeze(watch: str, bucket: int, tag: str, recs: list[_Rec], cfg: CampaignConfig,
            sample_below: int) -> CampaignAgg:
    authors: set[int] = set()
    aff_authors: set[int] = set()
    sources: dict[str, int] = {}
    aff = new = aged = low = office = scored = neg = pos = reach = 0
    sent = 0.0
    for r in recs:
        authors.add(r[1])
        if r[2] is not None:
            aff += 1
            aff_authors.add(r[1])
            sources[r[2]] = sources.get(r[2], 0) + 1
        aged += r[3]
        new += r[4]
        low += r[5]
        office += r[6]
        s = r[7]
        if s is not None:
            scored += 1
            sent += s
            if s <= SENTIMENT_NEG:
                neg += 1
            elif s >= SENTIMENT_POS:
                pos += 1
        reach += r[8]
    # near-dup sample: threshold sampling on the post hash, then the smallest hashes
    chosen = heapq.nsmallest(cfg.max_sample, {r[0]: r for r in recs if r[0] < sample_below}
                             .values(), key=lambda r: r[0])
    samples = [(r[0], simhash64(r[10].text), r[1], r[9]) for r in chosen]
    return CampaignAgg(
        watch=watch, bucket_start=bucket, tag=tag, posts=len(recs),
        author_hashes=tuple(heapq.nsmallest(KMV_K, authors)), aff_posts=aff,
        aff_author_hashes=tuple(heapq.nsmallest(KMV_K, aff_authors)), aff_sources=sources,
        new_posts=new, aged_posts=aged, low_posts=low, office_posts=office, sent_sum=sent,
        scored=scored, negative=neg, positive=pos, reach=reach,
        first_ts=tuple(heapq.nsmallest(FIRST_N, [r[9] for r in recs])),
        samples=tuple(sorted(samples)))
