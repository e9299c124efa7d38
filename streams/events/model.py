"""The social-event.v1 model and its fast validator (kept in agreement with schemas/)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EVENT_SCHEMA = "social-event.v1"

# Same patterns as schemas/social-event.v1.schema.json; tests/unit/test_contracts.py proves it.
# (?!\n) because Python's `$` also matches before a final newline (ECMA-262's does not).
TS_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:[0-5]\d)(?!\n)$")
PLATFORM_RE = re.compile(r"^[a-z0-9_]{1,32}(?!\n)$")
LANG_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*(?!\n)$")
MAX_COUNT = 10_000_000_000
MAX_LIST = 100


class InvalidEvent(ValueError):
    """An event that breaks the contract; `reason` is a bounded metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Author:
    """The author of a post."""

    id: str
    handle: str
    followers: int
    verified: bool
    bio: str | None = None
    created_at: float | None = None


@dataclass(frozen=True, slots=True)
class SocialEvent:
    """One validated post; times are POSIX seconds (UTC)."""

    id: str
    platform: str
    created_at: float
    author: Author
    text: str
    lang: str | None = None
    url: str | None = None
    hashtags: tuple[str, ...] | None = None
    mentions: tuple[str, ...] | None = None
    urls: tuple[str, ...] | None = None
    reply_to: str | None = None
    repost_of: str | None = None
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    sentiment: float | None = None


def _str(obj: dict[str, Any], key: str, max_len: int, min_len: int = 0,
         required: bool = True, nullable: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if key in obj and nullable:
            return None
        if required:
            raise InvalidEvent("missing_field" if key not in obj else "wrong_type", key)
        return None
    if type(value) is not str:
        raise InvalidEvent("wrong_type", f"{key} must be a string")
    if not min_len <= len(value) <= max_len:
        raise InvalidEvent("invalid_value",
                           f"{key} length {len(value)} not in [{min_len}, {max_len}]")
    return value


def _int(obj: dict[str, Any], key: str, required: bool) -> int:
    value = obj.get(key)
    if value is None and key not in obj and not required:
        return 0
    if type(value) is float and value.is_integer():
        value = int(value)  # JSON Schema counts 3.0 as an integer
    if type(value) is not int:
        raise InvalidEvent("missing_field" if key not in obj else "wrong_type",
                           f"{key} must be an integer")
    if not 0 <= value <= MAX_COUNT:
        raise InvalidEvent("invalid_value", f"{key}={value} out of range")
    return value


def parse_ts(value: Any, key: str) -> float:
    """Parse an RFC 3339 timestamp with offset to POSIX seconds."""
    if type(value) is not str:
        raise InvalidEvent("wrong_type", f"{key} must be an RFC 3339 string")
    if TS_RE.match(value) is None:
        raise InvalidEvent("bad_timestamp", f"{key} is not RFC 3339 with an offset")
    if value[10] == "t" or value[-1] == "z":  # the pattern puts [Tt] at 10, [Zz] last
        value = value.replace("z", "Z").replace("t", "T")
    try:  # 3.11's fromisoformat truncates fractional digits past microseconds itself
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise InvalidEvent("bad_timestamp", f"{key} is not a valid date") from None


def _str_list(obj: dict[str, Any], key: str, max_len: int) -> tuple[str, ...] | None:
    value = obj.get(key)
    if value is None:
        if key in obj:
            raise InvalidEvent("wrong_type", f"{key} must be an array")
        return None
    if type(value) is not list:
        raise InvalidEvent("wrong_type", f"{key} must be an array")
    if len(value) > MAX_LIST:
        raise InvalidEvent("invalid_value", f"{key} has more than {MAX_LIST} items")
    for item in value:
        if type(item) is not str:
            raise InvalidEvent("wrong_type", f"{key} items must be strings")
        if not 1 <= len(item) <= max_len:
            raise InvalidEvent("invalid_value", f"{key} item length out of range")
    return tuple(value)


def _author(value: Any) -> Author:
    if value is None:
        raise InvalidEvent("missing_field", "author")
    if type(value) is not dict:
        raise InvalidEvent("wrong_type", "author must be an object")
    verified = value.get("verified")
    if type(verified) is not bool:
        raise InvalidEvent("missing_field" if "verified" not in value else "wrong_type",
                           "author.verified must be a boolean")
    created = value.get("created_at")
    return Author(
        id=_str(value, "id", 256, 1) or "",
        handle=_str(value, "handle", 256, 1) or "",
        followers=_int(value, "followers", required=True),
        verified=verified,
        bio=_str(value, "bio", 5000, required=False, nullable=True),
        created_at=None if created is None else parse_ts(created, "author.created_at"),
    )


def _sentiment(obj: dict[str, Any]) -> float | None:
    value = obj.get("sentiment")
    if value is None:
        return None
    if type(value) not in (int, float):
        raise InvalidEvent("wrong_type", "sentiment must be a number")
    if not -1.0 <= value <= 1.0:  # False for NaN; no float() so a huge int cannot overflow
        raise InvalidEvent("invalid_value", "sentiment must be in [-1, 1]")
    return float(value)


def parse_event(obj: Any, max_text_chars: int = 20_000,
                ts_memo: dict[str, float] | None = None) -> SocialEvent:
    """Validate one decoded JSON value against social-event.v1; raise InvalidEvent.

    ``ts_memo`` (optional, owned by the caller) remembers parsed account creation dates: the
    same authors post again and again, their dates need not be parsed each time.
    """
    if type(obj) is dict:
        ev = _parse_fast(obj, max_text_chars, ts_memo)
        if ev is not None:
            return ev
    return _parse_strict(obj, max_text_chars)


def _parse_strict(obj: Any, max_text_chars: int) -> SocialEvent:
    # the reference validator: every check in order, the first failure is the reported one
    if type(obj) is not dict:
        raise InvalidEvent("not_an_object", f"expected an object, got {type(obj).__name__}")
    platform = _str(obj, "platform", 32, 1) or ""
    if PLATFORM_RE.match(platform) is None:
        raise InvalidEvent("invalid_value", "platform must match ^[a-z0-9_]{1,32}$")
    lang = _str(obj, "lang", 32, required=False, nullable=True)
    if lang is not None and LANG_RE.match(lang) is None:
        raise InvalidEvent("invalid_value", "lang is not a BCP 47 tag")
    metrics = obj.get("metrics")
    likes = reposts = replies = 0
    if metrics is not None:
        if type(metrics) is not dict:
            raise InvalidEvent("wrong_type", "metrics must be an object")
        likes = _int(metrics, "likes", required=False)
        reposts = _int(metrics, "reposts", required=False)
        replies = _int(metrics, "replies", required=False)
    return SocialEvent(
        id=_str(obj, "id", 256, 1) or "",
        platform=platform,
        created_at=parse_ts(obj["created_at"], "created_at") if "created_at" in obj
        else _missing("created_at"),
        author=_author(obj.get("author")),
        text=_str(obj, "text", min(max_text_chars, 20_000)) or "",
        lang=lang,
        url=_str(obj, "url", 2048, required=False, nullable=True),
        hashtags=_str_list(obj, "hashtags", 280),
        mentions=_str_list(obj, "mentions", 256),
        urls=_str_list(obj, "urls", 2048),
        reply_to=_str(obj, "reply_to", 256, required=False, nullable=True),
        repost_of=_str(obj, "repost_of", 256, required=False, nullable=True),
        likes=likes,
        reposts=reposts,
        replies=replies,
        sentiment=_sentiment(obj),
    )


def _missing(key: str) -> float:
    raise InvalidEvent("missing_field", key)


# ---------------------------------------------------------------- fast path
# parse_event first tries _parse_fast: the same checks, written for the common shape of an
# event. It never raises: anything unusual (a wrong type, a float count, a bad timestamp...)
# returns None and the event goes through _parse_strict, which reports the first error. So
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


def _parse_fast(obj: dict[str, Any], max_text_chars: int,
                memo: dict[str, float] | None = None) -> SocialEvent | None:
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
