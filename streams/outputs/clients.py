"""Plain aiokafka clients (replay, tail, bench) configured from settings."""

from __future__ import annotations

import ssl
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer

from streams.settings import Settings


def kafka_kwargs(s: Settings) -> dict[str, Any]:
    """aiokafka security keyword arguments (TLS and SASL passed through)."""
    proto = s.kafka_security_protocol
    out: dict[str, Any] = {"security_protocol": proto}
    if proto in ("SSL", "SASL_SSL"):
        ctx = ssl.create_default_context(cafile=s.kafka_ssl_cafile or None)
        if s.kafka_ssl_certfile:
            ctx.load_cert_chain(s.kafka_ssl_certfile, s.kafka_ssl_keyfile or None)
        out["ssl_context"] = ctx
    if proto.startswith("SASL"):
        out.update(sasl_mechanism=s.kafka_sasl_mechanism or "PLAIN",
                   sasl_plain_username=s.kafka_sasl_username,
                   sasl_plain_password=s.kafka_sasl_password)
    return out


def tail_consumer(s: Settings, topic: str, *, from_beginning: bool) -> AIOKafkaConsumer:
    """A consumer with a throw-away group, reading one topic."""
    return AIOKafkaConsumer(
        topic, bootstrap_servers=s.kafka_brokers, group_id=f"vigie-tail-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest" if from_beginning else "latest", enable_auto_commit=False,
        session_timeout_ms=6000, heartbeat_interval_ms=1000, **kafka_kwargs(s))


def format_alert(doc: dict[str, Any]) -> str:
    """A subscriber's one-screen view of a situation message (or of a signal)."""
    ev = doc.get("evidence", {})
    what = doc.get("type") or "situation"
    if "situation_id" in doc:
        what = f"situation/{doc.get('reason', '?')}"
    lines = [f"{doc.get('event_time', '?')}  {doc.get('status', '?').upper():8} "
             f"{doc.get('severity', '?'):7} {what}  {doc['watch']['id']}  "
             f"id={doc.get('alert_id', '?')[:12]}#{doc.get('sequence', 0)}",
             f"    {doc.get('summary', '')}"]
    active = [sg for sg in doc.get("signals", []) if sg.get("status") == "active"]
    if active:
        lines.append("    signals: " + "; ".join(
            f"{sg['type'].replace('_', ' ')}{' #' + sg['subject'] if sg.get('subject') else ''}"
            f" ({sg['severity']})" for sg in active[:6]))
    for p in ev.get("top_posts", [])[:3]:
        text = " ".join(str(p.get("text", "")).split())[:110]
        lines.append(f"    · @{p['author']} ({p.get('author_kind', '?')}, "
                     f"{p['followers']} followers): {text}")
    return "\n".join(lines)
