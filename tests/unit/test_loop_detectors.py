"""Every detector driven by the per-watch loop, bucket by bucket: shift, influencer, bad buzz,
trending hashtags (volume runs too)."""

from __future__ import annotations

import random

from streams import codec
from streams.aggregate.bucket import BucketAgg, PostRef
from streams.alerts.lifecycle import Policy
from streams.detectors import volume
from streams.detectors.suite import DetectorConfigs
from streams.engine.loop import LoopConfig, close_until
from streams.engine.watch import Fired, WatchState

B = 60
T0 = 1_700_000_000 - 1_700_000_000 % 86_400
VCFG = volume.VolumeConfig(bucket_s=float(B))
LOOP = LoopConfig(bucket_s=B, lateness_s=0.0, policy=Policy(),
                  detectors=DetectorConfigs(volume=VCFG))


def close(ws: WatchState, agg: BucketAgg) -> tuple[WatchState, tuple[Fired, ...]]:
    """Close exactly this bucket."""
    out = close_until(ws, float(agg.bucket_start + B), {agg.bucket_start: agg}.get, LOOP)
    assert out.state.last_closed == agg.bucket_start
    return out.state, out.fired


def bucket(i: int, rnd: random.Random, crisis: bool) -> BucketAgg:
    n = rnd.randint(40, 60) if crisis else rnd.randint(3, 7)
    neg = int(n * (0.75 if crisis else 0.2))
    posts = ()
    if crisis and i % 5 == 0:
        posts = (PostRef(f"p{i}", "x", "lesechos", 1_200_000, "journalist", "SG en panne",
                         None, float(T0 + i * B), 1_200_000, -0.7),)
    return BucketAgg(watch="socgen", bucket_start=T0 + i * B, count=n, negative=neg,
                     neutral=n - neg, sentiment_sum=-0.5 * neg, reach=n * 300,
                     reposts=n // 3 if crisis else 0, top_posts=posts)


def run(crisis_from: int | None, n: int) -> tuple[list[Fired], WatchState]:
    rnd = random.Random(5)
    ws = WatchState(watch="socgen", first_bucket=T0)
    out: list[Fired] = []
    for i in range(n):
        crisis = crisis_from is not None and i >= crisis_from
        ws, fired = close(ws, bucket(i, rnd, crisis))
        out.extend(f for f in fired if f.alert_type != "volume_spike")
    return out, ws


def test_a_negative_surge_with_a_journalist_opens_the_three_incidents() -> None:
    day = 86_400 // B
    emitted, ws = run(crisis_from=day + 600, n=day + 660)
    opened = {e.alert_type for e in emitted if e.emission.status == "open"}
    assert opened == {"sentiment_shift", "influencer_engaged", "bad_buzz"}, opened
    buzz = [e for e in emitted if e.alert_type == "bad_buzz"]
    assert any("components" in (e.details or {}) for e in buzz)
    assert codec.loads(WatchState, codec.dumps(ws)) == ws


def test_quiet_chatter_raises_nothing() -> None:
    emitted, _ = run(crisis_from=None, n=86_400 // B + 600)
    assert emitted == []


def trend_run(minutes: int, seed: int, extra: dict[int, dict[str, int]],
              chatter: dict[str, tuple[int, int]]) -> tuple[list[Fired], WatchState]:
    """Buckets of random chatter plus, from each minute in extra, fixed hashtag counts;
    returns the trending_hashtag emissions and the final states."""
    rnd = random.Random(seed)
    ws = WatchState(watch="socgen", first_bucket=T0)
    trend = []
    for i in range(minutes):
        tags = {t: rnd.randint(lo, hi) for t, (lo, hi) in chatter.items()}
        for start, counts in extra.items():
            if i >= start:
                tags.update(counts)
        agg = BucketAgg(watch="socgen", bucket_start=T0 + i * B, count=sum(tags.values()),
                        hashtags=tags)
        ws, fired = close(ws, agg)
        trend += [e for e in fired if e.alert_type == "trending_hashtag"]
    return trend, ws


def test_a_new_hashtag_tied_to_the_watch_trends_once() -> None:
    trend, ws = trend_run(6 * 60, 9, {300: {"grevesncf": 50}},
                          {"sncf": (1, 3), "train": (0, 2)})
    opens = [e for e in trend if e.emission.status == "open"]
    assert len(opens) == 1
    details = opens[0].details
    assert details is not None and opens[0].subject == details["hashtag"] == "grevesncf"
    assert details["hashtags"][0]["tag"] == "grevesncf"
    assert details["value"] >= 50  # the hashtag's own figures, not the watch's
    # one lifecycle per hashtag, keyed by it; the alert id depends on it
    assert ("trending_hashtag", "grevesncf") in ws.lifecycles


def test_two_hashtags_trending_are_two_incidents_with_their_own_ids() -> None:
    trend, ws = trend_run(8 * 60, 4, {300: {"grevesncf": 50}, 400: {"retardtgv": 40}},
                          {"sncf": (1, 3)})
    opens = [e for e in trend if e.emission.status == "open"]
    assert [e.subject for e in opens] == ["grevesncf", "retardtgv"]
    # told once, then only on escalation: no stream of "evidence changed" updates
    assert {e.emission.reason for e in trend} <= {"onset", "escalation", "back_to_normal"}
    assert len({e.emission.alert_id for e in opens}) == 2
    assert codec.loads(WatchState, codec.dumps(ws)) == ws
