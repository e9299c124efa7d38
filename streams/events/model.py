"""The social-event.v1 model and its reference validator (in agreement with schemas/)."""

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


def parse_strict(obj: Any, max_text_chars: int = 20_000) -> SocialEvent:
    """The reference validator: every check in order, the first failure is the reported one."""
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
