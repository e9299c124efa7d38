"""What a watch looks like from outside: the Redis and web view, its situation and signals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streams.alerts.situation import members_by_status
from streams.alerts.situation_doc import line
from streams.detectors import mobilisation, trending
from streams.engine.config import EngineConfig
from streams.engine.watch import WatchState
from streams.events.times import iso

TRENDING_RANKS = 10
RECENT_BUCKETS = 15  # the live page's "negative share": the last quarter of an hour
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


def situation_view(ws: WatchState) -> dict[str, Any] | None:
    """The watch's open situation as the crisis cell reads it (None: no situation)."""
    sit = ws.situation.current
    if sit is None:
        return None
    active, ended = members_by_status(sit)
    return {
        "situation_id": sit.situation_id, "severity": sit.severity,
        "peak_severity": sit.peak_severity, "sequence": sit.sequence,
        "opened_at": iso(sit.opened_bucket),
        "signals": [{"type": m.type, "subject": m.subject, "kind": m.kind or None,
                     "severity": m.severity, "status": "active" if m.ended_ts is None
                     else "ended", "joined_at": iso(m.joined_ts), "summary": line(m)}
                    for m in (*active, *ended)],
        "told": list(sit.told),
    }


def trending_rows(ws: WatchState, n: int = TRENDING_RANKS) -> list[dict[str, Any]]:
    """The watch's hashtags that trend now, best score first, then those whose trending
    incident is still open although the trend itself has eased (a replay moves fast: the
    page must show what the alerts showed)."""
    rows = [{"tag": t.tag, "count": round(t.count, 1), "score": round(t.score, 3),
             "rank": t.rank, "trending": t.trending, "incident": None}
            for t in trending.top(ws.detectors.trend, n)]
    seen = {r["tag"]: r for r in rows}
    for (t, subject), lc in sorted(ws.lifecycles.items(), key=lambda kv: kv[0][1] or ""):
        if t != trending.ALERT_TYPE or lc.incident is None or subject is None:
            continue
        row = seen.get(subject)
        if row is None:
            row = seen[subject] = {"tag": subject, "count": round(lc.incident.last_value, 1),
                                   "score": 0.0, "rank": None, "trending": False}
            rows.append(row)
        row["incident"] = lc.incident.severity
    return rows[:n]


def _tone(mean: float | None) -> str:
    if mean is None:
        return "unknown"
    return "negative" if mean <= -0.2 else "positive" if mean >= 0.2 else "neutral"


def recent_negative_share(ws: WatchState, buckets: int = RECENT_BUCKETS) -> float | None:
    """Negative share of the watch's scored posts over its last closed buckets (weighted by
    posts): a replay's last bucket alone is often empty."""
    num = den = 0.0
    for _, count, _, neg_share, _ in ws.history[-buckets:]:
        if neg_share is not None and count:
            num += neg_share * count
            den += count
    return round(num / den, 4) if den else None


def redis_view(ws: WatchState, cfg: EngineConfig) -> dict[str, Any]:
    """The current state of a watch, as published to Redis for dashboards and services: its
    situation (what the crisis cell follows), its open signals, trends and campaigns."""
    sit = situation_view(ws)
    hist = ws.history[-180:]
    return {
        "watch": ws.watch, "name": cfg.watch_name(ws.watch),
        "level": sit["severity"] if sit else "normal",
        "situation": sit,
        "incidents": open_incidents(ws),
        "trending": trending_rows(ws),
        "campaigns": [{"tag": c.tag, "class": c.classification.cls,
                       "confidence": round(c.classification.confidence, 3), "posts": c.posts,
                       "tone": _tone(c.features.get("mean_sentiment")),
                       "share_of_voice": c.share_of_voice, "alert": c.alert,
                       "outweighs_negative_since": c.outweighs_since}
                      for c in campaigns_of(ws, cfg.loop.detectors.mob)]
        if cfg.everything else [],
        "negative_share_recent": recent_negative_share(ws),
        "last_closed": ws.last_closed, "watermark": ws.watermark,
        "history": [{"bucket": b, "count": c, "expected": e, "negative_share": n,
                     "sentiment_mean": s} for b, c, e, n, s in hist],
    }
