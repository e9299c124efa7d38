"""The ingest child: a real child process, killed mid-stream, restarted, nothing lost."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import orjson

from streams.dev import scenarios, simulate
from streams.engine.ingest import RecordOut, process_record
from streams.settings import Settings
from streams.worker.context import build_context, now_s
from streams.worker.offload import MAX_ATTEMPTS, ChildStage
from tests.agents.test_agents import END


def _records(n: int) -> list[bytes]:
    sc = scenarios.bank_bad_buzz(end=END, days=0.5)
    lines = [orjson.dumps(ev) for ev in simulate.generate(sc, seed=11)]
    return [b"[" + b",".join(lines[i:i + 200]) + b"]" for i in range(0, 200 * n, 200)]


def _comparable(out: RecordOut) -> tuple[Any, ...]:
    msgs = [(p, orjson.loads(v)["ps"]) for p, v in out.messages]
    return (out.partition, out.offset, msgs, out.matched, out.events_in, out.watermark_s)


async def _run(stage_rt: Any, records: list[bytes], kill_after: int | None) -> list[Any]:
    finished: list[tuple[int, RecordOut]] = []

    async def finish(event: Any, out: RecordOut) -> None:
        finished.append((event, out))
        stage_rt.input_watermarks[out.partition] = out.watermark_s

    stage = ChildStage(stage_rt, finish)
    await stage.start()
    for i, rec in enumerate(records):
        await stage.put(i, rec, 0, i, 1_800_000_000.0)
        if i == kill_after:
            assert stage._proc is not None
            os.kill(stage._proc.pid, signal.SIGKILL)  # the child dies with work in flight
            await asyncio.sleep(0.05)
    await stage.stop()
    return finished


async def test_a_killed_child_is_restarted_and_every_record_finishes_once_in_order() -> None:
    s = Settings(app_id="offload-test", topic_partitions=2)
    records = _records(30)
    rt = build_context(s)
    finished = await _run(rt, records, kill_after=12)
    assert [e for e, _ in finished] == list(range(len(records)))
    assert rt.metrics.ingest_child_restarts._value.get() >= 1
    # the same outputs as the worker computes itself
    ref = build_context(s)
    wm = 0.0
    expected = []
    for i, rec in enumerate(records):
        out = process_record(ref.engine, rec, 0, i, 1_800_000_000.0, wm, now_s())
        wm = out.watermark_s
        expected.append(_comparable(out))
    assert [_comparable(o) for _, o in finished] == expected
    assert sum(n for _, o in finished for _, n in o.matched) > 0


async def test_a_task_the_child_keeps_dying_on_is_processed_by_the_worker() -> None:
    rt = build_context(Settings(app_id="offload-test-2"))
    finished: list[Any] = []

    async def finish(event: Any, out: RecordOut) -> None:
        finished.append(event)

    stage = ChildStage(rt, finish)
    await stage.start()
    # the child dies on every attempt: a poison pill for the child only
    original = stage._send

    def send_and_kill(task: Any) -> None:
        original(task)
        assert stage._proc is not None
        os.kill(stage._proc.pid, signal.SIGKILL)

    stage._send = send_and_kill  # type: ignore[method-assign]
    await stage.put("only", _records(1)[0], 0, 0, 1_800_000_000.0)
    await stage.stop()
    assert finished == ["only"]
    assert rt.metrics.ingest_child_restarts._value.get() == MAX_ATTEMPTS


async def test_the_worker_ingests_itself_when_the_child_cannot_start(monkeypatch: Any) -> None:
    from streams.worker import offload

    rt = build_context(Settings(app_id="offload-test-3"))
    finished: list[Any] = []

    async def finish(event: Any, out: RecordOut) -> None:
        finished.append((event, out.matched))

    monkeypatch.setattr(offload.sys, "executable", "/nonexistent/python")
    stage = await offload.start_stage(rt, finish)
    assert isinstance(stage, offload.InlineStage)
    await stage.put("r0", _records(1)[0], 0, 0, 1_800_000_000.0)
    await stage.stop()
    assert [e for e, _ in finished] == ["r0"] and finished[0][1]
