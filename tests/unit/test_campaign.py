"""Campaign aggregates: affiliation rules, order independence, partial merges, bounds, JSON."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from streams import codec
from streams.aggregate.bucket import author_hash
from streams.aggregate.campaign import (
    FIRST_N,
    KMV_K,
    Affiliation,
    CampaignAgg,
    CampaignBuilder,
    CampaignConfig,
    affiliation_of,
    merge_campaigns,
)
from streams.events.model import Author, SocialEvent
from streams.watches.config import Watch, load_watches

WATCHES = Path(__file__).resolve().parents[2] / "streams" / "data" / "watches.toml"
BUCKET_S = 60
# Wednesday 2024-03-13 10:00 Paris (09:00 UTC): office hours
T0 = datetime(2024, 3, 13, 9, 0, tzinfo=UTC).timestamp()
SOCGEN = next(w for w in load_watches(WATCHES) if w.id == "socgen")
AFF = Affiliation.from_watch(SOCGEN, extra_roster=("@sg_marie_jul1",))
BIOS = ("", "Tweets are my own", "Risk manager chez SG. Views are my own", "#TeamSG · ambassadeur",
        "Dev web | café | vélo")
DEFAULT = CampaignConfig()
TAGS = ("becausewelovesg", "sgvoleurs", "auplusprèsduxv", "fail")


def _event(i: int, author: int, followers: int, offset_s: float, tags: tuple[str, ...],
           sentiment: float | None, bio: int, age_days: float | None) -> SocialEvent:
    created = T0 + offset_s
    return SocialEvent(
        id=f"p{i}", platform="twitter", created_at=created,
        author=Author(id=f"a{author}", handle="sg_marie_jul1" if author == 0 else f"user{author}",
                      followers=followers, verified=False, bio=BIOS[bio],
                      created_at=None if age_days is None else created - age_days * 86400),
        text=f"Fiers de notre banque {i % 5} fois #{' #'.join(tags)}", hashtags=tags,
        sentiment=sentiment)




def _events_st(min_size: int, span_s: float) -> st.SearchStrategy[list[SocialEvent]]:
    return st.lists(st.builds(
        _event, i=st.integers(0, 5000), author=st.integers(0, 80),
        followers=st.integers(0, 5000), offset_s=st.floats(-60, span_s - 60.001),
        tags=st.lists(st.sampled_from(TAGS), min_size=0, max_size=3, unique=True).map(tuple),
        sentiment=st.one_of(st.none(), st.floats(-1, 1)), bio=st.integers(0, len(BIOS) - 1),
        age_days=st.one_of(st.none(), st.floats(0, 4000))),
        min_size=min_size, max_size=150,
    ).map(lambda evs: list({e.id: e for e in evs}.values()))


events_st = _events_st(0, 4 * BUCKET_S)


def _build(evs: list[SocialEvent], cfg: CampaignConfig = DEFAULT
           ) -> dict[tuple[str, int], dict[str, CampaignAgg]]:
    b = CampaignBuilder({"socgen": AFF}, cfg)
    for ev in evs:
        bucket = int(ev.created_at // BUCKET_S) * BUCKET_S
        b.add("socgen", ev.hashtags or (), ev, ev.sentiment, author_hash(ev.author.id), bucket)
    return b.freeze()


def _merge_all(parts: list[dict[tuple[str, int], dict[str, CampaignAgg]]], max_tags: int,
               max_sample: int) -> dict[tuple[str, int], dict[str, CampaignAgg]]:
    out: dict[tuple[str, int], dict[str, CampaignAgg]] = {}
    for part in parts:
        for key, tags in part.items():
            out[key] = merge_campaigns(out.get(key, {}), tags, max_tags, max_sample)
    return out


def _comparable(d: dict[tuple[str, int], dict[str, CampaignAgg]]) -> dict:
    # float sums depend on addition order only in the last bits
    return {k: {t: replace(a, sent_sum=round(a.sent_sum, 9)) for t, a in v.items()}
            for k, v in d.items()}


@settings(max_examples=100, deadline=None)
@given(events_st, st.randoms(use_true_random=False))
def test_aggregation_is_independent_of_order(evs: list[SocialEvent], rnd: random.Random) -> None:
    shuffled = list(evs)
    rnd.shuffle(shuffled)
    assert _comparable(_build(evs)) == _comparable(_build(shuffled))


@settings(max_examples=100, deadline=None)
@given(_events_st(40, 2 * BUCKET_S), st.data())
def test_merging_partials_equals_aggregating_everything(evs: list[SocialEvent],
                                                        data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(evs)), max_size=4)))
    bounds = [0, *cuts, len(evs)]
    cfg = CampaignConfig(sample_rate=0.5, max_sample=4)
    parts = [_build(evs[a:b], cfg) for a, b in itertools.pairwise(bounds)]
    # the tag cap is the one documented bound: no cap here, so merge must be exact
    whole = _build(evs, cfg)
    assert _comparable(_merge_all(parts, 99, 4)) == _comparable(whole)
    assert max((len(a.samples) for t in whole.values() for a in t.values()), default=0) <= 4


@settings(max_examples=60, deadline=None)
@given(events_st)
def test_round_trip_through_json(evs: list[SocialEvent]) -> None:
    for tags in _build(evs).values():
        for agg in tags.values():
            assert codec.loads(CampaignAgg, codec.dumps(agg)) == agg


def test_bounds_and_counts() -> None:
    evs = [_event(i, i, 10 * i, i * 0.05, (f"t{i % 50}", "common"), -0.5 if i % 2 else 0.5,
                  i % len(BIOS), 10 if i % 4 == 0 else None) for i in range(1000)]
    cfg = CampaignConfig(max_tags=8, max_sample=5, sample_rate=0.5)
    (tags,) = _build(evs, cfg).values()
    assert len(tags) == 8 and "common" in tags
    c = tags["common"]
    assert c.posts == 1000 and len(c.author_hashes) == KMV_K
    assert 0.75 * 1000 < c.distinct_authors() < 1.25 * 1000
    assert len(c.first_ts) == FIRST_N and c.first_ts == tuple(sorted(c.first_ts))[:FIRST_N]
    assert c.first_ts[0] == T0
    assert len(c.samples) == 5
    assert all(s[0] < 2**63 for s in c.samples)  # below sample_rate x 2^64
    assert c.negative == c.positive == 500 and c.scored == 1000
    assert c.aged_posts == 250 and c.new_posts == 250  # age 10 days < 30 days
    assert c.low_posts == 5  # followers 0, 10, .. 40
    assert c.office_posts == 1000
    assert c.reach == sum(10 * i for i in range(1000))
    # author 0 is on the roster; bios 2 and 3 are affiliated ones
    assert c.aff_sources == {"roster": 1, "bio": 400}
    assert c.aff_posts == sum(c.aff_sources.values())
    # tags capped per (watch, bucket): the heaviest, ties by name
    assert sorted(tags) == sorted(["common", *sorted(f"t{i}" for i in range(50))[:7]])


def test_only_posts_with_hashtags_count() -> None:
    ev = _event(1, 1, 10, 0.0, (), None, 0, None)
    assert _build([ev]) == {}


def test_office_hours_follow_the_watch_timezone() -> None:
    paris_19h = datetime(2024, 3, 13, 18, 0, tzinfo=UTC).timestamp()  # 19:00 Paris
    saturday = datetime(2024, 3, 16, 10, 0, tzinfo=UTC).timestamp()
    assert AFF.in_office_hours(T0)
    assert not AFF.in_office_hours(paris_19h)
    assert not AFF.in_office_hours(saturday)
    assert Affiliation(tz="America/New_York").in_office_hours(
        datetime(2024, 3, 13, 14, 0, tzinfo=UTC).timestamp())  # 10:00 New York


def test_affiliation_rules() -> None:
    assert affiliation_of(AFF, "@SocieteGenerale", None, ()) == "owned"
    assert affiliation_of(AFF, "SG_MARIE_JUL1", "", ()) == "roster"
    # cues that name the brand themselves
    for bio in ("Conseillère clientèle chez SG · Paris", "#TeamSG · ambassadeur",
                "Employee at Société Générale, tweets are my own", "Banque chez Societe Generale"):
        assert affiliation_of(AFF, "someone", bio, ()) == "bio", bio
    # no cue, or a cue-like phrase without the brand, or the brand without a cue
    for bio in ("Tweets are my own", "chez SGT Pepper", "Client Société Générale depuis 1990",
                "", "Views are my own"):
        assert affiliation_of(AFF, "someone", bio, ()) is None, bio
    # a generic cue counts only next to a brand term
    w = Watch(id="sg", name="Société Générale", keywords=("SocGen",),
              bio_cues=("views are my own",), advocacy_url_patterns=("wearesocgen",
                                                                      "careers.sg.com/*/jobs"))
    aff = Affiliation.from_watch(w)
    assert affiliation_of(aff, "x", "Analyst @ SocGen. Views are my own", ()) == "bio"
    assert affiliation_of(aff, "x", "Views are my own", ()) is None
    assert affiliation_of(aff, "x", None, ["https://WeAreSocGen.com/story/1"]) == "advocacy"
    assert affiliation_of(aff, "x", None, ["https://careers.sg.com/fr/jobs/12"]) == "advocacy"
    assert affiliation_of(aff, "x", None, ["https://careers.sg.com/fr/about"]) is None
    # the roster is reloadable
    assert affiliation_of(aff.with_roster(["@NewHire"]), "newhire", None, ()) == "roster"


def test_advocacy_urls_from_the_text_when_the_event_has_none() -> None:
    w = Watch(id="sg", name="Société Générale", keywords=("SG",),
              advocacy_url_patterns=("wearesocgen",))
    ev = SocialEvent(id="p1", platform="x", created_at=T0,
                     author=Author(id="a", handle="h", followers=5, verified=False),
                     text="Rejoignez-nous https://wearesocgen.com/x #TeamSG")
    b = CampaignBuilder({"sg": Affiliation.from_watch(w)})
    b.add("sg", ("teamsg",), ev, None, 1, int(T0))
    (tags,) = b.freeze().values()
    assert tags["teamsg"].aff_sources == {"advocacy": 1}


def test_merge_rejects_other_keys() -> None:
    a = CampaignAgg("w", 0, "x")
    for other in (CampaignAgg("w", 60, "x"), CampaignAgg("w", 0, "y"), CampaignAgg("v", 0, "x")):
        try:
            a.merge(other)
        except ValueError:
            continue
        raise AssertionError("merged different keys")
