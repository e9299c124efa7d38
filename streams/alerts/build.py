"""Build signal.v1 documents (one detector's incident) from lifecycle emissions and evidence."""

from __future__ import annotations

from typing import Any

from streams.aggregate.bucket import BucketAgg, PostRef
from streams.events.times import iso

ALERT_SCHEMA = "signal.v1"
TOP_HASHTAGS = 10
SUMMARY_CHARS = 1000
TYPE_LABELS = {
    "volume_spike": "volume spike",
    "sentiment_shift": "sentiment shift",
    "trending_hashtag": "trending hashtag",
    "influencer_engaged": "influencer engaged",
    "bad_buzz": "bad buzz",
    "mobilisation": "mobilisation",
}


def _post(p: PostRef) -> dict[str, Any]:
    return {"id": p.id, "platform": p.platform, "author": p.author, "author_kind": p.kind,
            "followers": p.followers, "text": p.text, "url": p.url,
            "created_at": iso(p.created_at), "reach": p.reach,
            "sentiment": None if p.sentiment is None else round(p.sentiment, 3)}


def evidence(window: BucketAgg, baseline: float, score: float, peak: float) -> dict[str, Any]:
    """The evidence block: counts against baseline, sentiment mix, top posts/authors/tags."""
    scored = window.scored
    tags = sorted(window.hashtags.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_HASHTAGS]
    return {
        "count": window.count,
        "baseline": round(max(baseline, 0.0), 3),
        "ratio": round(window.count / baseline, 3) if baseline > 1e-9 else float(window.count),
        "score": round(min(max(score, 0.0), 1.0), 4),
        "peak_count": int(peak),
        "authors": window.distinct_authors(),
        "reposts": window.reposts,
        "replies": window.replies,
        "reach": window.reach,
        "sentiment": {
            "mix": {"negative": window.negative, "neutral": window.neutral,
                    "positive": window.positive},
            "mean": round(window.sentiment_sum / scored, 4) if scored else None,
            "negative_share": round(window.negative / scored, 4) if scored else None,
        },
        "top_posts": [_post(p) for p in window.top_posts],
        "top_hashtags": [{"tag": t, "count": n} for t, n in tags],
        "top_authors": [{"handle": a.handle, "followers": a.followers, "kind": a.kind,
                         "posts": a.posts} for a in window.top_authors],
        "first_movers": [_post(p) for p in window.first_movers],
        "languages": dict(sorted(window.langs.items())),
    }


def summary(alert_type: str, status: str, severity: str, watch_name: str,
            ev: dict[str, Any]) -> str:
    """One human sentence for chat and pager channels."""
    label = TYPE_LABELS.get(alert_type, alert_type)
    det = ev.get("detector", {})
    subject = det.get("hashtag")
    if subject:  # one incident per hashtag: name it first
        label = f"{label} #{short(subject, 60)}"
    watch = short(watch_name, 120)
    if status == "resolved":
        return f"[resolved] {label} on {watch} is back to normal."
    neg = ev["sentiment"]["negative_share"]
    neg_txt = f", {neg:.0%} negative" if neg is not None and ev["count"] >= 10 else ""
    if subject and "value" in det:
        # a hashtag's own figures, not the watch's: its recent posts against its own baseline
        what = "recent posts" if alert_type == "trending_hashtag" else "posts in its window"
        base = det.get("detector_baseline") or 0.0
        vs = f" vs {base:.1f} expected" if alert_type == "trending_hashtag" else ""
        cls = det.get("class")
        kind = f" ({str(cls).replace('_', ' ')})" if cls else ""
        return short(f"[{severity}] {label}{kind} on {watch}: {det['value']:.0f} {what}{vs}"
                     f"{neg_txt}.", SUMMARY_CHARS)
    tags = ", ".join("#" + short(t["tag"], 40) for t in ev["top_hashtags"][:3])
    tags_txt = f"; top hashtags {tags}" if tags else ""
    text = (f"[{severity}] {label} on {watch}: {ev['count']} posts vs "
            f"{ev['baseline']:.0f} expected (x{ev['ratio']:.1f}){neg_txt}{tags_txt}.")
    return short(text, SUMMARY_CHARS)


def short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def build_alert(*, alert_id: str, alert_type: str, status: str, severity: str, sequence: int,
                reason: str, watch_id: str, watch_name: str, opened_bucket: int,
                event_ts: float, window: BucketAgg, bucket_s: int, baseline: float,
                score: float, peak: float, emitted_s: float,
                latency_s: float | None = None,
                details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete signal.v1 document."""
    ev = evidence(window, baseline, score, peak)
    if details:  # the detector's own figures (shift z, bad-buzz components, trending tags...)
        ev["detector"] = details
    doc: dict[str, Any] = {
        "schema_version": ALERT_SCHEMA,
        "alert_id": alert_id,
        "dedup_key": f"{alert_id}:{sequence}",
        "sequence": sequence,
        "type": alert_type,
        "severity": severity,
        "status": status,
        "reason": reason,
        "watch": {"id": watch_id, "name": watch_name},
        "opened_at": iso(opened_bucket),
        "event_time": iso(event_ts),
        "emitted_at": iso(emitted_s),
        "window": {"start": iso(window.bucket_start), "end": iso(event_ts),
                   "bucket_s": bucket_s},
        "summary": "",
        "evidence": ev,
    }
    if status == "resolved":
        doc["resolved_at"] = iso(event_ts)
    if latency_s is not None:
        doc["latency_s"] = round(max(latency_s, 0.0), 4)
    doc["summary"] = summary(alert_type, status, severity, watch_name, ev)
    return doc
