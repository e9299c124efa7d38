"""Enrichment hot path: match watches and fold a batch of events into partial aggregates."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from streams.aggregate.bucket import (
    FIRST_MOVERS,
    GLOBAL,
    GLOBAL_HASHTAGS,
    KMV_K,
    MAX_HASHTAGS,
    MAX_LANGS,
    SENTIMENT_NEG,
    SENTIMENT_POS,
    TEXT_CHARS,
    TOP_AUTHORS,
    TOP_POSTS,
    AuthorRef,
    BucketAgg,
    PostRef,
    author_hash,
    heaviest,
)
from streams.aggregate.campaign import CampaignAgg, CampaignBuilder
from streams.events.model import SocialEvent
from streams.text.normalize import extract_hashtags, fold_tag
from streams.watches.kinds import KindIndex

Scorer = Callable[[str, str | None], float]
MAX_TAG_CHARS = 100


def lang_bucket(lang: str | None) -> str:
    """Bounded language label: the primary subtag, or 'und'."""
    if not lang:
        return "und"
    return lang.split("-", 1)[0].split("_", 1)[0].lower()[:3]


class _Acc:
    """Mutable accumulator local to one batch; frozen into a BucketAgg at the end."""

    __slots__ = ("authors", "count", "events", "hashtags", "langs", "max_created", "neg",
                 "neg_reach", "neu", "pos", "reach", "replies", "reposts", "sent_sum")

    def __init__(self) -> None:
        self.count = self.reach = self.reposts = self.replies = 0
        self.neg = self.neu = self.pos = self.neg_reach = 0
        self.sent_sum = 0.0
        self.max_created = 0.0
        self.authors: set[int] = set()
        self.hashtags: dict[str, int] = {}
        self.langs: dict[str, int] = {}
        self.events: list[tuple[SocialEvent, float | None]] = []


def _post(ev: SocialEvent, sentiment: float | None, kind: str) -> PostRef:
    engagement = ev.likes + ev.reposts + ev.replies
    return PostRef(ev.id, ev.platform, ev.author.handle, ev.author.followers, kind,
                   ev.text[:TEXT_CHARS], ev.url, ev.created_at,
                   ev.author.followers + engagement, sentiment)


def _by_reach(item: tuple[SocialEvent, float | None]) -> tuple[int, str]:
    # PostRef.rank of the post this event becomes, without building it
    ev = item[0]
    return (-(ev.author.followers + ev.likes + ev.reposts + ev.replies), ev.id)


def _by_time(item: tuple[SocialEvent, float | None]) -> tuple[float, str]:
    ev = item[0]
    return (ev.created_at, ev.id)


def _by_followers(item: tuple[str, list[Any]]) -> tuple[int, str]:
    return (-item[1][0], item[0])


def _freeze(watch: str, bucket: int, acc: _Acc, arrival_ts: float,
            sources: Mapping[str, int], kinds: KindIndex,
            campaigns: Mapping[str, CampaignAgg]) -> BucketAgg:
    events = acc.events
    # handle -> [max followers, the handle's last event (its kind wins), posts]
    authors: dict[str, list[Any]] = {}
    for item in events:
        au = item[0].author
        prev = authors.get(au.handle)
        if prev is None:
            authors[au.handle] = [au.followers, item[0], 1]
        else:
            if au.followers > prev[0]:
                prev[0] = au.followers
            prev[1] = item[0]
            prev[2] += 1
    hashtags = heaviest(acc.hashtags, MAX_HASHTAGS)
    langs = heaviest(acc.langs, MAX_LANGS)
    # a post id seen twice counts once as evidence: its last occurrence wins
    unique: Iterable[tuple[SocialEvent, float | None]] = events
    if len({item[0].id for item in events}) != len(events):
        unique = {item[0].id: item for item in events}.values()
    # PostRef/AuthorRef (and the author kind) only for the few that are kept
    kind = kinds.kind

    def post(item: tuple[SocialEvent, float | None]) -> PostRef:
        au = item[0].author
        return _post(item[0], item[1], kind(watch, au.handle, au.verified))

    top_authors = heapq.nsmallest(TOP_AUTHORS, authors.items(), key=_by_followers)
    return BucketAgg(
        watch=watch, bucket_start=bucket, count=acc.count, reach=acc.reach,
        reposts=acc.reposts, replies=acc.replies, negative=acc.neg, neutral=acc.neu,
        positive=acc.pos, sentiment_sum=acc.sent_sum, negative_reach=acc.neg_reach,
        max_created=acc.max_created, max_arrival=arrival_ts,
        author_hashes=tuple(heapq.nsmallest(KMV_K, acc.authors)),
        hashtags=hashtags, langs=langs,
        top_posts=tuple(map(post, heapq.nsmallest(TOP_POSTS, unique, key=_by_reach))),
        first_movers=tuple(map(post, heapq.nsmallest(FIRST_MOVERS, unique, key=_by_time))),
        top_authors=tuple(
            AuthorRef(h, followers, kind(watch, h, last.author.verified), posts)
            for h, (followers, last, posts) in top_authors),
        sources=dict(sources),
        campaigns=campaigns,
    )


def hashtags_of(ev: SocialEvent) -> tuple[str, ...]:
    """The event's hashtags: upstream ones win, else extracted from the text."""
    return ev.hashtags if ev.hashtags is not None else extract_hashtags(ev.text)


def _fold_tags(tags: Iterable[str], folds: dict[str, str]) -> Iterable[str]:
    # one count per post, case-insensitive; bounded length (extracted tags are unbounded)
    if not tags:
        return ()
    return {folds.get(t) or folds.setdefault(t, fold_tag(t)[:MAX_TAG_CHARS]) for t in tags}


def build_partials(
    events: Iterable[SocialEvent],
    match: Callable[[SocialEvent, Sequence[str]], Sequence[str]],
    kinds: KindIndex,
    bucket_s: int,
    arrival_ts: float,
    sources: Mapping[str, int],
    scorer: Scorer | None = None,
    campaigns: CampaignBuilder | None = None,
    everyone: bool = True,
) -> list[BucketAgg]:
    """Fold one batch into one partial aggregate per (watch, bucket) it touches.

    ``campaigns`` (a fresh builder per batch) adds each watch's per-hashtag campaign
    aggregates for the mobilisation detector; ``everyone`` adds the partials of the global
    scope (every valid post, for global trending hashtags).
    """
    accs: dict[tuple[str, int], _Acc] = {}
    # the global scope: posts and hashtags of every valid post per bucket (global trending)
    scopes: dict[int, list[Any]] = {}  # bucket -> [posts, max created, {tag: posts}]
    # per-batch memos of pure functions: authors and languages repeat within a batch
    hashes: dict[str, int] = {}
    langs: dict[str | None, str] = {}
    folds: dict[str, str] = {}
    for ev in events:
        tags = ev.hashtags
        if tags is None:
            tags = extract_hashtags(ev.text)
        bucket = int(ev.created_at // bucket_s) * bucket_s
        folded_tags: Iterable[str] | None = None  # folded once, only when something needs them
        if everyone:
            folded_tags = _fold_tags(tags, folds)
            scope = scopes.get(bucket)
            if scope is None:
                scope = scopes[bucket] = [0, 0.0, {}]
            scope[0] += 1
            if ev.created_at > scope[1]:
                scope[1] = ev.created_at
            counts = scope[2]
            for tag in folded_tags:
                counts[tag] = counts.get(tag, 0) + 1
        watches = match(ev, tags)
        if not watches:
            continue
        if folded_tags is None:
            folded_tags = _fold_tags(tags, folds)
        sentiment = ev.sentiment
        if sentiment is None and scorer is not None:
            sentiment = scorer(ev.text, ev.lang)
        author = ev.author
        followers = author.followers
        a_hash = hashes.get(author.id)
        if a_hash is None:
            a_hash = hashes[author.id] = author_hash(author.id)
        lang = langs.get(ev.lang)
        if lang is None:
            lang = langs[ev.lang] = lang_bucket(ev.lang)
        for watch in watches:
            acc = accs.get((watch, bucket))
            if acc is None:
                acc = accs[(watch, bucket)] = _Acc()
            acc.count += 1
            acc.reach += followers
            if ev.repost_of:
                acc.reposts += 1
            if ev.reply_to:
                acc.replies += 1
            if sentiment is not None:
                acc.sent_sum += sentiment
                if sentiment <= SENTIMENT_NEG:
                    acc.neg += 1
                    acc.neg_reach += followers
                elif sentiment >= SENTIMENT_POS:
                    acc.pos += 1
                else:
                    acc.neu += 1
            if ev.created_at > acc.max_created:
                acc.max_created = ev.created_at
            acc.authors.add(a_hash)
            for tag in folded_tags:
                acc.hashtags[tag] = acc.hashtags.get(tag, 0) + 1
            acc.langs[lang] = acc.langs.get(lang, 0) + 1
            acc.events.append((ev, sentiment))
            if campaigns is not None and folded_tags:
                campaigns.add(watch, folded_tags, ev, sentiment, a_hash, bucket)
    by_bucket = campaigns.freeze() if campaigns is not None else {}
    out = [_freeze(w, b, acc, arrival_ts, sources, kinds, by_bucket.get((w, b), {}))
           for (w, b), acc in sorted(accs.items())]
    out += [BucketAgg(watch=GLOBAL, bucket_start=b, count=n, max_created=created,
                      max_arrival=arrival_ts, hashtags=heaviest(tags, GLOBAL_HASHTAGS),
                      sources=dict(sources))
            for b, (n, created, tags) in sorted(scopes.items())]
    return out
