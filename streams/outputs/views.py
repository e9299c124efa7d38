"""What a watch looks like from outside: Prometheus gauges, the Redis/web view, campaigns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streams.aggregate.bucket import GLOBAL
from streams.alerts.lifecycle import RANK
from streams.detectors import mobilisation, trending
from streams.detectors.volume_spike import ALERT_TYPE as VOLUME
from streams.engine.watch import WatchState
from streams.metrics import CAMPAIGN_CLASSES
from streams.worker.runtime import Runtime

TRENDING_RANKS = 10
LIVE_PAGE = Path(__file__).resolve().parent / "web" / "live.html"  # served at /live


def gauges(rt: Runtime, ws: WatchState) -> None:
    """Set the watch's gauges after buckets closed (labels: config watch ids, never tags)."""
    m = rt.metrics
    w = ws.watch
    if ws.history:
        _, count, expected, neg_share, mean = ws.history[-1]
        m.watch_volume.labels(w).set(count)
        m.watch_baseline.labels(w).set(expected)
        if neg_share is not None:
            m.watch_negative_share.labels(w).set(neg_share)
        if mean is not None:
            m.watch_sentiment_mean.labels(w).set(mean)
    m.watch_spike_score.labels(w).set(ws.detectors.volume.score)
    level = 0
    open_by: dict[tuple[str, str], int] = {}  # per-hashtag incidents count under their type
    for (t, _), lc in ws.lifecycles.items():
        for sev in RANK:
            open_by.setdefault((t, sev), 0)
        if lc.incident is not None:
            open_by[(t, lc.incident.severity)] += 1
            level = max(level, RANK[lc.incident.severity] + 1)
    for (t, sev), n in open_by.items():
        m.incidents_open.labels(w, t, sev).set(n)
    m.watch_level.labels(w).set(level)
    if not rt.loop.detectors.volume_only and ws.watch != GLOBAL:
        _campaign_gauges(rt, ws, rt.loop.detectors.mob)
    ranked = trending.top(ws.detectors.trend, TRENDING_RANKS)
    for rank in range(1, TRENDING_RANKS + 1):  # bounded rank label; the tag is in /trending
        row = ranked[rank - 1] if rank <= len(ranked) else None
        m.trending_score.labels(w, str(rank)).set(row.score if row else 0.0)
        m.trending_count.labels(w, str(rank)).set(row.count if row else 0.0)


def campaigns_of(ws: WatchState, cfg: mobilisation.MobilisationConfig
                 ) -> list[mobilisation.CampaignSignal]:
    """The watch's classified campaigns now (every class, busiest first)."""
    return mobilisation.evaluate(ws.detectors.mob, cfg)


def _campaign_gauges(rt: Runtime, ws: WatchState, cfg: mobilisation.MobilisationConfig) -> None:
    m, w = rt.metrics, ws.watch
    sigs = campaigns_of(ws, cfg)
    for cls in CAMPAIGN_CLASSES:
        m.campaigns_active.labels(w, cls).set(
            sum(1 for c in sigs if c.classification.cls == cls))
    # employee campaigns' posts over the window against all the watch's posts in it
    n = max(1, int(cfg.window_s // rt.settings.bucket_s))
    total = sum(row[1] for row in ws.history[-n:])
    mobilised = sum(c.features.get("window_posts") or 0.0 for c in sigs
                    if c.classification.cls == "employee_mobilisation")
    m.mobilisation_share.labels(w).set(min(mobilised / total, 1.0) if total else 0.0)


def open_incidents(ws: WatchState) -> list[dict[str, Any]]:
    """Every open incident of a watch, all alert types."""
    return [{"alert_id": lc.incident.alert_id, "type": t, "subject": subject,
             "severity": lc.incident.severity, "opened_bucket": lc.incident.opened_bucket,
             "sequence": lc.incident.sequence}
            for (t, subject), lc in sorted(ws.lifecycles.items(),
                                           key=lambda kv: (kv[0][0], kv[0][1] or ""))
            if lc.incident is not None]


def redis_view(ws: WatchState, rt: Runtime) -> dict[str, Any]:
    """The current state of a watch, as published to Redis for dashboards and services."""
    incidents = open_incidents(ws)
    level = max(incidents, key=lambda i: RANK[i["severity"]])["severity"] if incidents \
        else "normal"
    volume_inc = next((i for i in incidents if i["type"] == VOLUME), None)
    hist = ws.history[-180:]
    return {
        "watch": ws.watch, "name": rt.watch_name(ws.watch), "level": level,
        "open_incident": volume_inc or (incidents[0] if incidents else None),
        "incidents": incidents,
        "trending": [{"tag": t.tag, "count": round(t.count, 1), "score": round(t.score, 3),
                      "rank": t.rank, "trending": t.trending}
                     for t in trending.top(ws.detectors.trend, 10)],
        "campaigns": [{"tag": c.tag, "class": c.classification.cls,
                       "confidence": round(c.classification.confidence, 3), "posts": c.posts,
                       "share_of_voice": c.share_of_voice, "alert": c.alert,
                       "outweighs_negative_since": c.outweighs_since}
                      for c in campaigns_of(ws, rt.loop.detectors.mob)]
        if not rt.loop.detectors.volume_only else [],
        "last_closed": ws.last_closed, "watermark": ws.watermark,
        "history": [{"bucket": b, "count": c, "expected": e, "negative_share": n,
                     "sentiment_mean": s} for b, c, e, n, s in hist],
    }
