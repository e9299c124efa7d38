"""Bluesky Jetstream events (`app.bsky.feed.post` creates) to social-event.v1.

Jetstream carries no profile: the author is the DID, its handle the last one an `identity`
event of the same stream announced (else the DID), and its follower count is 0 (unknown: the
schema requires the field). Deletes, updates, other collections, identity, account and unknown
kinds of events are skipped and counted, not dead-lettered.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from streams.events.model import InvalidEvent
from streams.sources.common import (
    Failed,
    Mapped,
    Outcome,
    Payload,
    Skipped,
    fail,
    load_json,
    text_of,
    time_field,
    unique,
)

PLATFORM = "bluesky"
POST = "app.bsky.feed.post"
MAX_HANDLES = 100_000  # DIDs whose handle is remembered (oldest forgotten first)
_FACET = "app.bsky.richtext.facet#"


def _facets(text: str, facets: Any) -> tuple[list[str], list[str], list[str]]:
    """Hashtags, mentioned handles and links of a post's rich-text facets."""
    tags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    if type(facets) is not list:
        return tags, mentions, links
    data = text.encode("utf-8")
    for facet in facets:
        if type(facet) is not dict or type(facet.get("features")) is not list:
            continue
        for feat in facet["features"]:
            if type(feat) is not dict:
                continue
            kind = str(feat.get("$type", "")).removeprefix(_FACET)
            if kind == "tag" and type(feat.get("tag")) is str:
                tags.append(feat["tag"].lstrip("#"))
            elif kind == "link" and type(feat.get("uri")) is str:
                links.append(feat["uri"])
            elif kind == "mention":
                mentions.append(_mentioned(data, facet.get("index"), feat.get("did")))
    return tags, mentions, links


def _mentioned(data: bytes, index: Any, did: Any) -> str:
    """The handle as written in the text (byte offsets, UTF-8), else the DID."""
    if type(index) is dict:
        start, end = index.get("byteStart"), index.get("byteEnd")
        if type(start) is int and type(end) is int and 0 <= start < end <= len(data):
            written = data[start:end].decode("utf-8", "ignore").strip().lstrip("@")
            if written:
                return written
    return did if type(did) is str else ""


class BlueskyMapper:
    """Maps Jetstream events; remembers handles announced by identity events."""

    def __init__(self) -> None:
        self._handles: OrderedDict[str, str] = OrderedDict()

    def __call__(self, p: Payload) -> list[Outcome]:
        """Outcomes of one Jetstream event."""
        try:
            doc = load_json(p.raw)
        except InvalidEvent as exc:
            return [fail(exc)]
        if type(doc) is not dict:
            return [Failed("not_an_object", "a Jetstream event is an object")]
        kind = doc.get("kind")
        if kind == "identity":
            self._learn(doc.get("identity"))
            return [Skipped("identity")]
        if kind == "account":
            return [Skipped("account")]
        if kind is None:
            return [Failed("missing_field", "kind")]
        if kind != "commit":  # a kind newer than this mapper: not a post
            return [Skipped("other_kind")]
        commit = doc.get("commit")
        if type(commit) is not dict:
            return [Failed("missing_field", "commit")]
        if commit.get("collection") != POST:
            return [Skipped("other_collection")]
        op = commit.get("operation")
        if op in ("delete", "update"):
            return [Skipped(op)]
        if op != "create":
            return [Failed("invalid_value", f"commit.operation {op!r}")]
        try:
            return [Mapped(self.post(doc, commit))]
        except InvalidEvent as exc:
            return [fail(exc)]

    def _learn(self, identity: Any) -> None:
        if type(identity) is dict and type(identity.get("did")) is str \
                and type(identity.get("handle")) is str and identity["handle"]:
            self._handles[identity["did"]] = identity["handle"]
            self._handles.move_to_end(identity["did"])
            if len(self._handles) > MAX_HANDLES:
                self._handles.popitem(last=False)

    def post(self, doc: dict[str, Any], commit: dict[str, Any]) -> dict[str, Any]:
        """A post-create commit as a social-event.v1 document."""
        did = text_of(doc.get("did"), "did")
        rkey = text_of(commit.get("rkey"), "commit.rkey")
        record = commit.get("record")
        if type(record) is not dict:
            raise InvalidEvent("missing_field", "commit.record")
        text = record.get("text")
        if type(text) is not str:
            raise InvalidEvent("missing_field" if text is None else "wrong_type",
                               "commit.record.text")
        tags, mentions, links = _facets(text, record.get("facets"))
        if type(record.get("tags")) is list:  # extra hashtags beside the text's facets
            tags += [t.lstrip("#") for t in record["tags"] if type(t) is str]
        embed = record.get("embed")
        external = embed.get("external") if type(embed) is dict else None
        if type(external) is dict and type(external.get("uri")) is str:
            links.append(external["uri"])
        ev: dict[str, Any] = {
            "id": f"at://{did}/{POST}/{rkey}",
            "platform": PLATFORM,
            "created_at": time_field(record.get("createdAt"), "commit.record.createdAt"),
            "author": {"id": did, "handle": self._handles.get(did, did), "followers": 0,
                       "verified": False},
            "text": text,
            "hashtags": unique(tags),
            "mentions": unique(mentions),
            "urls": unique(links),
            "url": f"https://bsky.app/profile/{did}/post/{rkey}",
        }
        langs = record.get("langs")
        if type(langs) is list and langs and type(langs[0]) is str:
            ev["lang"] = langs[0]
        reply = record.get("reply")
        parent = reply.get("parent") if type(reply) is dict else None
        if type(parent) is dict and type(parent.get("uri")) is str:
            ev["reply_to"] = parent["uri"]
        return ev


def time_us(raw: bytes) -> int | None:
    """The Jetstream cursor of an event, or None when it has none."""
    try:
        doc = load_json(raw)
    except InvalidEvent:
        return None
    value = doc.get("time_us") if type(doc) is dict else None
    return value if type(value) is int else None
