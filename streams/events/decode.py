"""Decode input records into valid events and dead letters; bad input is data."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from streams.events.model import InvalidEvent, SocialEvent
from streams.events.parse import parse_event
from streams.events.times import iso_precise

DEAD_LETTER_SCHEMA = "dead-letter.v1"
MAX_DLQ_PAYLOAD_BYTES = 256 * 1024
# Bounded set of reasons: they are metric label values and documented in the DLQ schema.
REASONS = (
    "invalid_json", "not_utf8", "too_large", "empty_batch", "too_many_events", "empty_record",
    "not_an_object", "missing_field", "wrong_type", "invalid_value", "bad_timestamp",
    "future_timestamp", "ancient_timestamp", "late",
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits, from settings."""

    max_record_bytes: int = 8 * 1024 * 1024
    max_batch_events: int = 10_000
    max_text_chars: int = 20_000
    max_clock_skew_s: float = 600.0
    min_event_ts: float = datetime(2006, 1, 1, tzinfo=UTC).timestamp()
    allowed_lateness_s: float = 120.0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record or one event of a record that could not be used, and why."""

    reason: str
    detail: str
    payload: bytes
    index: int | None = None  # position in a JSON array record, None for the whole record


@dataclass(frozen=True, slots=True)
class Decoded:
    """The outcome of one input record."""

    events: tuple[SocialEvent, ...]
    dead: tuple[DeadLetter, ...]
    watermark_s: float


def _items(value: bytes | None, limits: Limits) -> tuple[list[Any], DeadLetter | None]:
    if not value:
        return [], DeadLetter("empty_record", "record has no value", value or b"")
    if len(value) > limits.max_record_bytes:
        return [], DeadLetter("too_large", f"{len(value)} bytes > {limits.max_record_bytes}",
                              value)
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return [], DeadLetter("not_utf8", "record is not UTF-8", value)
        return [], DeadLetter("invalid_json", str(exc)[:200], value)
    if type(doc) is list:
        if not doc:
            return [], DeadLetter("empty_batch", "empty JSON array", value)
        if len(doc) > limits.max_batch_events:
            return [], DeadLetter("too_many_events",
                                  f"{len(doc)} events > {limits.max_batch_events}", value)
        return doc, None
    return [doc], None


def decode_record(value: bytes | None, limits: Limits, now_s: float,
                  watermark_s: float, ts_memo: dict[str, float] | None = None) -> Decoded:
    """Decode one record (an event or an array of events) against the partition watermark.

    ``ts_memo``: the worker's memo of parsed account creation dates (see parse_event).
    """
    items, bad = _items(value, limits)
    if bad is not None:
        return Decoded((), (bad,), watermark_s)
    single = len(items) == 1 and value is not None and value.lstrip()[:1] != b"["
    events: list[SocialEvent] = []
    dead: list[DeadLetter] = []
    max_future = now_s + limits.max_clock_skew_s
    late_before = watermark_s - limits.allowed_lateness_s
    for i, item in enumerate(items):
        reason: str | None = None
        detail = ""
        ev: SocialEvent | None = None
        try:
            ev = parse_event(item, limits.max_text_chars, ts_memo)
        except InvalidEvent as exc:
            reason, detail = exc.reason, exc.detail
        else:
            ts = ev.created_at
            if ts > max_future:
                reason, detail = "future_timestamp", f"created_at {ts - now_s:.0f}s ahead"
            elif ts < limits.min_event_ts:
                reason, detail = "ancient_timestamp", "created_at before the minimum year"
            elif ts < late_before:
                reason = "late"
                detail = f"created_at {watermark_s - ts:.0f}s behind the watermark"
        if reason is not None or ev is None:
            payload = value if single and value is not None else _element_bytes(item, value)
            dead.append(DeadLetter(reason or "invalid_value", detail, payload,
                                   None if single else i))
            continue
        events.append(ev)
        if ev.created_at > watermark_s:
            # a skewed clock up to max_clock_skew_s ahead must not make on-time events late
            watermark_s = min(ev.created_at, now_s)
            late_before = watermark_s - limits.allowed_lateness_s
    return Decoded(tuple(events), tuple(dead), watermark_s)


def _element_bytes(item: Any, record: bytes | None) -> bytes:
    """The rejected element re-serialised; the whole record when orjson cannot write it back
    (it reads 1024 levels of nesting but writes 255)."""
    try:
        return orjson.dumps(item)
    except (TypeError, orjson.JSONEncodeError):
        return record or b""


def dead_letter_record(dl: DeadLetter, topic: str, partition: int, offset: int,
                       received_s: float) -> dict[str, Any]:
    """The dead-letter.v1 document sent to the DLQ topic."""
    doc: dict[str, Any] = {
        "schema_version": DEAD_LETTER_SCHEMA,
        "reason": dl.reason,
        "detail": dl.detail,
        "source": {"topic": topic, "partition": partition, "offset": offset, "index": dl.index},
        "received_at": iso_precise(received_s),
        "payload_bytes": len(dl.payload),
    }
    payload = dl.payload
    if len(payload) > MAX_DLQ_PAYLOAD_BYTES:  # a DLQ record must fit the broker's size limit
        payload = payload[:MAX_DLQ_PAYLOAD_BYTES]
        doc["payload_truncated"] = True
    try:
        doc["payload"] = payload.decode("utf-8")
        doc["payload_encoding"] = "utf-8"
    except UnicodeDecodeError:
        doc["payload"] = base64.b64encode(payload).decode("ascii")
        doc["payload_encoding"] = "base64"
    return doc
