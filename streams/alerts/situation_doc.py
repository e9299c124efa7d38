"""alert.v2 documents: one situation message with its signals, evidence and one clear story."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.aggregate.bucket import BucketAgg
from streams.alerts.build import evidence, short
from streams.alerts.situation import RANK, Member, Message, members_by_status
from streams.events.times import iso

SCHEMA = "alert.v2"
SUBJECT_TYPES = ("trending_hashtag", "mobilisation")  # a headline names them by their figures
MIN_POSTS_FOR_SHARE = 10  # a negative share of a handful of posts says nothing
NOTABLE_WORDS = {"journalist": "journalist", "media": "media", "institution": "institution"}
LEAD_WORDS = {
    "bad_buzz": "bad buzz", "volume_spike": "volume spike", "sentiment_shift": "negative turn",
    "influencer_engaged": "influential authors posting negatively",
}


# what names a situation when several signals stand at the same level: the combined verdict
# first, then what a crisis cell acts on before what explains it
PRIORITY = ("bad_buzz", "volume_spike", "sentiment_shift", "mobilisation", "influencer_engaged",
            "trending_hashtag")


def _rank(m: Member, level: str) -> tuple[int, int, float, str]:
    prio = PRIORITY.index(m.type) if m.type in PRIORITY else len(PRIORITY)
    if m.kind == "employee_mobilisation":
        prio = len(PRIORITY)  # context, never the headline beside a threat
    return (-RANK[level], prio, m.joined_ts, m.key)


def lead_of(msg: Message) -> Member | None:
    """What the situation is about: its strongest active signal (for a resolution: the
    strongest there was)."""
    active, ended = members_by_status(msg.situation)
    if active:
        return min(active, key=lambda m: _rank(m, m.level))
    return min(ended, key=lambda m: _rank(m, m.level), default=None)


def phrase(m: Member) -> str:
    """What one signal says, in a few words."""
    tag = f"#{short(m.subject or '', 50)}"
    if m.type == "mobilisation":
        if m.kind == "employee_mobilisation":
            return f"employees rallying behind {tag}"
        return f"hostile campaign {tag}"
    if m.type == "trending_hashtag":
        return f"{tag} trending"
    return LEAD_WORDS.get(m.type, m.type.replace("_", " "))


CLASS_WORDS = {"employee_mobilisation": "employees rallying",
               "coordinated_inauthentic": "coordinated, inauthentic"}


def line(m: Member) -> str:
    """One signal's figures in words (its latest ones for an ended signal)."""
    tag = f"#{short(m.subject or '', 50)}"
    if m.type == "volume_spike":
        return f"volume: {m.value:.0f} posts a minute vs {m.baseline:.1f} expected"
    if m.type == "sentiment_shift":
        return f"negative share {m.value:.0%} against {m.baseline:.0%} usually"
    if m.type == "bad_buzz":
        return f"bad-buzz score {m.score:.2f} (volume, sentiment, amplification, who joins)"
    if m.type == "influencer_engaged":
        n = int(m.value)
        return f"{n} influential author{'s' if n != 1 else ''} posting negatively"
    if m.type == "trending_hashtag":
        return f"{tag}: {m.value:.0f} recent posts vs {m.baseline:.1f} expected"
    if m.type == "mobilisation":
        what = CLASS_WORDS.get(m.kind, m.kind.replace("_", " ") or "campaign")
        return f"{tag}: {what}, {m.value:.0f} posts"
    return m.type.replace("_", " ")


def _notables(changes: tuple[str, ...], kind: str) -> list[str]:
    return [c.partition(":")[2] for c in changes if c.startswith(kind + ":")]


def _since(ts: float) -> str:
    return iso(ts)[11:16] + " UTC"


def _duration(seconds: float) -> str:
    h, m = divmod(int(seconds // 60), 60)
    return f"{h} h {m:02d}" if h else f"{m} min"


def story(msg: Message, watch_name: str, ev: Mapping[str, Any], opened_s: float) -> str:
    """The situation in one paragraph: what, how big, who joined, which campaigns."""
    sit = msg.situation
    lead = lead_of(msg)
    name = short(watch_name, 120)
    if msg.status == "resolved":
        about = f" ({phrase(lead)})" if lead is not None else ""
        return short(f"[resolved] {name}: the situation{about} opened at {_since(opened_s)} is "
                     f"back to normal after {_duration(msg.event_ts - opened_s)}; peak "
                     f"{sit.peak_severity}, {ev['count']} posts in all.", 1000)
    active, _ = members_by_status(sit)
    news = [f"now {sit.severity}" for c in msg.changes if c.startswith("severity:")][:1]
    for kind, word in NOTABLE_WORDS.items():
        who = _notables(msg.changes, kind)
        if who:
            news.append(f"{word}{'s' if len(who) > 1 else ''} "
                        f"{', '.join('@' + short(h, 40) for h in who[:3])} joined")
    for tag in _notables(msg.changes, "hostile_campaign"):
        news.append(f"hostile campaign #{short(tag, 40)} started")
    staff = _notables(msg.changes, "employee_campaign")
    if staff:
        news.append(f"employees rally behind {', '.join('#' + short(t, 40) for t in staff[:4])}")
    parts = [line(lead) if lead is not None and lead.type in SUBJECT_TYPES
             else phrase(lead) if lead is not None else "signals"]
    ratio = ev["ratio"]
    volume = f"{ev['count']} posts since {_since(opened_s)}"
    if ev["baseline"] >= 1.0 and ratio >= 1.2:
        volume += f" vs {ev['baseline']:.0f} expected (x{ratio:.1f})"
    parts.append(volume)
    neg = ev["sentiment"]["negative_share"]
    if neg is not None and ev["count"] >= MIN_POSTS_FOR_SHARE:
        parts.append(f"{neg:.0%} negative")
    fresh = set(msg.changes)
    people = [n.partition(":")[2] for n in sit.told
              if n.partition(":")[0] in NOTABLE_WORDS and n not in fresh]
    if people:
        parts.append(f"influential authors {', '.join('@' + short(h, 40) for h in people[:4])}")
    for kind, words in (("employee_mobilisation", "employees rallying behind"),
                        ("coordinated_inauthentic", "hostile campaign")):
        camps = [f"#{short(m.subject or '', 40)}" for m in active
                 if m is not lead and m.type == "mobilisation" and m.kind == kind]
        if camps:
            parts.append(f"{words} {', '.join(camps[:4])}")
    tags = [f"#{short(m.subject or '', 40)}" for m in active
            if m is not lead and m.type == "trending_hashtag"]
    if tags:
        parts.append(f"trending {', '.join(tags[:4])}")
    head = f"[{sit.severity}] {name}: " + "; ".join(parts[:1]) + " — " + ", ".join(parts[1:])
    if news:
        said = "; ".join(news)
        head = f"{head}. {said[:1].upper()}{said[1:]}"
    return short(head + ".", 1000)


def _signal(m: Member, details: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": m.type, "subject": m.subject, "kind": m.kind or None, "signal_id": m.signal_id,
        "status": "active" if m.ended_ts is None else "ended", "severity": m.severity,
        "peak_severity": m.peak_severity, "joined_at": iso(m.joined_ts),
        "ended_at": None if m.ended_ts is None else iso(m.ended_ts),
        "score": round(min(max(m.score, 0.0), 1.0), 4), "value": round(m.value, 4),
        "baseline": round(m.baseline, 4), "summary": short(line(m), 300),
    }
    if m.ended_ts is None and m.key in details:
        out["details"] = dict(details[m.key])
    return out


def build_situation(msg: Message, *, watch_id: str, watch_name: str, window: BucketAgg,
                    baseline: float, peak_count: int, bucket_s: int, emitted_s: float,
                    latency_s: float | None = None,
                    details: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A complete alert.v2 document for one situation message."""
    sit = msg.situation
    ev = evidence(window, baseline, 0.0, peak_count)
    del ev["score"]  # each signal carries its own score
    kinds: dict[str, int] = {}
    for a in window.top_authors:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    ev["authors_by_kind"] = dict(sorted(kinds.items()))
    active, ended = members_by_status(sit)
    lead = lead_of(msg)
    opened_s = float(sit.opened_bucket)
    doc: dict[str, Any] = {
        "schema_version": SCHEMA,
        "situation_id": sit.situation_id,
        "alert_id": sit.situation_id,
        "dedup_key": f"{sit.situation_id}:{sit.sequence}",
        "sequence": sit.sequence,
        "severity": sit.severity,
        "peak_severity": sit.peak_severity,
        "status": msg.status,
        "reason": msg.reason,
        "changes": list(msg.changes),
        "lead": {"type": lead.type if lead else "volume_spike",
                 "subject": lead.subject if lead else None,
                 "kind": (lead.kind or None) if lead else None},
        "watch": {"id": watch_id, "name": watch_name},
        "opened_at": iso(opened_s),
        "event_time": iso(msg.event_ts),
        "emitted_at": iso(emitted_s),
        "window": {"start": iso(window.bucket_start), "end": iso(msg.event_ts),
                   "bucket_s": bucket_s},
        "summary": "",
        "signals": [_signal(m, details or {}) for m in (*active, *ended)][:40],
        "evidence": ev,
    }
    if msg.status == "resolved":
        doc["resolved_at"] = iso(msg.event_ts)
    if latency_s is not None and msg.status == "open":
        doc["latency_s"] = round(max(latency_s, 0.0), 4)
    doc["summary"] = story(msg, watch_name, ev, opened_s)
    return doc
