"""The per-watch detectors beyond volume, driven once per closed bucket (pure).

Sentiment shift, influencer engagement and the combined bad-buzz score each feed their own
alert lifecycle; the volume detector's state is read, not changed, here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from streams.aggregate.bucket import BucketAgg, combine_window
from streams.alerts.build import iso
from streams.alerts.lifecycle import RANK, Lifecycle, Observation, Policy, step
from streams.detectors import badbuzz, influencer, mobilisation, sentiment_shift, trending, volume

TYPES = (sentiment_shift.ALERT_TYPE, influencer.ALERT_TYPE, badbuzz.ALERT_TYPE,
         trending.ALERT_TYPE, mobilisation.ALERT_TYPE)


@dataclass(frozen=True)
class DetectorConfigs:
    """Configuration of the non-volume detectors."""

    shift: sentiment_shift.SentimentShiftConfig = sentiment_shift.DEFAULT
    influencer: influencer.InfluencerConfig = influencer.DEFAULT
    buzz: badbuzz.BadBuzzConfig = badbuzz.DEFAULT
    trend: trending.TrendConfig = trending.DEFAULT
    mob: mobilisation.MobilisationConfig = mobilisation.DEFAULT
    # the lowest level that may OPEN an incident, per type (a quiet day's watch-level bad-buzz
    # score is noise; an open incident still follows every level)
    min_open: Mapping[str, str] = field(default_factory=lambda: {badbuzz.ALERT_TYPE: "warning"})


@dataclass(frozen=True)
class Window:
    """Evidence accumulated since an incident of one type opened."""

    agg: BucketAgg
    baseline: float


@dataclass(frozen=True)
class DetectorStates:
    """Per-watch states of the non-volume detectors, their lifecycles and evidence windows."""

    shift: sentiment_shift.SentimentShiftState = field(
        default_factory=sentiment_shift.initial_state)
    influencer: influencer.InfluencerState = field(default_factory=influencer.initial_state)
    buzz: badbuzz.BadBuzzState = field(default_factory=badbuzz.initial_state)
    trend: trending.TrendState = field(default_factory=trending.initial_state)
    mob: mobilisation.MobilisationState = field(default_factory=mobilisation.initial_state)
    lifecycles: Mapping[str, Lifecycle] = field(default_factory=dict)
    windows: Mapping[str, Window] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form for the table changelog."""
        return {
            "shift": self.shift.to_dict(), "influencer": self.influencer.to_dict(),
            "buzz": self.buzz.to_dict(), "trend": self.trend.to_dict(),
            "mob": self.mob.to_dict(),
            "lifecycles": {k: v.to_dict() for k, v in self.lifecycles.items()},
            "windows": {k: {"agg": w.agg.to_dict(), "baseline": w.baseline}
                        for k, w in self.windows.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> DetectorStates:
        """Inverse of to_dict (None: fresh states)."""
        if not d:
            return cls()
        return cls(
            shift=sentiment_shift.SentimentShiftState.from_dict(d["shift"]),
            influencer=influencer.InfluencerState.from_dict(d["influencer"]),
            buzz=badbuzz.BadBuzzState.from_dict(d["buzz"]),
            trend=trending.TrendState.from_dict(d["trend"]) if "trend" in d
            else trending.initial_state(),
            mob=mobilisation.MobilisationState.from_dict(d["mob"]) if "mob" in d
            else mobilisation.initial_state(),
            lifecycles={k: Lifecycle.from_dict(v) for k, v in d["lifecycles"].items()},
            windows={k: Window(BucketAgg.from_dict(w["agg"]), w["baseline"])
                     for k, w in d["windows"].items()},
        )


@dataclass(frozen=True)
class Emitted:
    """An emission of a non-volume type, with its evidence window."""

    alert_type: str
    emission: Any
    window: BucketAgg
    baseline: float  # expected posts over the window (the volume baseline)
    details: Mapping[str, Any]  # the detector's own figures, shown in the evidence


MAX_OPEN_PER_TYPE = 5  # concurrent per-subject incidents (hashtags) of one type per watch


def lifecycle_key(alert_type: str, subject: str | None = None) -> str:
    """Key of a lifecycle: the type, or "type:subject" for one incident per hashtag."""
    return alert_type if subject is None else f"{alert_type}:{subject}"


def key_type(key: str) -> str:
    """The alert type of a lifecycle key (a bounded metric label, never the subject)."""
    return key.partition(":")[0]


def key_subject(key: str) -> str | None:
    """The subject (hashtag) of a lifecycle key, None for a per-watch lifecycle."""
    _, sep, subject = key.partition(":")
    return subject if sep else None


def _per_subject(ds: DetectorStates, kind: str, candidates: list[str],
                 observe: Callable[[str], Observation | None]) -> dict[str, Observation | None]:
    """One incident per hashtag: the open ones are followed until they resolve; candidates
    (strongest first) may open while fewer than MAX_OPEN_PER_TYPE are open."""
    keys = [k for k in ds.lifecycles if key_type(k) == kind and key_subject(k) is not None]
    live = {k for k in keys if ds.lifecycles[k].incident is not None}
    out = {k: observe(key_subject(k) or "") for k in keys}
    for tag in candidates:
        key = lifecycle_key(kind, tag)
        if key not in live and len(live) < MAX_OPEN_PER_TYPE:
            out[key] = observe(tag)
            live.add(key)
    return out


def _observations(ds: DetectorStates, cfg: DetectorConfigs,
                  campaigns: Mapping[str, mobilisation.CampaignSignal]
                  ) -> dict[str, Observation | None]:
    out: dict[str, Observation | None] = {
        sentiment_shift.ALERT_TYPE: sentiment_shift.observe(ds.shift, cfg.shift),
        influencer.ALERT_TYPE: influencer.observe(ds.influencer, cfg.influencer),
        badbuzz.ALERT_TYPE: badbuzz.observe(ds.buzz, cfg.buzz),
    }
    out.update(_per_subject(ds, trending.ALERT_TYPE, [o.tag for o in ds.trend.onsets],
                            lambda t: trending.tag_observation(ds.trend, t, cfg.trend)))

    def campaign(tag: str) -> Observation | None:
        sig = campaigns.get(tag)
        return None if sig is None else sig.observation()
    out.update(_per_subject(ds, mobilisation.ALERT_TYPE,
                            [t for t, c in campaigns.items() if c.alert], campaign))
    return out


def on_close(ds: DetectorStates, watch: str, agg: BucketAgg, vs: volume.VolumeState,
             ts_end: float, bucket_s: int, policy: Policy, cfg: DetectorConfigs,
             volume_cfg: volume.VolumeConfig, office_hours: Callable[[float], bool] | None = None
             ) -> tuple[DetectorStates, list[Emitted], list[str]]:
    """Feed one closed bucket (the volume state already includes it) to every detector.

    ``office_hours(ts)``: whether a time falls in the watch's office hours (its timezone).
    """
    ts = float(agg.bucket_start)
    shift = sentiment_shift.update(ds.shift, agg, ts, cfg.shift)
    infl = influencer.update(ds.influencer, agg, ts, cfg.influencer)
    buzz = badbuzz.update(ds.buzz, badbuzz.inputs(agg, vs, shift, infl, ts, cfg.buzz,
                                                  volume_cfg, cfg.shift), ts, cfg.buzz)
    trend = trending.update(ds.trend, ts, agg.hashtags, cfg.trend)
    mob = mobilisation.update(ds.mob, ts, agg.campaigns, agg.negative, agg.count, cfg.mob,
                              office_bucket=None if office_hours is None else office_hours(ts))
    ds = replace(ds, shift=shift, influencer=infl, buzz=buzz, trend=trend, mob=mob)
    campaigns = {c.tag: c for c in mobilisation.evaluate(mob, cfg.mob)}
    lifecycles = dict(ds.lifecycles)
    windows = dict(ds.windows)
    # a trending hashtag is told once, then only when it escalates: during a bad buzz several
    # of the watch's hashtags trend at once and their growth is the bad buzz's own evidence
    quiet = replace(policy, material_change=math.inf)
    emitted: list[Emitted] = []
    suppressed: list[str] = []
    for key, obs in _observations(ds, cfg, campaigns).items():
        kind = key_type(key)
        lc = lifecycles.get(key, Lifecycle())
        floor = cfg.min_open.get(kind)
        if (lc.incident is None and obs is not None and floor is not None and obs.severity
                and RANK[obs.severity] < RANK[floor]):
            obs = None
        res = step(lc, watch, key, obs, ts_end, quiet if kind == trending.ALERT_TYPE else policy)
        lifecycles[key] = res.state
        em = res.emission
        expected = vs.expected
        win = windows.get(key)
        if em is not None and em.status == "open":
            win = Window(agg, expected)
        elif win is not None and agg.bucket_start > win.agg.bucket_start:
            win = Window(combine_window((win.agg, agg), watch, win.agg.bucket_start),
                         win.baseline + expected)
        if em is not None and win is not None:
            emitted.append(Emitted(kind, em, win.agg, win.baseline,
                                   _details(key, ds, obs, cfg, campaigns)))
        if res.suppressed:
            suppressed.append(f"{kind}:{res.suppressed}")
        if res.state.incident is None:
            windows.pop(key, None)
            if key_subject(key) is not None and res.state.cooldown_until <= ts_end:
                del lifecycles[key]  # a hashtag's finished episode: keep the state bounded
        elif win is not None:
            windows[key] = win
    return replace(ds, lifecycles=lifecycles, windows=windows), emitted, suppressed


def trend_only(ds: DetectorStates, agg: BucketAgg, cfg: DetectorConfigs) -> DetectorStates:
    """Feed one closed bucket of a scope that only ranks hashtags (the global scope)."""
    return replace(ds, trend=trending.update(ds.trend, float(agg.bucket_start), agg.hashtags,
                                             cfg.trend))


def _details(key: str, ds: DetectorStates, obs: Observation | None, cfg: DetectorConfigs,
             campaigns: Mapping[str, mobilisation.CampaignSignal]) -> dict[str, Any]:
    kind = key_type(key)
    out: dict[str, Any] = {"detector": kind}
    subject = key_subject(key)
    if subject is not None:
        out["hashtag"] = subject
    if obs is not None:
        out.update(value=round(obs.value, 4), detector_baseline=round(obs.baseline, 4),
                   detector_score=round(obs.score, 4))
    if kind == badbuzz.ALERT_TYPE:
        sig = badbuzz.evaluate(ds.buzz, cfg.buzz)
        if sig is not None:
            out["components"] = {k: round(v, 4) for k, v in sig.components.items()}
    elif kind == trending.ALERT_TYPE:
        out["hashtags"] = [{"tag": t.tag, "count": round(t.count, 1),
                            "baseline": round(t.baseline, 2), "score": round(t.score, 3),
                            "trending": t.trending} for t in trending.top(ds.trend, 5, cfg.trend)]
    elif kind == mobilisation.ALERT_TYPE and subject is not None and subject in campaigns:
        out.update(campaign_details(campaigns[subject]))
    elif kind == influencer.ALERT_TYPE:
        out["authors"] = [{"author": s.author, "kind": s.kind, "followers": s.followers,
                           "severity": s.severity} for s in influencer.evaluate(ds.influencer)]
    return out


def campaign_details(sig: mobilisation.CampaignSignal) -> dict[str, Any]:
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
