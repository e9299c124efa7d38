"""Parse one decoded JSON value as a social-event.v1 event: a fast path for the common shape,
the reference validator (streams.events.model) for everything else."""

from __future__ import annotations

from typing import Any

from streams.events.model import (
    LANG_RE,
    MAX_COUNT,
    MAX_LIST,
    PLATFORM_RE,
    Author,
    InvalidEvent,
    SocialEvent,
    parse_strict,
    parse_ts,
)


def parse_event(obj: Any, max_text_chars: int = 20_000,
                ts_memo: dict[str, float] | None = None) -> SocialEvent:
    """Validate one decoded JSON value against social-event.v1; raise InvalidEvent.

    ``ts_memo`` (optional, owned by the caller) remembers parsed account creation dates: the
    same authors post again and again, their dates need not be parsed each time.
    """
    if type(obj) is dict:
        ev = parse_fast(obj, max_text_chars, ts_memo)
        if ev is not None:
            return ev
    return parse_strict(obj, max_text_chars)


# parse_event first tries parse_fast: the same checks, written for the common shape of an
# event. It never raises: anything unusual (a wrong type, a float count, a bad timestamp...)
# returns None and the event goes through parse_strict, which reports the first error. So
# the fast path can only accept what the strict path accepts, and builds the same objects.

# Frequent values known to match PLATFORM_RE / LANG_RE (checked at import): a set lookup
# instead of a regex match per event.
_COMMON_PLATFORMS = frozenset((
    "twitter", "x", "facebook", "instagram", "linkedin", "tiktok", "youtube", "reddit",
    "mastodon", "bluesky", "threads", "news", "forum"))
_COMMON_LANGS = frozenset((
    "fr", "en", "de", "es", "it", "nl", "pt", "ar", "und", "fr-FR", "fr-BE", "fr-CA", "fr-CH",
    "en-US", "en-GB", "fr_FR", "en_US", "en_GB"))
assert all(PLATFORM_RE.match(p) for p in _COMMON_PLATFORMS)
assert all(LANG_RE.match(lang) for lang in _COMMON_LANGS)

# The dataclasses' frozen __init__ goes through object.__setattr__ per field; the slot
# descriptors' setters build the identical object at half the cost.
_new = object.__new__
_ABSENT = object()
(_e_id, _e_platform, _e_created_at, _e_author, _e_text, _e_lang, _e_url, _e_hashtags,
 _e_mentions, _e_urls, _e_reply_to, _e_repost_of, _e_likes, _e_reposts, _e_replies,
 _e_sentiment) = (getattr(SocialEvent, f).__set__ for f in SocialEvent.__slots__)
(_a_id, _a_handle, _a_followers, _a_verified, _a_bio, _a_created_at) = (
    getattr(Author, f).__set__ for f in Author.__slots__)
assert SocialEvent.__slots__ == (
    "id", "platform", "created_at", "author", "text", "lang", "url", "hashtags", "mentions",
    "urls", "reply_to", "repost_of", "likes", "reposts", "replies", "sentiment")
assert Author.__slots__ == ("id", "handle", "followers", "verified", "bio", "created_at")


def _fast_list(value: Any, max_len: int) -> tuple[str, ...] | None:
    if type(value) is not list or len(value) > MAX_LIST:
        return None
    for item in value:
        if type(item) is not str or not 0 < len(item) <= max_len:
            return None
    return tuple(value)


MAX_TS_MEMO = 100_000  # account creation dates remembered (cleared when full)


def _fast_author(a: Any, memo: dict[str, float] | None) -> Author | None:
    if type(a) is not dict:
        return None
    get = a.get
    aid = get("id")
    handle = get("handle")
    followers = get("followers")
    verified = get("verified")
    bio = get("bio")
    created = get("created_at")
    if (type(aid) is not str or not 0 < len(aid) <= 256
            or type(handle) is not str or not 0 < len(handle) <= 256
            or type(followers) is not int or not 0 <= followers <= MAX_COUNT
            or type(verified) is not bool
            or (bio is not None and (type(bio) is not str or len(bio) > 5000))):
        return None
    if created is not None:
        known = memo.get(created) if memo is not None and type(created) is str else None
        if known is None:
            try:
                known = parse_ts(created, "author.created_at")
            except InvalidEvent:
                return None
            if memo is not None:
                if len(memo) >= MAX_TS_MEMO:
                    memo.clear()
                memo[created] = known
        created = known
    au = _new(Author)
    _a_id(au, aid)
    _a_handle(au, handle)
    _a_followers(au, followers)
    _a_verified(au, verified)
    _a_bio(au, bio)
    _a_created_at(au, created)
    return au


def _opt_str(value: Any, max_len: int) -> bool:
    """True when value is None or a string of at most max_len characters."""
    return value is None or (type(value) is str and len(value) <= max_len)


def parse_fast(obj: dict[str, Any], max_text_chars: int,
               memo: dict[str, float] | None = None) -> SocialEvent | None:
    """The event if its common shape validates, else None (never raises)."""
    get = obj.get
    platform = get("platform")
    if type(platform) is not str or (platform not in _COMMON_PLATFORMS
                                     and PLATFORM_RE.match(platform) is None):
        return None
    lang = get("lang")
    if lang is not None and (type(lang) is not str or len(lang) > 32 or (
            lang not in _COMMON_LANGS and LANG_RE.match(lang) is None)):
        return None
    likes = reposts = replies = 0
    metrics = get("metrics")
    if metrics is not None:
        if type(metrics) is not dict:
            return None
        likes = metrics.get("likes", 0)
        reposts = metrics.get("reposts", 0)
        replies = metrics.get("replies", 0)
        if (type(likes) is not int or not 0 <= likes <= MAX_COUNT
                or type(reposts) is not int or not 0 <= reposts <= MAX_COUNT
                or type(replies) is not int or not 0 <= replies <= MAX_COUNT):
            return None
    eid = get("id")
    text = get("text")
    url = get("url")
    reply_to = get("reply_to")
    repost_of = get("repost_of")
    if (type(eid) is not str or not 0 < len(eid) <= 256
            or type(text) is not str or len(text) > min(max_text_chars, 20_000)
            or not _opt_str(url, 2048) or not _opt_str(reply_to, 256)
            or not _opt_str(repost_of, 256)):
        return None
    created = get("created_at")
    if created is None:
        return None
    try:
        created_at = parse_ts(created, "created_at")
    except InvalidEvent:
        return None
    author = _fast_author(get("author"), memo)
    if author is None:
        return None
    hashtags = get("hashtags", _ABSENT)  # null is not an array: only absence means None
    mentions = get("mentions", _ABSENT)
    urls = get("urls", _ABSENT)
    if hashtags is _ABSENT:
        hashtags = None
    elif (hashtags := _fast_list(hashtags, 280)) is None:
        return None
    if mentions is _ABSENT:
        mentions = None
    elif (mentions := _fast_list(mentions, 256)) is None:
        return None
    if urls is _ABSENT:
        urls = None
    elif (urls := _fast_list(urls, 2048)) is None:
        return None
    sentiment = get("sentiment")
    if sentiment is not None:
        if type(sentiment) not in (int, float) or not -1.0 <= sentiment <= 1.0:
            return None
        sentiment = float(sentiment)
    ev = _new(SocialEvent)
    _e_id(ev, eid)
    _e_platform(ev, platform)
    _e_created_at(ev, created_at)
    _e_author(ev, author)
    _e_text(ev, text)
    _e_lang(ev, lang)
    _e_url(ev, url)
    _e_hashtags(ev, hashtags)
    _e_mentions(ev, mentions)
    _e_urls(ev, urls)
    _e_reply_to(ev, reply_to)
    _e_repost_of(ev, repost_of)
    _e_likes(ev, likes)
    _e_reposts(ev, reposts)
    _e_replies(ev, replies)
    _e_sentiment(ev, sentiment)
    return ev
