"""Bluesky Jetstream events mapped to social-event.v1 (fixtures from the Jetstream README)."""

from __future__ import annotations

import orjson

from streams.sources.bluesky import BlueskyMapper, time_us
from streams.sources.common import Payload
from tests.unit.sources_helpers import FIXTURES, events, outcomes, reasons, skipped

B = FIXTURES / "bluesky"
DID_A = "did:plc:4s7x2k3mbq5z6vhwfl4dq2ia"
DID_B = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


def test_post_creates_map_and_the_rest_is_skipped() -> None:
    outs = outcomes(BlueskyMapper(), B / "jetstream.jsonl")
    evs = events(outs)
    assert skipped(outs) == ["identity", "other_collection", "delete", "update", "account",
                             "other_kind"]
    assert reasons(outs) == []
    first, second, reply = evs
    assert first == {
        "id": f"at://{DID_A}/app.bsky.feed.post/3kuvvxk2pz22a", "platform": "bluesky",
        "created_at": "2024-06-03T08:12:05.084Z",
        # no profile in Jetstream: the DID, no follower count (0), no badge
        "author": {"id": DID_A, "handle": DID_A, "followers": 0, "verified": False},
        "text": "Panne de l'appli #SGpanne ce matin, @sgetvous.bsky.social une idée du "
                "délai ? Suivi ici : downdetector.fr/statut/soc…",
        "hashtags": ["SGpanne"], "mentions": ["sgetvous.bsky.social"],
        "urls": ["https://downdetector.fr/statut/societe-generale/"],
        "url": f"https://bsky.app/profile/{DID_A}/post/3kuvvxk2pz22a", "lang": "fr"}
    # the identity event before it named DID_B; facets count UTF-8 bytes (an emoji leads)
    assert second["author"] == {"id": DID_B, "handle": "lea-martin.bsky.social",
                                "followers": 0, "verified": False}
    assert second["mentions"] == ["sgetvous.bsky.social"]
    assert second["hashtags"] == ["SGpanne", "banque"]
    assert reply["reply_to"] == f"at://{DID_A}/app.bsky.feed.post/3kuvvxk2pz22a"
    assert reply["lang"] == "fr" and reply["hashtags"] == ["paiement"]
    assert reply["urls"] == ["https://www.example-news.fr/eco/panne-sg"]  # the link card


def test_bad_events_get_their_reasons() -> None:
    outs = outcomes(BlueskyMapper(), B / "jetstream-bad.jsonl")
    # the 20,001-character text maps; the contract check after mapping rejects it
    assert reasons(outs) == ["bad_timestamp", "missing_field", "wrong_type", "invalid_value",
                             "invalid_json"]


def test_mention_offsets_are_utf8_bytes() -> None:
    text = "é🙂 @lea.bsky.social et #tag"
    data = text.encode()
    start = data.index(b"@lea")
    ev = {"did": DID_A, "time_us": 1, "kind": "commit", "commit": {
        "rev": "r", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "k",
        "record": {"text": text, "createdAt": "2024-06-03T08:00:00Z", "facets": [
            {"index": {"byteStart": start, "byteEnd": start + len(b"@lea.bsky.social")},
             "features": [{"$type": "app.bsky.richtext.facet#mention", "did": DID_B}]},
            {"index": {"byteStart": 999, "byteEnd": 1003},  # out of range: the DID instead
             "features": [{"$type": "app.bsky.richtext.facet#mention", "did": DID_A}]}]}}}
    (out,) = BlueskyMapper()(Payload(orjson.dumps(ev), 0))
    assert out.event["mentions"] == ["lea.bsky.social", DID_A]  # type: ignore[union-attr]


def test_time_us_is_the_cursor() -> None:
    assert time_us(b'{"time_us": 1725911162329308, "kind": "account"}') == 1725911162329308
    assert time_us(b"not json") is None and time_us(b'{"kind": "commit"}') is None
