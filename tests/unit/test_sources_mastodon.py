"""Mastodon statuses and streaming events mapped to social-event.v1 (fixtures from the docs)."""

from __future__ import annotations

import orjson
import pytest

from streams.sources.common import Failed, Payload
from streams.sources.html_text import html_to_text
from streams.sources.mastodon import full_acct, map_payload
from tests.unit.sources_helpers import FIXTURES, events, outcomes, reasons, skipped

M = FIXTURES / "mastodon"
S1 = "https://mastodon.social/users/juliette/statuses/112570501234567890"
S2 = "https://piaille.fr/users/ecolibre/statuses/112570510000000001"
S4 = "https://mastodon.social/users/juliette/statuses/112570530000000003"


@pytest.mark.parametrize(("html", "text", "links"), [
    ("<p>a</p><p>b</p>", "a\n\nb", ()),
    ("<p>line<br>two<br />three</p>", "line\ntwo\nthree", ()),
    ("<p>&quot;q&quot; &amp; &lt;b&gt; &#39;s&#39; caf&eacute;</p>", "\"q\" & <b> 's' café", ()),
    ('<a href="https://x.social/tags/SG" class="mention hashtag" rel="tag">#<span>SG</span>'
     '</a> <span class="h-card"><a href="https://x.social/@bob" class="u-url mention">@<span>'
     'bob</span></a></span>', "#SG @bob", ()),
    ('<p><a href="https://ex.org/a/long/path"><span class="invisible">https://</span>'
     '<span class="ellipsis">ex.org/a/lo</span><span class="invisible">ng/path</span></a></p>',
     "https://ex.org/a/long/path", ("https://ex.org/a/long/path",)),
    ("plain text, no tags", "plain text, no tags", ()),
    ("<p>x<script>alert(1)</script>y</p>", "xy", ()),
])
def test_html_to_text(html: str, text: str, links: tuple[str, ...]) -> None:
    out = html_to_text(html)
    assert (out.text, out.links) == (text, links)


def test_rest_page_maps_posts_replies_boosts_and_content_warnings() -> None:
    outs = outcomes(map_payload, M / "statuses.json")
    evs = events(outs)
    assert [e["id"] for e in evs] == [
        S1, S2, "https://mastodon.social/users/alertes_bot/statuses/112570520000000002", S4]
    first, reply, boost, warned = evs
    assert first == {
        "id": S1, "platform": "mastodon", "created_at": "2024-06-03T08:12:05.120Z",
        "author": {"id": "juliette@mastodon.social", "handle": "juliette@mastodon.social",
                   "followers": 412, "verified": False, "bot": False,
                   "bio": "Développeuse, Lyon. Avis perso.",
                   "created_at": "2022-11-05T00:00:00Z"},
        "text": "Plus d'accès à mon compte depuis 7h, appli et site en panne #SGpanne "
                "@ecolibre vous en savez plus ?\n\nSuivi : "
                "https://downdetector.fr/statut/societe-generale/",
        "hashtags": ["SGpanne"], "mentions": ["ecolibre@piaille.fr"],
        "urls": ["https://downdetector.fr/statut/societe-generale/"],
        "metrics": {"likes": 11, "reposts": 5, "replies": 2},
        "url": "https://mastodon.social/@juliette/112570501234567890", "lang": "fr"}
    assert reply["reply_to"] == "112570501234567890" and reply["author"]["followers"] == 9870
    assert reply["author"]["bio"] == ("Journaliste indépendant & économie.\n"
                                      "Newsletter : eco.example.fr")
    assert reply["text"].startswith("@juliette Confirmé : incident informatique chez "
                                    "Société Générale,\nagences ouvertes")
    # a boost: the booster as author, the boosted post's text, tags and counts
    assert boost["repost_of"] == S2 and boost["text"] == reply["text"]
    assert boost["author"]["handle"] == "alertes_bot@mastodon.social"
    assert boost["author"]["bot"] is True and boost["hashtags"] == ["sgpanne", "banque"]
    assert warned["text"] == ("Coup de gueule banque\n\nLes commerçants du quartier refusent "
                              "les cartes <SG> en attendant.")
    bad = [o for _, o in outs if isinstance(o, Failed)]
    assert [(b.reason, b.detail, b.index) for b in bad] == [("missing_field", "account", 4)]


def test_sse_capture() -> None:
    outs = outcomes(map_payload, M / "streaming.sse", sse=True)
    assert [e["id"] for e in events(outs)] == [S1, S2, S4]
    assert skipped(outs) == ["delete", "status.update", "filters_changed"]
    assert reasons(outs) == ["invalid_json"]


def test_websocket_messages() -> None:
    outs = outcomes(map_payload, M / "websocket.jsonl")
    evs = events(outs)
    assert [e.get("repost_of") for e in evs] == [None, S2]
    assert skipped(outs) == ["delete"] and reasons(outs) == ["invalid_json"]


def test_statuses_one_a_line_and_bad_ones() -> None:
    assert [e["id"] for e in events(outcomes(map_payload, M / "statuses.jsonl"))] == [S1, S4]
    assert reasons(outcomes(map_payload, M / "statuses-bad.jsonl")) == [
        "missing_field", "bad_timestamp", "wrong_type", "invalid_value", "not_an_object",
        "invalid_json"]


def test_unknown_streaming_events_are_skipped_under_one_kind() -> None:
    out = map_payload(Payload(b"{}", 0, event="something.new"))
    assert [o.kind for o in out] == ["other_event"]  # type: ignore[union-attr]
    msg = orjson.dumps({"stream": ["user"], "event": "notification", "payload": "{}"})
    assert [o.kind for o in map_payload(Payload(msg, 0))] == ["notification"]  # type: ignore


def test_full_acct() -> None:
    assert full_acct({"acct": "bob", "url": "https://x.social/@bob"}) == "bob@x.social"
    assert full_acct({"acct": "bob@y.org", "url": "https://x.social/@bob"}) == "bob@y.org"
    assert full_acct({"acct": "bob"}) == "bob"
