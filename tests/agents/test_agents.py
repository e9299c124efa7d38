"""The Faust agents under `test_context`, with an in-memory producer capturing every output.

Like Kafka Streams' TopologyTestDriver: records go in, the test reads what the agents sent to
the internal topic, the DLQ, the alert topic and the table changelogs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from streams import topics
from streams.dev import scenarios, simulate
from streams.events.schemas import validator
from streams.settings import Settings
from streams.worker.app import create_app

END = datetime(2026, 3, 12, 21, 0, tzinfo=UTC)


class MemoryProducer:
    """Stands in for Faust's producer: every send is recorded, nothing leaves the process."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int | None]] = []

    def _record(self, topic: str, key: Any, value: Any, partition: int | None) -> Any:
        self.sent.append((topic, key, value, partition))
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut

    async def send(self, topic: str, key: Any, value: Any, partition: int | None = None,
                   timestamp: float | None = None, headers: Any = None, **_: Any) -> Any:
        return self._record(topic, key, value, partition)

    async def send_and_wait(self, topic: str, key: Any, value: Any, **kw: Any) -> Any:
        return await (await self.send(topic, key, value, **kw))

    def send_soon(self, fut: Any) -> None:
        msg = fut.message
        self._record(msg.channel.get_topic_name(), msg.key, msg.value, msg.partition)

    def values(self, topic: str) -> list[dict[str, Any]]:
        return [orjson.loads(v) for t, _, v, _ in self.sent if t == topic and v]

    def count(self, suffix: str) -> int:
        return sum(1 for t, *_ in self.sent if t.endswith(suffix))


def make_app(tmp_path: Any, **overrides: Any) -> tuple[Any, Any, MemoryProducer]:
    """A finalized app (no broker, no Redis) whose producer records every send."""
    s = Settings(app_id="agents-test", kafka_brokers="127.0.0.1:9", redis_url="redis://127.0.0.1:9/0",
                 topic_partitions=1, data_dir=str(tmp_path), redis_timeout_s=0.05)
    app, rt = create_app(s.with_overrides(**overrides))
    app.finalize()
    producer = MemoryProducer()

    async def maybe_start_producer() -> MemoryProducer:
        return producer

    app.maybe_start_producer = maybe_start_producer  # type: ignore[method-assign]
    app.producer = producer  # type: ignore[assignment]
    return app, rt, producer


@pytest.fixture
async def driver(tmp_path: Any) -> AsyncIterator[tuple[Any, Any, MemoryProducer]]:
    app, rt, producer = make_app(tmp_path)
    yield app, rt, producer
    await app.vigie_store.close()  # type: ignore[attr-defined]


def _agent(app: Any, name: str) -> Any:
    return next(a for n, a in app.agents.items() if n.endswith(name))


async def settle(agent: Any, partition: int = 0) -> None:
    """Wait until the agent body finished the previous message.

    A sink-less test agent's put() returns once the value entered the stream, not once the
    body is done with it; the body takes the next value only after the previous one, so a
    no-op tick put last (an unknown source: it closes nothing) proves the real work is done.
    """
    await agent.put(orjson.dumps({"tick": 0, "wm": {}}), partition=partition)


def scenario_records() -> list[bytes]:
    sc = scenarios.bank_bad_buzz(end=END, days=1.5)
    lines = [orjson.dumps(ev) for ev in simulate.generate(sc, seed=3)]
    return [b"[" + b",".join(lines[i:i + 500]) + b"]" for i in range(0, len(lines), 500)]


async def test_ingest_rekeys_partials_by_watch_and_dead_letters_bad_input(driver: Any) -> None:
    app, rt, producer = driver
    async with _agent(app, "ingest").test_context() as agent:
        for rec in scenario_records()[:10]:
            await agent.put(rec, partition=0)
        await agent.put(b"{broken", partition=0)
        await agent.put(b"[]", partition=0)
    messages = [(p, orjson.loads(v)["ps"]) for t, _, v, p in producer.sent
                if t == topics.PARTIALS.name and b'"ps"' in v]
    assert messages
    # one message per partition and record, routed as the watch key would be by Kafka
    assert all(rt.engine.partition_of(doc["w"]) == p for p, docs in messages for doc in docs)
    assert {doc["w"] for _, docs in messages for doc in docs} == {"socgen", "bnp", "orange",
                                                                  "sncf", "_global"}
    # event time crossing bucket closes sends ticks at once (rate-limited), after the partials
    sent = [(orjson.loads(v), p) for t, _, v, p in producer.sent if t == topics.PARTIALS.name]
    ticks = [i for i, (doc, _) in enumerate(sent) if "tick" in doc]
    assert ticks and {p for doc, p in sent if "tick" in doc} == {0}  # every partition (one)
    assert all("ps" in sent[i - 1][0] or "tick" in sent[i - 1][0] for i in ticks)
    # fewer messages than partials: Faust's per-message cost is paid once per partition
    assert len(messages) < sum(len(docs) for _, docs in messages)
    reasons = sorted(d["reason"] for d in producer.values(topics.DLQ.name))
    assert reasons == ["empty_batch", "invalid_json"]
    assert rt.input_watermarks[0] > 0


async def test_per_watch_closes_buckets_from_ticks_and_alerts(driver: Any) -> None:
    app, rt, producer = driver
    async with _agent(app, "ingest").test_context() as ingest:
        for rec in scenario_records():
            await ingest.put(rec, partition=0)
    partials = [v for t, _, v, _ in producer.sent
                if t == topics.PARTIALS.name and b'"ps"' in v]
    wm = 0.0
    async with _agent(app, "per_watch").test_context() as per_watch:
        for i, value in enumerate(partials):
            await per_watch.put(value, partition=0)
            wm = max([wm] + [d["mc"] for d in orjson.loads(value)["ps"]])
            if i % 5 == 0:  # ticks interleave with data, as the timer's do
                await per_watch.put(orjson.dumps({"tick": 0, "wm": {"0": wm}}), partition=0)
        final = rt.input_watermarks[0] + 3600  # then event time moves on: buckets close
        await per_watch.put(orjson.dumps({"tick": 0, "wm": {"0": final}}), partition=0)
        await settle(per_watch)
    # the crisis cell's topic: one situation, on the watch of the scripted incident
    alerts = producer.values(topics.ALERTS.name)
    assert [a["status"] for a in alerts][:1] == ["open"]
    assert {a["watch"]["id"] for a in alerts} == {"socgen"}, [
        (a["watch"]["id"], a["status"], a["changes"]) for a in alerts]
    assert len({a["situation_id"] for a in alerts}) == 1
    v = validator("alert.v2")
    assert all(not list(v.iter_errors(a)) for a in alerts)
    # the machines' topic: every detector's own incidents, which the situation names
    signals = producer.values(topics.SIGNALS.name)
    v = validator("signal.v1")
    assert signals and all(not list(v.iter_errors(d)) for d in signals)
    told = {sig["signal_id"] for a in alerts for sig in a["signals"]}
    assert told <= {d["alert_id"] for d in signals}
    # state goes to the changelogs; closed buckets are deleted (tombstones)
    assert producer.count("watch-state-changelog") > 0
    assert any(t.endswith("buckets-changelog") and v is None for t, _, v, _ in producer.sent)


async def test_redelivered_partials_do_not_double_count(driver: Any) -> None:
    app, rt, producer = driver
    async with _agent(app, "ingest").test_context() as ingest:
        for rec in scenario_records()[:4]:
            await ingest.put(rec, partition=0)
    partials = [v for t, _, v, _ in producer.sent
                if t == topics.PARTIALS.name and b'"ps"' in v]
    async with _agent(app, "per_watch").test_context() as per_watch:
        for value in partials + partials:  # the whole batch arrives twice
            await per_watch.put(value, partition=0)
        await settle(per_watch)
    docs = [d for v in partials for d in orjson.loads(v)["ps"]]
    n = sum(1 for d in docs if d["w"] != "_global")  # watches' partials carry their offsets
    assert rt.metrics.partials_duplicate._value.get() == n
    assert rt.metrics.partials_in._value.get() == len(docs) + (len(docs) - n)


async def test_an_unwatched_viral_hashtag_trends_globally_without_an_alert(driver: Any) -> None:
    from datetime import timedelta

    from streams.aggregate.bucket import GLOBAL
    from streams.detectors import trending
    from streams.dev import _sim_text as txt
    from streams.engine.messages import load_state, partial_messages

    app, rt, producer = driver
    start = END - timedelta(hours=10)
    sc = simulate.Scenario("viral", start, END, {"socgen": 1.5, "sncf": 3.0}, noise_per_min=2.0,
                           bursts=[simulate.Burst("none", END - timedelta(minutes=50),
                                                  ramp_min=10, plateau_min=60, decay_min=30,
                                                  peak_per_min=60, texts=txt.viral,
                                                  kind="unrelated_viral", name="DefiGlacons")])
    lines = [orjson.dumps(ev) for ev in simulate.generate(sc, seed=5)]
    async with _agent(app, "ingest").test_context() as ingest:
        for i in range(0, len(lines), 500):
            await ingest.put(b"[" + b",".join(lines[i:i + 500]) + b"]", partition=0)
    partials = [v for t, _, v, _ in producer.sent
                if t == topics.PARTIALS.name and b'"ps"' in v]
    # what the next tick sends first: the global counts held since the last one
    partials += [v for _, v in partial_messages(rt.held.take(), rt.engine.partition_of)]
    async with _agent(app, "per_watch").test_context() as per_watch:
        for value in partials:
            await per_watch.put(value, partition=0)
        await per_watch.put(orjson.dumps({"tick": 0, "wm": {"0": rt.input_watermarks[0]}}),
                            partition=0)
        await settle(per_watch)
    ws = load_state(app.tables["watch-state"][GLOBAL.encode()])
    assert ws is not None and ws.last_closed is not None
    assert "defiglacons" in [t.tag for t in trending.top(ws.detectors.trend, 3)]
    assert "defiglacons" in trending.trending_tags(ws.detectors.trend)
    # context, not an incident: neither a situation nor a signal
    assert producer.values(topics.ALERTS.name) == []
    assert producer.values(topics.SIGNALS.name) == []


async def _ingest_outputs(tmp_path: Any, child: bool, records: list[bytes]) -> tuple[Any, ...]:
    app, rt, producer = make_app(tmp_path / str(child), app_id=f"agents-offload-{child}",
                                 topic_partitions=2, ingest_child=child)
    async with _agent(app, "ingest").test_context() as agent:
        for i, rec in enumerate(records):
            await agent.put(rec, partition=i % 2)
    await app.vigie_store.close()  # type: ignore[attr-defined]
    sent = [(p, v, orjson.loads(v)["ps"]) for t, _, v, p in producer.sent
            if t == topics.PARTIALS.name and b'"ps"' in v]
    # "ma" (newest arrival) is the wall time the test put the record: not comparable
    partials = [(p, [{k: x for k, x in d.items() if k != "ma"} for d in docs])
                for p, _, docs in sent if docs[0]["w"] != "_global"]
    # global counts go out with ticks (when is a matter of wall time) or are still held
    docs = [d for _, _, ds in sent for d in ds if d["w"] == "_global"]
    totals: dict[int, Counter[str]] = {}
    for d in docs:
        totals.setdefault(d["b"], Counter())["_n"] += d["n"]
        totals[d["b"]].update(d.get("h", {}))
    for p in rt.held.take():
        totals.setdefault(p.bucket_start, Counter())["_n"] += p.count
        totals[p.bucket_start].update(p.hashtags)
    held = sorted((b, sorted(c.items())) for b, c in totals.items())
    dead = [{k: v for k, v in d.items() if k != "received_at"}
            for d in producer.values(topics.DLQ.name)]
    m = rt.metrics
    counts = (m.records_in._value.get(), m.dead_letters.labels("invalid_json")._value.get(),
              sorted((s.labels["watch"], s.value) for mf in m.events_matched.collect()
                     for s in mf.samples if s.name.endswith("_total")))
    return partials, dead, held, dict(rt.input_watermarks), dict(rt.input_offsets), counts


async def test_the_ingest_child_sends_what_the_worker_would_send_itself(tmp_path: Any) -> None:
    records = scenario_records()[:12]
    records[3:3] = [b"{broken", b"[]", b"\xff\xfe"]
    inline = await _ingest_outputs(tmp_path, False, records)
    child = await _ingest_outputs(tmp_path, True, records)
    assert inline[0] and inline[1] and inline[2]  # partials, dead letters, global counts
    assert child == inline  # same messages in the same order, same marks and metrics
