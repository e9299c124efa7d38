"""The ingest stage on a second core: a child process decodes, validates, matches and
aggregates input records while the worker's process runs Faust, the internal topic and the
per-watch state. The worker sends each record's results in input order and acks the record
once they are on their topics: at-least-once, exactly as when it does the work itself.

Protocol over the child's stdin/stdout: frames of an 8-byte big-endian length and a pickle.
Worker -> child: the Settings, then (rosters or None, [(value, partition, offset, arrival_s,
watermark_s), ...]) per task. Child -> worker: True when ready, then (True, [RecordOut, ...])
or (False, error text) per task, in order.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, BinaryIO

from streams.engine.config import build_config
from streams.engine.ingest import RecordOut, process_record
from streams.worker.context import WorkerContext, now_s

log = logging.getLogger(__name__)
Finish = Callable[[Any, RecordOut], Awaitable[None]]
Record = tuple[bytes | None, int, int, float, float]
_LEN = 8
MAX_INFLIGHT = 2  # tasks sent to the child: one it works on, one waiting in its pipe
MIN_TASK_BYTES = 64 * 1024  # a second task in flight only when it is worth a round trip
BUFFER_BYTES = 2 * 1024 * 1024  # records waiting for a task; put() waits beyond this
STOP_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 3  # a task the child died on this often is processed in the worker


def _frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(_LEN, "big") + data


class InlineStage:
    """The ingest stage in the worker's own process."""

    def __init__(self, ctx: WorkerContext, finish: Finish) -> None:
        self.ctx, self.finish = ctx, finish

    async def start(self) -> None:
        """Nothing to start."""

    async def put(self, event: Any, value: bytes | None, partition: int, offset: int,
                  arrival_s: float) -> None:
        """Process one record and finish it."""
        ctx = self.ctx
        wm = ctx.input_watermarks.get(partition, 0.0)
        await self.finish(event, process_record(ctx.engine, value, partition, offset, arrival_s,
                                                wm, now_s(), ctx.ts_memo))

    async def stop(self) -> None:
        """Nothing to stop."""


class _Task:
    __slots__ = ("attempts", "events", "records")

    def __init__(self, events: list[Any], records: list[Record]) -> None:
        self.events, self.records, self.attempts = events, records, 0


class ChildStage:
    """The ingest stage in a child process, pipelined: the child works on one task while the
    worker sends the previous one's results and buffers the next records."""

    def __init__(self, ctx: WorkerContext, finish: Finish, buffer_bytes: int = BUFFER_BYTES
                 ) -> None:
        self.ctx, self.finish, self.buffer_bytes = ctx, finish, buffer_bytes
        self._proc: asyncio.subprocess.Process | None = None
        self._buf: list[tuple[Any, Record]] = []
        self._buf_bytes = 0
        self._inflight: deque[_Task] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._room = asyncio.Event()
        self._sent_rosters: Mapping[str, tuple[str, ...]] | None = None
        self._error: BaseException | None = None

    async def start(self) -> None:
        """Start the child and wait until it has built its engine config."""
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "streams.worker.offload", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        self._sent_rosters = None
        assert self._proc.stdin is not None
        self._proc.stdin.write(_frame(self.ctx.settings))
        if await self._read() is not True:
            raise RuntimeError("ingest child did not start")
        log.info("ingest child started pid=%d", self._proc.pid)

    async def put(self, event: Any, value: bytes | None, partition: int, offset: int,
                  arrival_s: float) -> None:
        """Queue one record; it is finished later, in input order."""
        if self._error is not None:
            raise self._error
        wm = self.ctx.input_watermarks.get(partition, 0.0)
        self._buf.append((event, (value, partition, offset, arrival_s, wm)))
        self._buf_bytes += len(value or b"")
        # small records wait for the task in flight to come back (then they go as one task):
        # a pipe round trip per one-event record costs more than the record
        if not self._inflight or (len(self._inflight) < MAX_INFLIGHT
                                  and self._buf_bytes >= MIN_TASK_BYTES):
            self._dispatch()
        while self._buf_bytes > self.buffer_bytes and self._error is None:
            self._room.clear()
            await self._room.wait()

    async def stop(self) -> None:
        """Finish what is queued, then stop the child. The agent is usually being cancelled
        here: the queued records still go out (bounded by STOP_TIMEOUT_S), then it ends."""
        loop = asyncio.get_running_loop()
        flush = loop.create_task(self._flush())
        deadline = loop.time() + STOP_TIMEOUT_S
        cancelled = False
        while not flush.done() and loop.time() < deadline:
            try:
                await asyncio.wait({flush}, timeout=deadline - loop.time())
            except asyncio.CancelledError:
                cancelled = True
        if not flush.done():
            log.warning("ingest stage not flushed within %.0f s", STOP_TIMEOUT_S)
            flush.cancel()
        elif not flush.cancelled() and flush.exception() is not None:
            log.warning("ingest stage flush failed error=%r", flush.exception())
        await self._kill()
        if cancelled:
            raise asyncio.CancelledError

    async def _flush(self) -> None:
        while (self._buf or self._inflight) and self._error is None:
            if self._buf and len(self._inflight) < MAX_INFLIGHT:
                self._dispatch()
            if self._drainer is not None:
                await asyncio.shield(self._drainer)

    def _dispatch(self) -> None:
        if not self._buf:
            return
        task = _Task([e for e, _ in self._buf], [r for _, r in self._buf])
        self._buf, self._buf_bytes = [], 0
        self._room.set()
        self._inflight.append(task)
        self._send(task)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    def _send(self, task: _Task) -> None:
        rosters = self.ctx.engine.rosters
        update = None if rosters is self._sent_rosters else rosters
        self._sent_rosters = rosters
        assert self._proc is not None and self._proc.stdin is not None
        # buffered by the transport: the child reads it when it is done with the previous task
        self._proc.stdin.write(_frame((update, task.records)))

    async def _read(self) -> Any:
        assert self._proc is not None and self._proc.stdout is not None
        head = await self._proc.stdout.readexactly(_LEN)
        return pickle.loads(await self._proc.stdout.readexactly(int.from_bytes(head, "big")))

    async def _drain(self) -> None:
        try:
            while self._inflight:
                task = self._inflight[0]
                try:
                    ok, outs = await self._read()
                except (asyncio.IncompleteReadError, ConnectionError) as exc:
                    outs = await self._recover(task, exc)
                    ok = True
                    if outs is None:
                        continue
                if not ok:
                    raise RuntimeError(f"ingest child failed: {outs}")
                self._inflight.popleft()
                if self._buf and len(self._inflight) < MAX_INFLIGHT:
                    self._dispatch()  # keep the child busy while the results go out
                for event, out in zip(task.events, outs, strict=True):
                    await self.finish(event, out)
                self._room.set()
        except BaseException as exc:
            self._error = exc
            self._room.set()
            if not isinstance(exc, asyncio.CancelledError):
                log.exception("ingest stage failed")
            raise

    async def _recover(self, task: _Task, exc: BaseException) -> list[RecordOut] | None:
        """The child died: start another and send it what was in flight. A task it died on
        MAX_ATTEMPTS times is processed here (its outputs returned), in input order."""
        task.attempts += 1
        self.ctx.metrics.ingest_child_restarts.inc()
        log.warning("ingest child died error=%r attempts=%d; restarting", exc, task.attempts)
        await self._kill()
        await self.start()
        if task.attempts >= MAX_ATTEMPTS:
            ctx = self.ctx
            outs = [process_record(ctx.engine, *r, now_s(), ctx.ts_memo) for r in task.records]
            for t in list(self._inflight)[1:]:
                self._send(t)
            return outs
        for t in self._inflight:
            self._send(t)
        return None

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()  # end of input: the child exits (and a dead one's pipe is freed)
        if proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def start_stage(ctx: WorkerContext, finish: Finish) -> InlineStage | ChildStage:
    """The ingest stage the settings ask for, started: in the worker's own process when the
    child cannot start (the worker still ingests, on one core)."""
    if ctx.settings.ingest_child:
        stage = ChildStage(ctx, finish)
        try:
            await stage.start()
            return stage
        except (OSError, RuntimeError, asyncio.IncompleteReadError) as exc:
            log.error("ingest child not started error=%r; ingesting in the worker", exc)
            await stage._kill()
    return InlineStage(ctx, finish)


def _read_frame(f: BinaryIO) -> Any:
    head = f.read(_LEN)
    if len(head) < _LEN:
        return None
    n = int.from_bytes(head, "big")
    data = f.read(n)
    if len(data) < n:
        return None
    return pickle.loads(data)


def child_main() -> int:
    """The child: build the engine config from the settings sent, then process tasks until EOF."""
    fin = sys.stdin.buffer
    fout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the result stream
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s ingest-child %(name)s %(message)s")
    settings = _read_frame(fin)
    if settings is None:
        return 0
    cfg = build_config(settings)
    ts_memo: dict[str, float] = {}  # account creation dates parsed
    marks: dict[int, float] = {}  # the child sees every record first: its watermarks lead
    fout.write(_frame(True))
    fout.flush()
    while (msg := _read_frame(fin)) is not None:
        rosters, records = msg
        try:
            if rosters is not None:
                cfg = cfg.with_rosters(rosters)
            outs = []
            for value, partition, offset, arrival_s, wm in records:
                out = process_record(cfg, value, partition, offset, arrival_s,
                                     max(wm, marks.get(partition, 0.0)), now_s(), ts_memo)
                marks[partition] = out.watermark_s
                outs.append(out)
            reply: tuple[bool, Any] = (True, outs)
        except Exception as exc:  # reported to the worker, which fails as it would inline
            log.exception("task failed")
            reply = (False, repr(exc)[:2000])
        fout.write(_frame(reply))
        fout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
