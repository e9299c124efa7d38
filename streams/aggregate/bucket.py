"""Mergeable, bounded per-(watch, bucket) aggregates: the unit of state and of transport."""

from __future__ import annotations

import hashlib
import heapq
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from streams.aggregate.campaign import CampaignAgg, merge_campaigns
from streams.aggregate.scale import HASH_SPACE as HASH_SPACE  # re-exported: the aggregates' scale
from streams.aggregate.scale import SENTIMENT_NEG as SENTIMENT_NEG
from streams.aggregate.scale import SENTIMENT_POS as SENTIMENT_POS

TOP_POSTS = 5
TOP_AUTHORS = 10
FIRST_MOVERS = 5
MAX_HASHTAGS = 200
MAX_LANGS = 16
KMV_K = 256  # authors sketch: exact below K distinct authors, then a KMV estimate
TEXT_CHARS = 280


def author_hash(author_id: str) -> int:
    """Stable 64-bit hash of an author id (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(author_id.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True, slots=True)
class PostRef:
    """A post kept as evidence."""

    id: str
    platform: str
    author: str
    followers: int
    kind: str
    text: str
    url: str | None
    created_at: float
    reach: int
    sentiment: float | None
    CODEC_ARRAY: ClassVar[bool] = True  # ten per bucket on the wire: an array, as a row

    def rank(self) -> tuple[int, str]:
        """Sort key: highest reach first, ties broken by id for order independence."""
        return (-self.reach, self.id)


@dataclass(frozen=True, slots=True)
class AuthorRef:
    """An author seen in a bucket, with the posts counted for it."""

    handle: str
    followers: int
    kind: str
    posts: int
    CODEC_ARRAY: ClassVar[bool] = True


GLOBAL = "_global"  # the scope of every valid post, watched or not (global trending hashtags)
GLOBAL_HASHTAGS = 2000  # hashtags kept per bucket of the global scope


def tag_cap(watch: str) -> int:
    """Hashtags kept per bucket of a scope."""
    return GLOBAL_HASHTAGS if watch == GLOBAL else MAX_HASHTAGS


def heaviest(counts: Mapping[str, int], cap: int) -> dict[str, int]:
    """The cap heaviest entries; ties broken by a stable hash, not by name (no A-Z bias)."""
    if len(counts) <= cap:
        return dict(counts)
    return dict(sorted(counts.items(),
                       key=lambda kv: (-kv[1], zlib.crc32(kv[0].encode()), kv[0]))[:cap])


def _merge_counts(a: Mapping[str, int], b: Mapping[str, int], cap: int) -> dict[str, int]:
    out = dict(a)
    for key, n in b.items():
        out[key] = out.get(key, 0) + n
    return heaviest(out, cap) if len(out) > cap else out


@dataclass(frozen=True)
class BucketAgg:
    """Everything a detector or an alert needs about one watch over one bucket."""

    watch: str
    bucket_start: int
    count: int = 0
    reach: int = 0
    reposts: int = 0
    replies: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    sentiment_sum: float = 0.0
    negative_reach: int = 0
    max_created: float = 0.0
    max_arrival: float = 0.0
    author_hashes: tuple[int, ...] = ()  # KMV: the K smallest author hashes, sorted
    hashtags: Mapping[str, int] = field(default_factory=dict)
    langs: Mapping[str, int] = field(default_factory=dict)
    top_posts: tuple[PostRef, ...] = ()
    first_movers: tuple[PostRef, ...] = ()
    top_authors: tuple[AuthorRef, ...] = ()
    sources: Mapping[str, int] = field(default_factory=dict)  # "partition" -> last source offset
    campaigns: Mapping[str, CampaignAgg] = field(default_factory=dict)  # tag -> mobilisation
    # the wire and table form is short: one per (watch, bucket) and input record
    CODEC_KEYS: ClassVar[Mapping[str, str]] = {
        "watch": "w", "bucket_start": "b", "count": "n", "reach": "r", "reposts": "rp",
        "replies": "rl", "negative": "neg", "neutral": "neu", "positive": "pos",
        "sentiment_sum": "ss", "negative_reach": "nr", "max_created": "mc", "max_arrival": "ma",
        "author_hashes": "ah", "hashtags": "h", "langs": "l", "top_posts": "tp",
        "first_movers": "fm", "top_authors": "ta", "sources": "src", "campaigns": "cp"}

    @property
    def scored(self) -> int:
        """Posts that carry a sentiment."""
        return self.negative + self.neutral + self.positive

    def distinct_authors(self) -> int:
        """Distinct authors: exact below KMV_K, else the KMV estimate."""
        if len(self.author_hashes) < KMV_K:
            return len(self.author_hashes)
        return int((KMV_K - 1) / ((self.author_hashes[-1] + 1) / HASH_SPACE))

    def merge(self, other: BucketAgg) -> BucketAgg:
        """Combine two partial aggregates of the same (watch, bucket)."""
        if (other.watch, other.bucket_start) != (self.watch, self.bucket_start):
            raise ValueError("cannot merge aggregates of different buckets")
        authors: dict[str, AuthorRef] = {a.handle: a for a in self.top_authors}
        for a in other.top_authors:
            prev = authors.get(a.handle)
            authors[a.handle] = a if prev is None else replace(
                prev, followers=max(prev.followers, a.followers), posts=prev.posts + a.posts)
        sources = dict(self.sources)
        for k, off in other.sources.items():
            sources[k] = max(off, sources.get(k, -1))
        return BucketAgg(
            watch=self.watch,
            bucket_start=self.bucket_start,
            count=self.count + other.count,
            reach=self.reach + other.reach,
            reposts=self.reposts + other.reposts,
            replies=self.replies + other.replies,
            negative=self.negative + other.negative,
            neutral=self.neutral + other.neutral,
            positive=self.positive + other.positive,
            sentiment_sum=self.sentiment_sum + other.sentiment_sum,
            negative_reach=self.negative_reach + other.negative_reach,
            max_created=max(self.max_created, other.max_created),
            max_arrival=max(self.max_arrival, other.max_arrival),
            author_hashes=tuple(heapq.nsmallest(
                KMV_K, set(self.author_hashes) | set(other.author_hashes))),
            hashtags=_merge_counts(self.hashtags, other.hashtags, tag_cap(self.watch)),
            langs=_merge_counts(self.langs, other.langs, MAX_LANGS),
            top_posts=_top(self.top_posts + other.top_posts, TOP_POSTS, PostRef.rank),
            first_movers=_top(self.first_movers + other.first_movers, FIRST_MOVERS,
                              lambda p: (p.created_at, p.id)),
            top_authors=tuple(sorted(authors.values(), key=lambda a: (-a.followers, a.handle))
                              [:TOP_AUTHORS]),
            sources=sources,
            campaigns=merge_campaigns(self.campaigns, other.campaigns) if other.campaigns
            else self.campaigns,
        )


def _top(items: Iterable[PostRef], k: int, key: Any) -> tuple[PostRef, ...]:
    unique = {p.id: p for p in items}  # a post seen twice (redelivery) counts once here
    return tuple(heapq.nsmallest(k, unique.values(), key=key))


def empty(watch: str, bucket_start: int) -> BucketAgg:
    """An empty aggregate (a quiet bucket)."""
    return BucketAgg(watch=watch, bucket_start=bucket_start)


def merge_all(aggs: Iterable[BucketAgg]) -> BucketAgg | None:
    """Merge partial aggregates of one bucket; None when there are none."""
    out: BucketAgg | None = None
    for a in aggs:
        out = a if out is None else out.merge(a)
    return out


def combine_window(aggs: Iterable[BucketAgg], watch: str, start: int) -> BucketAgg:
    """Fold aggregates of several buckets into one window aggregate (evidence)."""
    out = empty(watch, start)
    for a in aggs:
        # campaigns are per bucket and go to the mobilisation detector, not to evidence
        out = out.merge(replace(a, bucket_start=start, sources={}, campaigns={}))
    return out
