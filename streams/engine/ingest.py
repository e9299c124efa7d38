"""The ingest step: one input record to what the worker sends (partial messages, held global
counts, dead letters) and counts. Runs in the worker itself or in its ingest child process
(streams.worker.offload)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams import topics
from streams.aggregate.bucket import GLOBAL, BucketAgg
from streams.aggregate.build import build_partials, lang_bucket
from streams.engine.config import EngineConfig
from streams.engine.messages import partial_messages
from streams.events.decode import dead_letter_record, decode_record
from streams.events.labels import lang_label, platform_label


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


def process_record(cfg: EngineConfig, value: bytes | None, partition: int, offset: int,
                   arrival_s: float, watermark_s: float, wall_s: float,
                   ts_memo: dict[str, float] | None = None) -> RecordOut:
    """Decode, validate, match and aggregate one record against the partition's watermark.

    ``wall_s``: the wall clock now (events further ahead are rejected); ``ts_memo``: the
    caller's memo of parsed account dates (the only state it touches).
    """
    decoded = decode_record(value, cfg.limits, wall_s, watermark_s, ts_memo)
    counts: dict[tuple[str, str | None], int] = {}
    for ev in decoded.events:
        k = (ev.platform, ev.lang)
        counts[k] = counts.get(k, 0) + 1
    by_label: dict[tuple[str, str], int] = {}
    for (platform, lang), n in counts.items():  # raw tags first: lang_bucket once per tag
        k2 = (platform_label(platform), lang_label(lang_bucket(lang)))
        by_label[k2] = by_label.get(k2, 0) + n
    partials = build_partials(decoded.events, cfg.match, cfg.kinds, cfg.bucket_s, arrival_s,
                              {str(partition): offset}, cfg.scorer, cfg.campaign_builder(),
                              everyone=cfg.everything)
    held = tuple(p for p in partials if p.watch == GLOBAL)
    watched = [p for p in partials if p.watch != GLOBAL]
    dead = tuple(dead_letter_record(d, topics.EVENTS.name, partition, offset, wall_s)
                 for d in decoded.dead)
    return RecordOut(
        partition=partition, offset=offset,
        messages=tuple(partial_messages(watched, cfg.partition_of)), held=held,
        matched=tuple((p.watch, p.count) for p in watched),
        events_in=tuple((p, lang, n) for (p, lang), n in by_label.items()),
        dead=dead, watermark_s=decoded.watermark_s)
