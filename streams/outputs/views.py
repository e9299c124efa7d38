"""What a watch looks like from outside: the Redis and web view, its open incidents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streams.alerts.lifecycle import RANK
from streams.detectors import mobilisation, trending
from streams.detectors.volume_spike import ALERT_TYPE as VOLUME
from streams.engine.config import EngineConfig
from streams.engine.watch import WatchState

TRENDING_RANKS = 10
LIVE_PAGE = Path(__file__).resolve().parent / "web" / "live.html"  # served at /live


def campaigns_of(ws: WatchState, cfg: mobilisation.MobilisationConfig
                 ) -> list[mobilisation.CampaignSignal]:
    """The watch's classified campaigns now (every class, busiest first)."""
    return mobilisation.evaluate(ws.detectors.mob, cfg)


def open_incidents(ws: WatchState) -> list[dict[str, Any]]:
    """Every open incident of a watch, all alert types."""
    return [{"alert_id": lc.incident.alert_id, "type": t, "subject": subject,
             "severity": lc.incident.severity, "opened_bucket": lc.incident.opened_bucket,
             "sequence": lc.incident.sequence}
            for (t, subject), lc in sorted(ws.lifecycles.items(),
                                           key=lambda kv: (kv[0][0], kv[0][1] or ""))
            if lc.incident is not None]


def redis_view(ws: WatchState, cfg: EngineConfig) -> dict[str, Any]:
    """The current state of a watch, as published to Redis for dashboards and services."""
    incidents = open_incidents(ws)
    level = max(incidents, key=lambda i: RANK[i["severity"]])["severity"] if incidents \
        else "normal"
    volume_inc = next((i for i in incidents if i["type"] == VOLUME), None)
    hist = ws.history[-180:]
    return {
        "watch": ws.watch, "name": cfg.watch_name(ws.watch), "level": level,
        "open_incident": volume_inc or (incidents[0] if incidents else None),
        "incidents": incidents,
        "trending": [{"tag": t.tag, "count": round(t.count, 1), "score": round(t.score, 3),
                      "rank": t.rank, "trending": t.trending}
                     for t in trending.top(ws.detectors.trend, 10)],
        "campaigns": [{"tag": c.tag, "class": c.classification.cls,
                       "confidence": round(c.classification.confidence, 3), "posts": c.posts,
                       "share_of_voice": c.share_of_voice, "alert": c.alert,
                       "outweighs_negative_since": c.outweighs_since}
                      for c in campaigns_of(ws, cfg.loop.detectors.mob)]
        if cfg.everything else [],
        "last_closed": ws.last_closed, "watermark": ws.watermark,
        "history": [{"bucket": b, "count": c, "expected": e, "negative_share": n,
                     "sentiment_mean": s} for b, c, e, n, s in hist],
    }
