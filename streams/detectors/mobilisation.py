"""Mobilisation detector: track hashtag campaigns of a watch, explain and classify them.

Pure and streaming, one ``MobilisationState`` per watch.  ``fold(state, bucket_ts, campaigns,
negative_posts, watch_posts, cfg)`` folds one closed bucket (its merged ``CampaignAgg`` per tag
and the watch's negative / total posts; the detector protocol's ``update(state, bucket, ts,
cfg)`` takes them from the bucket view, with its office hours); ``evaluate(state, cfg)`` lists
the tracked campaigns with their class, confidence, features and share of voice against the
negative buzz, and ``observe(state, cfg)`` signals the alerting ones, one per hashtag.

- A tag is *tracked* (its features accumulate) from the first bucket where it has
  ``track_bucket_posts`` posts, so the first posts of a campaign are in its episode; it is a
  *campaign* once it has ``min_posts`` posts within ``window_s``, and is classified from
  ``classify_after_posts`` posts.  At most ``max_tracked`` tags (the least active in the
  window is evicted by a busier newcomer); a tag quiet for ``end_after_s`` ends.
- Per tracked tag: the episode's cumulative aggregate (bounded ``CampaignAgg``), a ring of its
  per-bucket posts over ``window_s`` and a ``NearDupWindow`` of the text samples.
- Office hours are judged against the watch's ordinary traffic (decayed share of non-campaign
  posts in office buckets), so a campaign is "office hours" only beyond the normal rhythm.
Memory per watch is O(max_tracked x (KMV + FIRST_N + neardup_items + window buckets)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from streams.aggregate.campaign import CampaignAgg
from streams.aggregate.neardup import NearDupWindow
from streams.detectors._mobilisation_rules import Classification, Reason, classify
from streams.detectors._mobilisation_rules import episode_features as _episode_features
from streams.detectors._mobilisation_state import (
    DEFAULT,
    MobilisationConfig,
    MobilisationState,
    Track,
    initial_state,
)
from streams.detectors.protocol import BucketView, Signal
from streams.events.times import iso

ALERT_TYPE = "mobilisation"
NAME = "mob"
READS: tuple[str, ...] = ()
PER_SUBJECT = True
ALERTING = ("employee_mobilisation", "coordinated_inauthentic")
__all__ = ["ALERT_TYPE", "DEFAULT", "NAME", "PER_SUBJECT", "READS", "CampaignSignal",
           "Classification", "MobilisationConfig", "MobilisationState", "Reason", "Track",
           "campaign_details", "classify", "describe", "evaluate", "features", "fold",
           "initial_state", "observe", "update"]


def _strip(agg: CampaignAgg, bucket_ts: float) -> CampaignAgg:
    return replace(agg, bucket_start=int(bucket_ts), samples=())


def _window_negatives(state: MobilisationState, track: Track) -> int:
    # the watch's negative posts in the window, without the campaign's own
    return max(sum(n for _, n in state.negatives) - sum(r[2] for r in track.recent), 0)


def features(track: Track, state: MobilisationState,
             cfg: MobilisationConfig = DEFAULT) -> dict[str, float | None]:
    """Every feature of a tracked campaign (episode, window, share of voice)."""
    out = _episode_features(track.episode, cfg.first_posts, cfg.sync_span_s)
    base = state.office_baseline(cfg)
    out["office_baseline"] = base
    out["office_lift"] = (out["office_share"] or 0.0) - base
    nd = track.neardup
    out["near_dup_ratio"] = nd.near_dup_ratio() if len(nd) >= cfg.min_neardup_samples else None
    out["near_dup_samples"] = float(len(nd))
    posts, neg = track.window_posts(), _window_negatives(state, track)
    out["window_posts"] = float(posts)
    out["window_negative_posts"] = float(neg)
    out["share_of_voice"] = posts / (posts + neg) if posts + neg else 0.0
    return out


def _eligible(track: Track, cfg: MobilisationConfig) -> bool:
    return (track.campaign_since is not None
            and track.episode.posts >= cfg.classify_after_posts)


def _advance(track: Track, state: MobilisationState, bucket_ts: float,
             cfg: MobilisationConfig) -> Track:
    posts = track.window_posts()
    since = track.campaign_since
    if since is None and posts >= cfg.min_posts:
        since = bucket_ts
    outweighs = track.outweighs_since
    outweighs = (outweighs if outweighs is not None else bucket_ts) if (
        since is not None and posts > _window_negatives(state, track)) else None
    if not (since is not None and track.episode.posts >= cfg.classify_after_posts):
        return replace(track, campaign_since=since, outweighs_since=outweighs, computed=None)
    f = features(track, state, cfg)
    c = classify(f)
    alert = c.cls in ALERTING and c.confidence >= cfg.min_confidence
    alert_since = (track.alert_since if track.alert_since is not None else bucket_ts) \
        if alert else None
    return replace(track, campaign_since=since, outweighs_since=outweighs, cls=c.cls,
                   confidence=c.confidence, alert_since=alert_since, computed=(f, c))


def update(state: MobilisationState, bucket: BucketView, ts: float,
           cfg: MobilisationConfig = DEFAULT) -> MobilisationState:
    """Fold the closed bucket starting at ts: its campaigns, negative and total posts."""
    agg = bucket.agg
    return fold(state, ts, agg.campaigns, agg.negative, agg.count, cfg,
                office_bucket=bucket.office_hours)


def fold(state: MobilisationState, bucket_ts: float, campaigns: Mapping[str, CampaignAgg],
         negative_posts: int, watch_posts: int, cfg: MobilisationConfig = DEFAULT, *,
         office_bucket: bool | None = None) -> MobilisationState:
    """Fold one closed bucket of the watch; office_bucket: is bucket_ts in its office hours."""
    if state.last_ts is not None and bucket_ts <= state.last_ts:
        return state  # a bucket already folded (redelivery) changes nothing
    if len(campaigns) > cfg.max_bucket_tags:
        keep = sorted(campaigns, key=lambda t: (-campaigns[t].posts, t))[:cfg.max_bucket_tags]
        campaigns = {t: campaigns[t] for t in keep}
    horizon = bucket_ts - cfg.window_s  # ring entries at or before it are out of the window
    ring_cap = int(cfg.window_s // cfg.bucket_s) + 1
    now = bucket_ts + cfg.bucket_s
    # office-hours baseline from the ordinary (non-campaign) traffic
    if office_bucket is None and campaigns:  # every post of a bucket shares it
        office_bucket = any(a.office_posts for a in campaigns.values())
    decay = 1.0 if state.last_ts is None else 0.5 ** (
        (bucket_ts - state.last_ts) / cfg.baseline_half_life_s)
    ordinary = max(watch_posts - sum(campaigns[t].posts for t in state.tracked
                                     if t in campaigns), 0)
    office_posts, ordinary_posts = state.office_posts * decay, state.ordinary_posts * decay
    if office_bucket is not None:
        ordinary_posts += ordinary
        office_posts += ordinary if office_bucket else 0
    negatives = tuple(x for x in state.negatives if x[0] > horizon)[-(ring_cap - 1):]
    state = replace(state, last_ts=bucket_ts, negatives=(*negatives, (bucket_ts, negative_posts)),
                    office_posts=office_posts, ordinary_posts=ordinary_posts)
    tracked: dict[str, Track] = {}
    for tag, tr in state.tracked.items():
        agg = campaigns.get(tag)
        recent = tuple(r for r in tr.recent if r[0] > horizon)[-(ring_cap - 1):]
        if agg is not None and agg.posts:
            tr = replace(tr, last_post_ts=bucket_ts, episode=tr.episode.combine(agg, 0),
                         recent=(*recent, (bucket_ts, agg.posts, agg.negative)),
                         neardup=tr.neardup.add_many(agg.samples).expire(now))
        else:
            tr = replace(tr, recent=recent, neardup=tr.neardup.expire(now))
        if bucket_ts - tr.last_post_ts < cfg.end_after_s:
            tracked[tag] = tr
    newcomers = sorted((t for t, a in campaigns.items()
                        if t not in tracked and a.posts >= cfg.track_bucket_posts),
                       key=lambda t: (-campaigns[t].posts, t))
    for tag in newcomers:
        agg = campaigns[tag]
        if len(tracked) >= cfg.max_tracked:
            least = min(tracked.values(), key=lambda x: (x.window_posts(), x.tag))
            if least.window_posts() >= agg.posts:
                break  # newcomers are sorted: no later one is busier
            del tracked[least.tag]
        nd = NearDupWindow(cfg.window_s, cfg.neardup_items, cfg.max_hamming)
        tracked[tag] = Track(tag, bucket_ts, bucket_ts, _strip(agg, bucket_ts),
                             ((bucket_ts, agg.posts, agg.negative),),
                             nd.add_many(agg.samples).expire(now))
    state = replace(state, tracked=tracked)
    return replace(state, tracked={t: _advance(tr, state, bucket_ts, cfg)
                                   for t, tr in sorted(tracked.items())})


@dataclass(frozen=True)
class CampaignSignal:
    """One classified campaign of the watch at the last bucket (lifecycle-compatible)."""

    tag: str
    classification: Classification
    features: Mapping[str, float | None]
    first_seen_ts: float
    posts: int
    share_of_voice: float
    outweighs_since: float | None
    alert: bool
    severity: str  # "" when not alerting
    bucket_ts: int
    onset: bool  # the first bucket of this alerting episode

    def signal(self) -> Signal | None:
        """The lifecycle signal of an alerting campaign (None when not alerting)."""
        if not self.alert:
            return None
        return Signal(ALERT_TYPE, self.tag, self.severity, self.classification.confidence,
                      float(self.features.get("window_posts") or 0.0),
                      float(self.features.get("window_negative_posts") or 0.0),
                      self.bucket_ts, self.onset, campaign_details(self))


def campaign_details(sig: CampaignSignal) -> dict[str, Any]:
    """A classified campaign, explained: class, confidence, the evidence, share of voice."""
    c = sig.classification
    return {
        "class": c.cls, "confidence": round(c.confidence, 4),
        "scores": {k: round(v, 4) for k, v in c.scores.items()},
        "reasons": [{"class": r.cls, "feature": r.feature, "value": round(r.value, 4),
                     "threshold": r.threshold, "contribution": round(r.contribution, 4)}
                    for r in c.reasons],
        "features": dict(sig.features), "posts": sig.posts,
        "first_seen": iso(sig.first_seen_ts), "share_of_voice": sig.share_of_voice,
        "outweighs_negative_since": None if sig.outweighs_since is None
        else iso(sig.outweighs_since),
    }


def _severity(cls: str, f: Mapping[str, float | None], cfg: MobilisationConfig) -> str:
    reach = f.get("reach") or 0.0
    if cls == "employee_mobilisation":
        return "warning" if reach >= cfg.warning_reach else "watch"
    sentiment = f.get("mean_sentiment")
    hostile = sentiment is not None and sentiment <= cfg.crisis_sentiment and (
        (f.get("window_posts") or 0.0) >= cfg.crisis_posts)
    return "crisis" if reach >= cfg.crisis_reach or hostile else "warning"


def evaluate(state: MobilisationState, cfg: MobilisationConfig = DEFAULT
             ) -> list[CampaignSignal]:
    """Every tracked campaign past classify_after_posts, explained, busiest first."""
    out = []
    ts = state.last_ts or 0.0
    for tr in state.tracked.values():
        if not _eligible(tr, cfg):
            continue
        if tr.computed is not None:  # this bucket's update already computed them
            f, c = tr.computed
        else:
            f = features(tr, state, cfg)
            c = classify(f)
        alert = c.cls in ALERTING and c.confidence >= cfg.min_confidence
        out.append(CampaignSignal(
            tr.tag, c, {k: None if v is None else round(v, 4) for k, v in f.items()},
            tr.first_seen_ts, tr.episode.posts, round(f["share_of_voice"] or 0.0, 4),
            tr.outweighs_since, alert, _severity(c.cls, f, cfg) if alert else "", int(ts),
            alert and tr.alert_since == ts))
    return sorted(out, key=lambda s: (-s.posts, s.tag))


def observe(state: MobilisationState, cfg: MobilisationConfig = DEFAULT) -> list[Signal]:
    """One signal per alerting campaign (employee or coordinated), busiest first."""
    return [sig for c in evaluate(state, cfg) if (sig := c.signal()) is not None]


def describe(state: MobilisationState, subject: str | None, cfg: MobilisationConfig = DEFAULT
             ) -> dict[str, Any]:
    """The campaign's classification and evidence while it is tracked (any class)."""
    for c in evaluate(state, cfg):
        if c.tag == subject:
            return campaign_details(c)
    return {}
