"""X API v2 payloads mapped to social-event.v1 (fixtures written from the API docs)."""

from __future__ import annotations

import logging

import orjson
import pytest

from streams.sources.common import Failed, Mapped, Payload
from streams.sources.x import XMapper
from tests.unit.sources_helpers import FIXTURES, events, outcomes, reasons, skipped

X = FIXTURES / "x"


def test_stream_lines_map_every_field(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        outs = outcomes(XMapper(), X / "stream.jsonl")
    evs = events(outs)
    assert [e["id"] for e in evs] == ["1797456112233445566", "1797457001122334455",
                                      "1797460099887766554", "1797461234567890123",
                                      "1797462000000000001"]
    assert skipped(outs) == ["error_message"] and reasons(outs) == []
    first = evs[0]
    assert first == {
        "id": "1797456112233445566", "platform": "x", "created_at": "2024-06-03T08:12:05Z",
        "author": {"id": "1450000000000000001", "handle": "claire_dubois", "followers": 1843,
                   "verified": False, "bio": "Cliente depuis 15 ans. Avis perso.",
                   "created_at": "2012-03-14T09:00:00Z"},
        "text": "Impossible de me connecter à l'appli depuis ce matin #SGpanne @SG_etvous "
                "vous pouvez nous dire ce qui se passe ? https://t.co/Abc123XyZ",
        "hashtags": ["SGpanne"], "mentions": ["SG_etvous"],
        "urls": ["https://downdetector.fr/statut/societe-generale/"],  # unwound, not t.co
        "url": "https://x.com/claire_dubois/status/1797456112233445566",
        "metrics": {"likes": 52, "reposts": 16, "replies": 6},  # reposts: retweets + quotes
        "lang": "fr"}
    reply, long_post, retweet, quote = evs[1:]
    assert reply["reply_to"] == "1797456112233445566" and reply["author"]["verified"] is True
    assert "repost_of" not in reply
    # a long post: the whole text and its entities come from note_tweet
    assert long_post["text"].endswith("Thread ⬇️ #SGpanne #banque")
    assert len(long_post["text"]) > 280 and long_post["hashtags"] == ["SGpanne", "banque"]
    # a retweet: the original's whole text, the retweeted id, the retweeter as author
    assert retweet["repost_of"] == long_post["id"] and retweet["text"] == long_post["text"]
    assert retweet["author"]["handle"] == "claire_dubois"
    assert retweet["mentions"] == ["m_lefevre_eco"]
    # escaped &, <, > restored; an author without public_metrics has 0 followers, said once
    assert quote["text"].startswith("Clients & commerçants bloqués, et le service client "
                                    "répond <en cours>")
    assert quote["author"]["followers"] == 0 and "bio" in quote["author"]
    assert quote["repost_of"] == long_post["id"]  # a quote shares, with its own text
    assert sum("public_metrics" in r.message for r in caplog.records) == 1


def test_bad_stream_lines_get_their_reasons() -> None:
    outs = outcomes(XMapper(), X / "stream-bad.jsonl")
    # the mapper itself rejects all but the lang one, caught by the contract check after
    assert reasons(outs) == ["missing_field", "missing_field", "bad_timestamp",
                             "missing_field", "not_an_object", "invalid_json"]
    mapped = [o for _, o in outs if isinstance(o, Mapped)]
    assert [m.event["lang"] for m in mapped] == ["français"]
    details = [o.detail for _, o in outs if isinstance(o, Failed)]
    assert "expansions=author_id" in details[0] and "tweet.fields=created_at" in details[1]


def test_search_page_maps_each_post_and_dead_letters_the_one_without_author() -> None:
    outs = outcomes(XMapper(), X / "search-recent.json")
    assert len({p.pos for p, _ in outs}) == 1  # a pretty-printed page is one payload
    evs = events(outs)
    assert [e["id"] for e in evs] == ["1797480000000000001", "1797480000000000003"]
    assert [o.index for _, o in outs] == [0, 1, 2]
    bad = [o for _, o in outs if isinstance(o, Failed)]
    assert [(b.reason, b.index) for b in bad] == [("missing_field", 1)]
    assert orjson.loads(bad[0].element or b"")["id"] == "1797480000000000002"
    assert evs[1]["author"]["handle"] == "SG_etvous"


def test_empty_page_and_error_messages_are_skipped() -> None:
    assert skipped(outcomes(XMapper(), X / "search-empty.json")) == ["empty_page"]
    page = orjson.dumps({"data": [], "meta": {"result_count": 0}})
    assert [o.kind for o in XMapper()(Payload(page, 0))] == ["empty_page"]  # type: ignore


def test_verified_type_when_verified_is_absent() -> None:
    tw = {"id": "1", "text": "t", "author_id": "9", "created_at": "2024-06-03T08:00:00Z"}
    for vtype, expected in (("business", True), ("none", False), (None, False)):
        user = {"id": "9", "username": "u", "public_metrics": {"followers_count": 3}}
        if vtype is not None:
            user["verified_type"] = vtype
        ev = XMapper().tweet(tw, {"9": user}, {})
        assert ev["author"]["verified"] is expected
