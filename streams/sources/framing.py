"""Files and stdin cut into payloads: JSON lines, one JSON document, SSE events, CSV rows."""

from __future__ import annotations

import asyncio
import csv
import itertools
import select
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import orjson

from streams.sources.common import Payload

CHUNK = 256  # most payloads handed over at a time


def _is_json(data: bytes) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


def _is_sse(line: bytes) -> bool:
    return line.startswith((b"event:", b"data:", b":"))


def json_payloads(fh: Iterable[bytes], sse: bool = False) -> Iterator[Payload]:
    """JSON lines; or one pretty-printed document; or, when `sse`, server-sent events.

    The first non-blank line decides: valid JSON on its own means one payload per line; a
    line opening a document that only parses whole means one payload for the whole input
    (line by line again if the whole does not parse either).
    """
    numbered: Iterator[tuple[int, bytes]] = enumerate(fh, 1)
    start, first = next(((n, line) for n, line in numbered if line.strip()), (0, b""))
    if not first:
        return
    head = first.strip()
    if sse and _is_sse(head):
        yield from sse_payloads(itertools.chain([(start, first)], numbered))
        return
    if head[:1] in (b"{", b"[") and not _is_json(head):
        rest = [first, *(line for _, line in numbered)]
        whole = b"".join(rest).strip()
        if _is_json(whole):
            yield Payload(whole, 0, start)
            return
        numbered = enumerate(rest, start)
    else:
        numbered = itertools.chain([(start, first)], numbered)
    pos = 0
    for n, line in numbered:
        line = line.strip()
        if line:  # blank lines are keep-alives on HTTP streams
            yield Payload(line, pos, n)
            pos += 1


class SseParser:
    """Server-sent events, line by line (fields event and data; comments are heartbeats)."""

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[bytes] = []
        self._line: int | None = None
        self.pos = 0

    def feed(self, line: bytes, n: int | None = None) -> Payload | None:
        """Take one line; return the event a blank line completes."""
        line = line.rstrip(b"\r\n")
        if not line:
            return self.end()
        if line.startswith(b":"):
            return None
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if self._line is None:
            self._line = n
        if name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"data":
            self._data.append(value)
        return None

    def end(self) -> Payload | None:
        """The pending event, if any (at a blank line or the end of the input)."""
        if not self._data and self._event is None:
            return None
        p = Payload(b"\n".join(self._data), self.pos, self._line, self._event or "message")
        self.pos += 1
        self._event, self._data, self._line = None, [], None
        return p


def sse_payloads(lines: Iterable[tuple[int, bytes]]) -> Iterator[Payload]:
    """Server-sent events of numbered lines."""
    parser = SseParser()
    for n, line in lines:
        p = parser.feed(line, n)
        if p is not None:
            yield p
    p = parser.end()
    if p is not None:
        yield p


def csv_payloads(fh: Iterable[bytes], delimiter: str = ",") -> Iterator[Payload]:
    """CSV rows by header; each payload keeps the row's exact bytes (for its dead letter)."""
    taken: list[bytes] = []
    line_no = 0

    def lines() -> Iterator[str]:
        nonlocal line_no
        for raw in fh:
            line_no += 1
            taken.append(raw)
            yield raw.decode("utf-8", "surrogateescape")

    reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return
    if header:
        header[0] = header[0].removeprefix("\ufeff")
    header = [h.strip() for h in header]
    taken.clear()
    pos = 0
    while True:
        try:
            row: list[str] | None = next(reader)
            problem = None
        except StopIteration:
            return
        except csv.Error as exc:
            row, problem = None, ("invalid_value", f"CSV: {exc}")
        raw = b"".join(taken).rstrip(b"\r\n")
        start = line_no - len(taken) + 1
        taken.clear()
        if row == []:
            continue  # a blank line
        if row is not None and len(row) != len(header):
            problem = ("invalid_value", f"row has {len(row)} fields, the header {len(header)}")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            problem = ("not_utf8", "row is not UTF-8")
        fields: dict[str, str | None] | None = None
        if problem is None and row:
            fields = dict(zip(header, row, strict=True))
        yield Payload(raw, pos, start, fields=fields, problem=problem)
        pos += 1


def more_ready(fh: BinaryIO) -> Callable[[], bool]:
    """A probe: may the next read return at once? (always, for a regular file)"""
    try:
        fd = fh.fileno()
    except (OSError, ValueError):
        return lambda: True
    return lambda: bool(select.select([fd], [], [], 0)[0])


def pump(payloads: Iterator[Payload], queue: asyncio.Queue[list[Payload] | None],
         loop: asyncio.AbstractEventLoop, stop: threading.Event, ready: Callable[[], bool],
         errors: list[BaseException]) -> None:
    """Hand payloads from a reading thread to the event loop in chunks, `None` last.

    A chunk goes when it is full or when the input has nothing more at once, so a slow
    writer's lines are not held back. A read error is kept in `errors`.
    """
    def put(item: list[Payload] | None) -> None:
        fut = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
        while not stop.is_set():
            try:
                fut.result(timeout=0.5)
                return
            except TimeoutError:
                continue
        fut.cancel()

    chunk: list[Payload] = []
    try:
        for p in payloads:
            if stop.is_set():
                return
            chunk.append(p)
            if len(chunk) >= CHUNK or not ready():
                put(chunk)
                chunk = []
        if chunk:
            put(chunk)
    except Exception as exc:  # reported by the loop once the payloads before it are done
        errors.append(exc)
    finally:
        put(None)


def open_input(path: str) -> BinaryIO:
    """The input file, or stdin for `-`; OSError when it cannot be read."""
    if path == "-":
        return sys.stdin.buffer
    return open(path, "rb")  # the reading thread closes it
