"""A watch's Prometheus gauges after buckets closed (labels: config watch ids, never tags)."""

from __future__ import annotations

from streams.aggregate.bucket import GLOBAL
from streams.alerts.lifecycle import RANK
from streams.detectors import trending
from streams.engine.config import EngineConfig
from streams.engine.watch import WatchState
from streams.metrics import CAMPAIGN_CLASSES, Metrics
from streams.outputs.views import TRENDING_RANKS, campaigns_of


def gauges(m: Metrics, ws: WatchState, cfg: EngineConfig) -> None:
    """Set the watch's gauges after buckets closed (labels: config watch ids, never tags)."""
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
    open_by: dict[tuple[str, str], int] = {}  # per-hashtag incidents count under their type
    for (t, _), lc in ws.lifecycles.items():
        for sev in RANK:
            open_by.setdefault((t, sev), 0)
        if lc.incident is not None:
            open_by[(t, lc.incident.severity)] += 1
    for (t, sev), n in open_by.items():
        m.incidents_open.labels(w, t, sev).set(n)
    sit = ws.situation.current  # the crisis cell's level is the situation's, as announced
    m.watch_level.labels(w).set(0 if sit is None else RANK[sit.severity] + 1)
    if cfg.everything and ws.watch != GLOBAL:
        _campaign_gauges(m, ws, cfg)
    ranked = trending.top(ws.detectors.trend, TRENDING_RANKS)
    for rank in range(1, TRENDING_RANKS + 1):  # bounded rank label; the tag is in /trending
        row = ranked[rank - 1] if rank <= len(ranked) else None
        m.trending_score.labels(w, str(rank)).set(row.score if row else 0.0)
        m.trending_count.labels(w, str(rank)).set(row.count if row else 0.0)


def _campaign_gauges(m: Metrics, ws: WatchState, engine: EngineConfig) -> None:
    w, cfg = ws.watch, engine.loop.detectors.mob
    sigs = campaigns_of(ws, cfg)
    for cls in CAMPAIGN_CLASSES:
        m.campaigns_active.labels(w, cls).set(
            sum(1 for c in sigs if c.classification.cls == cls))
    # employee campaigns' posts over the window against all the watch's posts in it
    n = max(1, int(cfg.window_s // engine.bucket_s))
    total = sum(row[1] for row in ws.history[-n:])
    mobilised = sum(c.features.get("window_posts") or 0.0 for c in sigs
                    if c.classification.cls == "employee_mobilisation")
    m.mobilisation_share.labels(w).set(min(mobilised / total, 1.0) if total else 0.0)
