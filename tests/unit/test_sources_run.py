"""The ingest loop: validation as the worker's, batched records, dead letters, the summary."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from streams.events.decode import Limits, decode_record
from streams.events.schemas import validator
from streams.sources import run
from streams.sources.bluesky import BlueskyMapper
from streams.sources.common import Payload
from streams.sources.framing import json_payloads
from streams.sources.mastodon import map_payload
from streams.sources.run import Ingest, drive
from streams.sources.x import XMapper
from tests.unit.sources_helpers import FIXTURES, payloads

NOW = 1_717_450_000.0  # 2024-06-03T21:26:40Z, after every fixture


class ListSink:
    """Keeps what an ingest sends."""

    def __init__(self) -> None:
        self.records: list[bytes] = []
        self.dead_docs: list[dict[str, Any]] = []
        self.closed = False

    async def events(self, record: bytes, n: int) -> None:
        assert len(orjson.loads(record)) == n
        self.records.append(record)

    async def dead(self, doc: bytes) -> None:
        self.dead_docs.append(orjson.loads(doc))

    async def close(self) -> None:
        self.closed = True


async def _ingest(fmt: str, mapper: Any, items: list[Payload], **kw: Any
                  ) -> tuple[Ingest, ListSink]:
    sink = ListSink()
    ing = Ingest(fmt, mapper, sink, kw.pop("limits", Limits()), clock=lambda: NOW, **kw)
    for p in items:
        await ing.payload(p)
    await ing.flush()
    return ing, sink


def _events(sink: ListSink) -> list[dict[str, Any]]:
    return [ev for r in sink.records for ev in orjson.loads(r)]


async def test_records_are_arrays_the_worker_decodes_whole() -> None:
    ing, sink = await _ingest("x", XMapper(), payloads(FIXTURES / "x" / "stream.jsonl"),
                              batch_size=2)
    assert [len(orjson.loads(r)) for r in sink.records] == [2, 2, 1]
    for r in sink.records:
        decoded = decode_record(r, Limits(), NOW, float("-inf"))
        assert decoded.dead == () and len(decoded.events) == len(orjson.loads(r))
    assert ing.stats.events == 5 and ing.stats.records == 3 and ing.stats.payloads == 6


async def test_records_stay_under_the_size_limit() -> None:
    ev = {"id": "1", "platform": "forum", "created_at": "2024-06-03T08:00:00Z",
          "author": {"id": "a", "handle": "a", "followers": 0, "verified": False},
          "text": "é" * 600}
    items = [Payload(orjson.dumps({**ev, "id": str(i)}), i) for i in range(10)]
    from streams.sources import tabular
    from streams.sources.tabular import TabularMapper

    fm = tabular.build(["id=id,text=text,created_at=created_at,author.handle=author.handle"])
    limits = Limits(max_record_bytes=4000)
    _, sink = await _ingest("jsonl", TabularMapper(fm, csv=False), items, limits=limits)
    assert len(_events(sink)) == 10
    assert all(len(r) <= 4000 for r in sink.records) and len(sink.records) >= 3


async def test_dead_letters_carry_reason_position_and_the_original_bytes() -> None:
    items = payloads(FIXTURES / "x" / "stream-bad.jsonl")
    ing, sink = await _ingest("x", XMapper(), items)
    assert sink.records == []
    docs = sink.dead_docs
    schema = validator("dead-letter.v1")
    for d in docs:
        assert not list(schema.iter_errors(d)), d
    assert [d["reason"] for d in docs] == ["missing_field", "missing_field", "bad_timestamp",
                                           "invalid_value", "missing_field", "not_an_object",
                                           "invalid_json"]
    assert [d["source"]["offset"] for d in docs] == list(range(7))
    assert {d["source"]["topic"] for d in docs} == {"ingest:x"}
    assert docs[3]["detail"] == "line 4: mapped event: lang is not a BCP 47 tag"
    assert [d["payload"].encode() for d in docs] == [p.raw for p in items]
    assert dict(ing.stats.dead) == {"missing_field": 3, "bad_timestamp": 1,
                                    "invalid_value": 1, "not_an_object": 1, "invalid_json": 1}


async def test_an_element_of_a_page_is_dead_lettered_alone() -> None:
    _, sink = await _ingest("mastodon", map_payload,
                            payloads(FIXTURES / "mastodon" / "statuses.json"))
    (doc,) = sink.dead_docs
    assert doc["source"]["index"] == 4 and doc["reason"] == "missing_field"
    assert orjson.loads(doc["payload"])["id"] == "112570540000000004"
    assert len(_events(sink)) == 4


async def test_the_worker_rules_on_time_apply() -> None:
    def post(created: str) -> bytes:
        return orjson.dumps({"did": "did:plc:a", "time_us": 1, "kind": "commit", "commit": {
            "rev": "r", "operation": "create", "collection": "app.bsky.feed.post",
            "rkey": created[:4], "record": {"text": "t", "createdAt": created}}})

    items = [Payload(post(c), i) for i, c in enumerate(
        ["2024-06-03T08:00:00Z", "2099-01-01T00:00:00Z", "2001-01-01T00:00:00Z"])]
    ing, sink = await _ingest("bluesky", BlueskyMapper(), items)
    assert [d["reason"] for d in sink.dead_docs] == ["future_timestamp", "ancient_timestamp"]
    assert ing.stats.events == 1


async def test_oversized_events_and_duplicates() -> None:
    big, small = (FIXTURES / "mastodon" / "statuses.jsonl").read_bytes().splitlines()
    items = [Payload(small, 0), Payload(small, 1), Payload(big, 2)]
    # a whole page may be larger than a record; an event may not (the worker's limit)
    ev_bytes = len(orjson.dumps(map_payload(items[0])[0].event))  # type: ignore[union-attr]
    ing, sink = await _ingest("mastodon", map_payload, items, dedup=True,
                              limits=Limits(max_record_bytes=ev_bytes + 1))
    assert ing.stats.events == 1 and ing.stats.skipped["duplicate"] == 1
    assert [d["reason"] for d in sink.dead_docs] == ["too_large"]
    assert sink.dead_docs[0]["payload"].encode() == big  # the original, not the mapping
    page = payloads(FIXTURES / "mastodon" / "statuses.json")
    assert len(page[0].raw) > 4 * ev_bytes
    ing, _ = await _ingest("mastodon", map_payload, page, limits=Limits(max_record_bytes=4000))
    assert ing.stats.events == 4  # a page larger than a record still maps
    ing, _ = await _ingest("mastodon", map_payload, items[:2])
    assert ing.stats.events == 2  # files are not deduplicated: only reconnect replays are


async def test_summary_line() -> None:
    ing, _ = await _ingest("bluesky", BlueskyMapper(),
                           payloads(FIXTURES / "bluesky" / "jetstream.jsonl"))
    assert ing.stats.summary("social.events", "social.events.dlq", "; 0 reconnects") == (
        "ingest bluesky: read 9 payloads, mapped 3 events, skipped 6 (account=1, delete=1, "
        "identity=1, other_collection=1, other_kind=1, update=1), dead-lettered 0; sent "
        "1 record to social.events and 0 dead letters to social.events.dlq; 0 reconnects")


async def test_a_trickle_is_flushed_after_the_linger_without_waiting_for_more() -> None:
    sink = ListSink()
    ing = Ingest("mastodon", map_payload, sink, Limits(), clock=lambda: NOW)
    queue: asyncio.Queue[list[Payload] | None] = asyncio.Queue()
    stop = asyncio.Event()
    lines = (FIXTURES / "mastodon" / "statuses.jsonl").read_bytes().splitlines()
    task = asyncio.create_task(drive(ing, queue, stop))
    await queue.put([Payload(lines[0], 0)])
    t0 = time.monotonic()
    while not sink.records and time.monotonic() - t0 < 5:
        await asyncio.sleep(0.02)
    waited = time.monotonic() - t0
    assert len(sink.records) == 1 and waited >= run.LINGER_S * 0.8
    await queue.put([Payload(lines[1], 1)])
    await queue.put(None)
    await task
    assert len(sink.records) == 2


async def test_drive_stops_at_max_events_and_at_the_deadline() -> None:
    items = list(json_payloads(open(FIXTURES / "x" / "stream.jsonl", "rb")))  # noqa: SIM115
    for max_events, deadline in ((2, None), (None, time.monotonic() - 1)):
        sink = ListSink()
        ing = Ingest("x", XMapper(), sink, Limits(), clock=lambda: NOW)
        queue: asyncio.Queue[list[Payload] | None] = asyncio.Queue()
        await queue.put(items)
        await drive(ing, queue, asyncio.Event(), max_events=max_events, deadline=deadline)
        assert ing.stats.events == (2 if max_events else 0)


async def test_a_page_element_the_contract_rejects_keeps_its_original_bytes() -> None:
    page = orjson.loads((FIXTURES / "x" / "search-recent.json").read_bytes())
    page["data"][2]["lang"] = "français"  # maps, then fails the contract
    ing, sink = await _ingest("x", XMapper(), [Payload(orjson.dumps(page), 0)])
    assert [(d["reason"], d["source"]["index"]) for d in sink.dead_docs] == [
        ("missing_field", 1), ("invalid_value", 2)]
    assert orjson.loads(sink.dead_docs[1]["payload"]) == page["data"][2]  # the tweet as sent
    assert ing.stats.events == 1


async def test_a_busy_input_of_skipped_events_does_not_hold_a_post_back() -> None:
    sink = ListSink()
    ing = Ingest("bluesky", BlueskyMapper(), sink, Limits(), clock=lambda: NOW)
    queue: asyncio.Queue[list[Payload] | None] = asyncio.Queue(maxsize=2)  # never empty
    stop = asyncio.Event()
    task = asyncio.create_task(drive(ing, queue, stop))
    post, like = (FIXTURES / "bluesky" / "jetstream.jsonl").read_bytes().splitlines()[3:5]
    await queue.put([Payload(post, 0)])
    t0 = time.monotonic()
    while not sink.records and time.monotonic() - t0 < 5:  # likes keep the queue busy
        await queue.put([Payload(like, 1)] * 50)
    assert len(sink.records) == 1 and time.monotonic() - t0 < 2
    stop.set()
    await task
