"""Unit tests of the pure influencer-engaged detector."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from streams import codec
from streams.aggregate.bucket import BucketAgg, PostRef
from streams.alerts.lifecycle import Lifecycle, Policy, step
from streams.detectors import influencer as I
from streams.detectors.protocol import BucketView

T0 = 1_700_000_000 - 1_700_000_000 % 60
B = 60


def post(author: str, kind: str = "ordinary", followers: int = 1_000,
         sentiment: float | None = -0.7, pid: str | None = None, ts: float = T0) -> PostRef:
    return PostRef(pid or f"{author}-{ts}", "x", author, followers, kind, "text", None, ts,
                   followers, sentiment)


def agg(i: int, *posts: PostRef, first: tuple[PostRef, ...] = ()) -> BucketAgg:
    return BucketAgg(watch="w", bucket_start=T0 + i * B, count=len(posts) + len(first),
                     top_posts=posts, first_movers=first)


def drive(aggs, cfg=I.DEFAULT, state=None):
    state = state or I.initial_state()
    out = []
    for a in aggs:
        state = I.update(state, BucketView(a), a.bucket_start, cfg)
        out.append(I.evaluate(state))
    return state, out


def test_listed_journalist_negative_signals_once_per_cooldown():
    cfg = I.DEFAULT
    every = int(cfg.cooldown_s // B) // 4
    aggs = [agg(k * every, post("@LesEchos_Jane", "journalist", 8_000, ts=T0 + k * every * B))
            for k in range(9)]  # every quarter of the cooldown, for two cooldowns
    _, out = drive(aggs)
    fired = [k for k, sigs in enumerate(out) if sigs]
    assert fired == [0, 4, 8]
    sig = out[0][0]
    assert sig.author == "lesechos_jane" and sig.kind == "journalist"
    assert sig.severity == "warning"
    assert sig.post.author == "@LesEchos_Jane"  # the post itself is the evidence


def test_positive_neutral_unscored_and_ordinary_authors_give_nothing():
    cases = [
        post("jane", "journalist", 50_000, sentiment=0.6),
        post("jane", "journalist", 50_000, sentiment=0.0),
        post("jane", "journalist", 50_000, sentiment=None),
        post("joe", "ordinary", 5_000),
        post("v", "verified", 10_000),
        post("brand", "owned", 2_000_000),  # the watch's own apology reads negative
    ]
    for i, p in enumerate(cases):
        state, out = drive([agg(i, p)])
        assert out == [()], p
        assert I.observe(state) == []


def test_high_reach_unlisted_and_verified_authors_signal():
    state, out = drive([agg(0, post("star", "ordinary", 250_000)),
                        agg(1, post("checked", "verified", 30_000))])
    assert [s.severity for sigs in out for s in sigs] == ["watch", "watch"]
    obs = next(iter(I.observe(state)), None)
    assert obs is not None and obs.onset and obs.severity == "watch"


def test_severity_crisis_for_huge_reach_or_several_authors():
    _, out = drive([agg(0, post("giant", "media", 3_000_000))])
    assert out[0][0].severity == "crisis"
    state, out = drive([agg(0, post("a", "journalist")), agg(5, post("b", "journalist")),
                        agg(10, post("c", "media"))])
    assert [sigs[0].severity for sigs in out] == ["warning", "warning", "warning"]
    assert state.severity == "crisis" and state.engaged == 3
    # outside the crisis window, the third one is only a warning again
    state, out = drive([agg(0, post("a", "journalist")), agg(5, post("b", "journalist")),
                        agg(60, post("c", "media"))])
    assert state.severity == "warning"


def test_same_post_in_top_and_first_movers_and_same_author_twice_count_once():
    p = post("Jane", "journalist", 40_000, pid="p1")
    q = post("JANE", "journalist", 40_000, pid="p2", ts=T0 + 5)
    _, out = drive([agg(0, p, q, first=(p,))])
    assert len(out[0]) == 1 and out[0][0].post.id == "p1"  # the first post is the evidence


def test_kind_outweighs_follower_counts():
    assert I.impact_of("journalist", 10_000) > I.impact_of("ordinary", 1_000_000)
    assert I.impact_of("journalist", 1_000_000) > I.impact_of("journalist", 10_000)


def test_recent_authors_are_bounded():
    cfg = replace(I.DEFAULT, max_authors=8)
    aggs = [agg(i, *(post(f"j{i}-{k}", "journalist") for k in range(5))) for i in range(20)]
    state, out = drive(aggs, cfg)
    assert len(state.recent) == 8
    assert all(len(sigs) == 5 for sigs in out)


def test_drives_the_lifecycle():
    lc = Lifecycle()
    state = I.initial_state()
    statuses = []
    for i in range(30):
        a = agg(i, post("jane", "journalist")) if i in (0, 3) else agg(i)
        state = I.update(state, BucketView(a), a.bucket_start)
        res = step(lc, "w", I.ALERT_TYPE, next(iter(I.observe(state)), None),
                   a.bucket_start + B, Policy())
        lc = res.state
        if res.emission is not None:
            statuses.append((i, res.emission.status, res.emission.severity))
    # bucket 3 repeats the author within the cooldown: no new observation, so the incident
    # resolves resolve_after_s (10 buckets) after the first quiet bucket (1)
    assert statuses == [(0, "open", "warning"), (11, "resolved", "warning")]


kinds = st.sampled_from(["journalist", "media", "institution", "owned", "employee", "verified",
                         "ordinary"])
posts = st.builds(post, st.sampled_from(["a", "B", "@c", "d", "e"]), kinds,
                  st.integers(0, 5_000_000), st.one_of(st.none(), st.floats(-1.0, 1.0)),
                  st.none(), st.floats(T0, T0 + 1e6))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 200), st.lists(posts, max_size=6)), max_size=25))
def test_state_round_trips_and_score_is_bounded(rows):
    state, i = I.initial_state(), 0
    for gap, ps in rows:
        i += gap
        state = I.update(state, BucketView(agg(i, *ps[:5], first=tuple(ps[5:]))), T0 + i * B)
        assert codec.loads(I.InfluencerState, codec.dumps(state)) == state
        assert 0.0 <= state.score < 1.0
        assert len({s.author for s in state.signals}) == len(state.signals)
