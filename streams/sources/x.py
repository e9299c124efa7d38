"""X API v2 payloads (filtered/sampled stream lines, search responses) to social-event.v1.

The author comes from `includes.users` (request `expansions=author_id` and
`user.fields=public_metrics,verified,created_at,description`); a retweet takes the full text
and entities of the original when `includes.tweets` has it (`referenced_tweets.id`). A retweet
or a quote sets `repost_of` (the contract has no quote field), a reply `reply_to`.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from streams.events.model import InvalidEvent
from streams.sources.common import (
    Failed,
    Mapped,
    Outcome,
    Payload,
    Skipped,
    count,
    fail,
    load_json,
    text_of,
    time_field,
    unique,
)

log = logging.getLogger(__name__)
PLATFORM = "x"


def _by_id(items: Any) -> dict[str, dict[str, Any]]:
    if type(items) is not list:
        return {}
    return {str(it["id"]): it for it in items if type(it) is dict and "id" in it}


def _list(obj: Any, key: str) -> list[Any]:
    value = obj.get(key) if type(obj) is dict else None
    return value if type(value) is list else []


def _strings(items: list[Any], *keys: str) -> list[str]:
    out: list[str] = []
    for it in items:
        if type(it) is dict:
            value = next((it[k] for k in keys if type(it.get(k)) is str and it[k]), None)
            if value is not None:
                out.append(value)
    return out


def _full(tweet: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Text and entities; a long post's full text is in note_tweet, `text` is cut at 280."""
    note = tweet.get("note_tweet")
    if type(note) is dict and type(note.get("text")) is str:
        ents = note.get("entities")
        return note["text"], ents if type(ents) is dict else {}
    ents = tweet.get("entities")
    return text_of(tweet.get("text"), "text"), ents if type(ents) is dict else {}


class XMapper:
    """Maps X API v2 payloads; remembers which request fields were missing, to warn once."""

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def _warn_once(self, what: str, message: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning("x payloads lack %s: %s", what, message)

    def __call__(self, p: Payload) -> list[Outcome]:
        """Outcomes of one stream line or search response."""
        try:
            doc = load_json(p.raw)
        except InvalidEvent as exc:
            return [fail(exc)]
        if type(doc) is not dict:
            return [Failed("not_an_object", "an X payload is an object with data and includes")]
        data = doc.get("data")
        if data is None:
            if "errors" in doc:  # operational messages on the stream, errors of a request
                return [Skipped("error_message")]
            meta = doc.get("meta")
            if type(meta) is dict and meta.get("result_count") == 0:
                return [Skipped("empty_page")]
            return [Failed("missing_field", "data")]
        includes = doc.get("includes") if type(doc.get("includes")) is dict else {}
        users = _by_id(_list(includes, "users"))
        tweets = _by_id(_list(includes, "tweets"))
        if type(data) is dict:
            try:
                return [Mapped(self.tweet(data, users, tweets))]
            except InvalidEvent as exc:
                return [fail(exc)]
        if type(data) is not list:
            return [Failed("wrong_type", "data must be a tweet or an array of tweets")]
        if not data:
            return [Skipped("empty_page")]
        out: list[Outcome] = []
        for i, tw in enumerate(data):
            try:
                out.append(Mapped(self.tweet(tw, users, tweets), i, tw))
            except InvalidEvent as exc:
                out.append(fail(exc, tw, i))
        return out

    def tweet(self, tw: Any, users: dict[str, dict[str, Any]],
              tweets: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """One tweet object and its author as a social-event.v1 document."""
        if type(tw) is not dict:
            raise InvalidEvent("not_an_object", "a tweet must be an object")
        tid = text_of(tw.get("id"), "id")
        if tw.get("author_id") is None:
            raise InvalidEvent("missing_field", "author_id (request expansions=author_id)")
        author_id = text_of(tw["author_id"], "author_id")
        user = users.get(author_id)
        if user is None:
            raise InvalidEvent("missing_field", f"includes.users has no user {author_id} "
                               "(request expansions=author_id)")
        if tw.get("created_at") is None:
            raise InvalidEvent("missing_field", "created_at (request tweet.fields=created_at)")
        refs = {r.get("type"): text_of(r.get("id"), "referenced_tweets.id")
                for r in _list(tw, "referenced_tweets") if type(r) is dict}
        retweeted = refs.get("retweeted")
        text, ents = _full(tw)
        mentions = _strings(_list(ents, "mentions"), "username")
        original = tweets.get(retweeted) if retweeted else None
        if original is not None:  # a retweet's own text is "RT @user: " cut short
            text, ents = _full(original)
            mentions += _strings(_list(ents, "mentions"), "username")
        metrics = tw.get("public_metrics")
        if type(metrics) is not dict:
            metrics = {}
        ev: dict[str, Any] = {
            "id": tid,
            "platform": PLATFORM,
            "created_at": time_field(tw["created_at"], "created_at"),
            "author": self.author(user),
            "text": html.unescape(text),  # the API escapes &, < and > in texts
            "hashtags": unique(_strings(_list(ents, "hashtags"), "tag")),
            "mentions": unique(mentions),
            "urls": unique(_strings(_list(ents, "urls"), "unwound_url", "expanded_url", "url")),
            "url": f"https://x.com/{user['username']}/status/{tid}",
            "metrics": {"likes": count(metrics.get("like_count"), "like_count"),
                        "reposts": count(metrics.get("retweet_count"), "retweet_count")
                        + count(metrics.get("quote_count"), "quote_count"),
                        "replies": count(metrics.get("reply_count"), "reply_count")},
        }
        if type(tw.get("lang")) is str:
            ev["lang"] = tw["lang"]
        if refs.get("replied_to"):
            ev["reply_to"] = refs["replied_to"]
        # a quote shares another post with a comment: amplification like a retweet, but
        # its text is its own
        repost_of = retweeted or refs.get("quoted")
        if repost_of:
            ev["repost_of"] = repost_of
        return ev

    def author(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user object as the event's author."""
        handle = user.get("username")
        if type(handle) is not str or not handle:
            raise InvalidEvent("missing_field", "includes.users[].username")
        pm = user.get("public_metrics")
        if type(pm) is dict:
            followers = count(pm.get("followers_count"), "followers_count")
        else:
            followers = 0
            self._warn_once("public_metrics", "followers are 0; request "
                            "user.fields=public_metrics")
        verified = user.get("verified")
        if type(verified) is not bool:  # newer payloads may carry only verified_type
            verified = user.get("verified_type") not in (None, "none")
        out: dict[str, Any] = {"id": text_of(user.get("id"), "user.id"), "handle": handle,
                               "followers": followers, "verified": verified}
        if type(user.get("description")) is str:
            out["bio"] = user["description"]
        if user.get("created_at") is not None:
            try:
                out["created_at"] = time_field(user["created_at"], "user.created_at")
            except InvalidEvent:  # a bad account date must not lose the post
                self._warn_once("user.created_at", "unreadable account dates are left out")
        return out
