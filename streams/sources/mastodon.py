"""Mastodon statuses (REST arrays or lines, streaming SSE or websocket events) to
social-event.v1.

Ids are the statuses' federation URIs (one post has one URI on every server; the `id` field
is the serving instance's own); authors are `user@domain`. Mastodon has no verification
badge: `verified` is false. `account.bot` rides along as `author.bot`, a field v1 consumers
ignore. Deletes, edits (`status.update`) and other streaming events are skipped, not
dead-lettered.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

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
from streams.sources.html_text import html_to_text

PLATFORM = "mastodon"
SKIPPED_EVENTS = frozenset({
    "delete", "status.update", "notification", "filters_changed", "conversation",
    "announcement", "announcement.reaction", "announcement.delete", "encrypted_message",
    "notifications_merged"})


def full_acct(account: dict[str, Any]) -> str:
    """`user@domain`: a local account's acct lacks the domain, its profile URL has it."""
    acct = text_of(account.get("acct"), "account.acct").lstrip("@")
    if not acct:
        raise InvalidEvent("invalid_value", "account.acct is empty")
    if "@" not in acct and type(account.get("url")) is str:
        host = urlsplit(account["url"]).hostname
        if host:
            return f"{acct}@{host}"
    return acct


def _global_id(status: dict[str, Any], key: str) -> str:
    uri = status.get("uri")
    if type(uri) is str and 0 < len(uri) <= 256:
        return uri
    return text_of(status.get("id"), key)


def _author(account: Any) -> dict[str, Any]:
    if type(account) is not dict:
        raise InvalidEvent("missing_field" if account is None else "wrong_type", "account")
    acct = full_acct(account)
    out: dict[str, Any] = {
        "id": acct, "handle": acct,
        "followers": count(account.get("followers_count"), "account.followers_count"),
        "verified": False, "bot": account.get("bot") is True,
    }
    if type(account.get("note")) is str:
        out["bio"] = html_to_text(account["note"]).text
    if account.get("created_at") is not None:
        with contextlib.suppress(InvalidEvent):  # a bad account date must not lose the post
            out["created_at"] = time_field(account["created_at"], "account.created_at")
    return out


def status_event(st: Any) -> dict[str, Any]:
    """One Status entity as a social-event.v1 document; a boost carries the boosted post."""
    if type(st) is not dict:
        raise InvalidEvent("not_an_object", "a status must be an object")
    source = st["reblog"] if type(st.get("reblog")) is dict else st
    content = source.get("content")
    if type(content) is not str:
        raise InvalidEvent("missing_field" if content is None else "wrong_type", "content")
    body = html_to_text(content)
    text = body.text
    spoiler = source.get("spoiler_text")
    if type(spoiler) is str and spoiler.strip():  # the content warning is part of the post
        text = f"{spoiler.strip()}\n\n{text}" if text else spoiler.strip()
    tags = [t["name"] for t in source.get("tags") or [] if type(t) is dict
            and type(t.get("name")) is str and t["name"]]
    mentions = [m["acct"] for m in source.get("mentions") or [] if type(m) is dict
                and type(m.get("acct")) is str and m["acct"]]
    ev: dict[str, Any] = {
        "id": _global_id(st, "id"),
        "platform": PLATFORM,
        "created_at": time_field(st.get("created_at"), "created_at"),
        "author": _author(st.get("account")),
        "text": text,
        "hashtags": unique(tags),
        "mentions": unique(mentions),
        "urls": unique(list(body.links)),
        "metrics": {"likes": count(source.get("favourites_count"), "favourites_count"),
                    "reposts": count(source.get("reblogs_count"), "reblogs_count"),
                    "replies": count(source.get("replies_count"), "replies_count")},
    }
    url = st.get("url") or source.get("url") or st.get("uri")
    if type(url) is str:
        ev["url"] = url
    if type(source.get("language")) is str:
        ev["lang"] = source["language"]
    if st.get("in_reply_to_id") is not None:
        ev["reply_to"] = text_of(st["in_reply_to_id"], "in_reply_to_id")
    if source is not st:
        ev["repost_of"] = _global_id(source, "reblog.id")
    return ev


def _one(st: Any) -> list[Outcome]:
    try:
        return [Mapped(status_event(st))]
    except InvalidEvent as exc:
        return [fail(exc)]


def map_event(name: str, data: Any) -> list[Outcome]:
    """A streaming event: `update` carries a status (as a JSON string or an object)."""
    if name != "update":
        return [Skipped(name if name in SKIPPED_EVENTS else "other_event")]
    if type(data) in (str, bytes):
        try:
            data = load_json(data.encode() if type(data) is str else data)
        except InvalidEvent as exc:
            return [fail(exc)]
    return _one(data)


def map_payload(p: Payload) -> list[Outcome]:
    """Outcomes of one payload: an SSE event, a websocket message, a status or an array."""
    if p.event is not None:
        return map_event(p.event, p.raw)
    try:
        doc = load_json(p.raw)
    except InvalidEvent as exc:
        return [fail(exc)]
    if type(doc) is list:
        out: list[Outcome] = []
        for i, st in enumerate(doc):
            try:
                out.append(Mapped(status_event(st), i, st))
            except InvalidEvent as exc:
                out.append(fail(exc, st, i))
        return out or [Skipped("empty_page")]
    if type(doc) is not dict:
        return [Failed("not_an_object", "a Mastodon payload is a status, an array or an event")]
    if "event" in doc and "content" not in doc:  # a websocket message {stream, event, payload}
        if type(doc["event"]) is not str:
            return [Failed("wrong_type", "event must be a string")]
        return map_event(doc["event"], doc.get("payload"))
    return _one(doc)
