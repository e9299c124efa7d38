"""One input record to what the worker sends: partial messages, held global counts, dead
letters. Runs in the worker itself or in its ingest child process (streams.worker.offload)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams import topics
from streams.aggregate.bucket import GLOBAL, BucketAgg
from streams.aggregate.build import build_partials, lang_bucket
from streams.engine.messages import count_dead_letter, now_s, partial_messages
from streams.events.decode import dead_letter_record, decode_record
from streams.metrics import lang_label, platform_label
from streams.worker.runtime import Runtime


@dataclass(frozen=True, slots=True)
class RecordOut:
    """What one input record becomes, ready to send and count."""

    partition: int
    offset: int
    messages: tuple[tuple[int, bytes], ...]  # internal messages: (partials partition, value)
    held: tuple[BucketAgg, ...]  # global-scope partials, sent with the next tick
    matched: tuple[tuple[str, int], ...]  # (watch, events matched)
    events_in: tuple[tuple[str, str, int], ...]  # (platform label, lang label, valid events)
    dead: tuple[dict[str, Any], ...]  # dead-letter.v1 documents
    watermark_s: float  # the input partition's watermark after this record


def process_record(rt: Runtime, value: bytes | None, partition: int, offset: int,
                   arrival_s: float, watermark_s: float) -> RecordOut:
    """Decode, validate, match and aggregate one record against the partition's watermark.

    Pure but for the runtime's memo of account dates: it touches no metric and no runtime
    state, so the worker or its child process may run it (see account()).
    """
    wall = now_s()
    decoded = decode_record(value, rt.limits, wall, watermark_s, rt.ts_memo)
    counts: dict[tuple[str, str | None], int] = {}
    for ev in decoded.events:
        k = (ev.platform, ev.lang)
        counts[k] = counts.get(k, 0) + 1
    by_label: dict[tuple[str, str], int] = {}
    for (platform, lang), n in counts.items():  # raw tags first: lang_bucket once per tag
        k2 = (platform_label(platform), lang_label(lang_bucket(lang)))
        by_label[k2] = by_label.get(k2, 0) + n
    partials = build_partials(decoded.events, rt.match, rt.kinds, rt.settings.bucket_s,
                              arrival_s, {str(partition): offset}, rt.scorer,
                              rt.campaign_builder(), everyone=not rt.loop.detectors.volume_only)
    held = tuple(p for p in partials if p.watch == GLOBAL)
    watched = [p for p in partials if p.watch != GLOBAL]
    dead = tuple(dead_letter_record(d, topics.EVENTS.name, partition, offset, wall)
                 for d in decoded.dead)
    return RecordOut(
        partition=partition, offset=offset,
        messages=tuple(partial_messages(watched, rt.partition_of)), held=held,
        matched=tuple((p.watch, p.count) for p in watched),
        events_in=tuple((p, lang, n) for (p, lang), n in by_label.items()),
        dead=dead, watermark_s=decoded.watermark_s)


def account(rt: Runtime, out: RecordOut) -> None:
    """Count a processed record in the worker's metrics and hold its global counts."""
    m = rt.metrics
    m.records_in.inc()
    for platform, lang, n in out.events_in:
        m.events_in.labels(platform, lang).inc(n)
    for watch, n in out.matched:
        m.events_matched.labels(watch).inc(n)
    for p in out.held:
        rt.hold_global(p)  # sent with the next tick: not one more message per record
    for d in out.dead:
        count_dead_letter(rt, d)
