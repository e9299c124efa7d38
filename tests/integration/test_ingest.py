"""`vigie ingest` on fixture files against a real broker: the records and dead letters."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from streams import topics
from streams.dev.embedded import EmbeddedBroker, create_topics
from streams.events.decode import Limits, decode_record
from streams.events.schemas import validator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
PARTITIONS = 2
RUNS: list[tuple[str, str, list[str]]] = [
    ("x", "x/stream.jsonl", ["--batch-size", "2"]),
    ("x", "x/stream-bad.jsonl", []),
    ("x", "x/search-recent.json", []),
    ("bluesky", "bluesky/jetstream.jsonl", []),
    ("mastodon", "mastodon/streaming.sse", []),
    ("csv", "generic/posts.csv", ["--map-file", str(FIXTURES / "generic" / "mapping.toml")]),
]


def _read(bootstrap: str, topic: str, expected: int, timeout_s: float = 60.0) -> list[Any]:
    """Every record of a topic (kafka-python, not the producer's client)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      consumer_timeout_ms=500)
    parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    c.assign(parts)
    c.seek_to_beginning(*parts)
    out: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and len(out) < expected:
            for recs in c.poll(timeout_ms=500).values():
                out.extend(recs)
        end = time.monotonic() + 2.0  # nothing more than expected may arrive
        while time.monotonic() < end:
            for recs in c.poll(timeout_ms=200).values():
                out.extend(recs)
    finally:
        c.close()
    return out


def test_ingest_fixtures_to_a_real_broker(tmp_path: Path) -> None:
    with EmbeddedBroker(tmp_path) as broker:
        create_topics(broker.bootstrap, [(t, PARTITIONS) for t in topics.names()])
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
        env["VIGIE_KAFKA_BROKERS"] = broker.bootstrap
        summaries = []
        for fmt, path, extra in RUNS:
            done = subprocess.run(
                [sys.executable, "-m", "streams.cli", "ingest", "--from", fmt,
                 str(FIXTURES / path), *extra], env=env, capture_output=True, timeout=120,
                check=False)
            assert done.returncode == 0, done.stderr.decode()
            summaries.append(done.stdout.decode().strip())
        records = _read(broker.bootstrap, topics.EVENTS.name, 7)
        dead = _read(broker.bootstrap, topics.DLQ.name, 14)

    assert summaries[0].endswith("sent 3 records to social.events and 0 dead letters to "
                                 "social.events.dlq")
    assert "dead-lettered 7 (bad_timestamp=1, invalid_json=1, invalid_value=1, " \
           "missing_field=3, not_an_object=1)" in summaries[1]
    # one record per run with events (the first in batches of 2), keyed as vigie replay: none
    sizes = sorted(len(orjson.loads(r.value)) for r in records)
    assert sizes == [1, 2, 2, 2, 3, 3, 4] and all(r.key is None for r in records)
    events = []
    for r in records:  # what the worker's decoder makes of each record
        decoded = decode_record(r.value, Limits(), time.time(), float("-inf"))
        assert decoded.dead == ()
        events.extend(decoded.events)
    by_platform: dict[str, int] = {}
    for ev in events:
        by_platform[ev.platform] = by_platform.get(ev.platform, 0) + 1
    assert by_platform == {"x": 7, "bluesky": 3, "mastodon": 3, "forum": 4}
    assert len({ev.id for ev in events}) == 17
    # dead letters: the contract, the source, the original bytes
    schema = validator("dead-letter.v1")
    docs = [orjson.loads(r.value) for r in dead]
    for d in docs:
        assert not list(schema.iter_errors(d)), d
    assert sorted((d["source"]["topic"], d["reason"]) for d in docs) == sorted(
        [("ingest:x", r) for r in ("missing_field", "missing_field", "bad_timestamp",
                                   "invalid_value", "missing_field", "not_an_object",
                                   "invalid_json", "missing_field")]
        + [("ingest:mastodon", "invalid_json")]
        + [("ingest:csv", r) for r in ("missing_field", "bad_timestamp", "invalid_value",
                                       "wrong_type", "not_utf8")])
    bad_lines = (FIXTURES / "x" / "stream-bad.jsonl").read_bytes().splitlines()
    from_bad = sorted((d for d in docs if d["source"]["topic"] == "ingest:x"
                       and d["source"]["index"] is None), key=lambda d: d["source"]["offset"])
    assert [d["payload"].encode() for d in from_bad] == bad_lines
    latin1 = next(d for d in docs if d["reason"] == "not_utf8")
    assert latin1["payload_encoding"] == "base64"
