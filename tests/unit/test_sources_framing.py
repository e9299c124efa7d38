"""Inputs cut into payloads: JSON lines, one document, server-sent events, CSV rows."""

from __future__ import annotations

import io

from streams.sources.common import Payload
from streams.sources.framing import SseParser, csv_payloads, json_payloads


def _json(data: bytes, sse: bool = False) -> list[tuple[bytes, int, int | None, str | None]]:
    return [(p.raw, p.pos, p.line, p.event) for p in json_payloads(io.BytesIO(data), sse)]


def test_json_lines_skip_blank_keepalives() -> None:
    assert _json(b'\r\n{"a": 1}\r\n\r\n{"b": 2}\n  \n[3]') == [
        (b'{"a": 1}', 0, 2, None), (b'{"b": 2}', 1, 4, None), (b"[3]", 2, 6, None)]


def test_a_pretty_printed_document_is_one_payload() -> None:
    doc = b'\n{\n  "data": [\n    {"id": "1"}\n  ]\n}\n'
    assert _json(doc) == [(doc.strip(), 0, 2, None)]
    arr = b'[\n {"id": 1},\n {"id": 2}\n]'
    assert _json(arr) == [(arr, 0, 1, None)]


def test_a_broken_document_falls_back_to_lines() -> None:
    out = _json(b'{\n  "a": 1,\n{"b": 2}\n')
    assert [raw for raw, *_ in out] == [b"{", b'"a": 1,', b'{"b": 2}']
    assert [line for _, _, line, _ in out] == [1, 2, 3]


def test_empty_input() -> None:
    assert _json(b"") == [] and _json(b"\n\n \r\n") == []


def test_sse_events_comments_and_multiline_data() -> None:
    data = (b":)\n\nevent: update\ndata: {\"a\":\ndata: 1}\n\n:thump\r\n\r\n"
            b"event: delete\r\ndata: 42\r\n\r\ndata: no event name\n\nevent: update\ndata: {}")
    out = _json(data, sse=True)
    assert [(raw, ev) for raw, _, _, ev in out] == [
        (b'{"a":\n1}', "update"), (b"42", "delete"), (b"no event name", "message"),
        (b"{}", "update")]
    assert [pos for _, pos, _, _ in out] == [0, 1, 2, 3]
    assert [line for _, _, line, _ in out] == [3, 9, 12, 14]


def test_sse_only_when_asked() -> None:
    assert _json(b"event: update\ndata: {}\n\n") == [
        (b"event: update", 0, 1, None), (b"data: {}", 1, 2, None)]


def test_sse_parser_keeps_positions_across_feeds() -> None:
    parser = SseParser()
    parser.pos = 7
    assert parser.feed(b"event: update") is None and parser.feed(b"data: {}") is None
    p = parser.feed(b"")
    assert p is not None and (p.pos, p.event, p.raw) == (7, "update", b"{}")
    assert parser.pos == 8 and parser.feed(b"") is None


def test_csv_rows_keep_their_exact_bytes() -> None:
    data = (b'\xef\xbb\xbfid, text \r\n1,"two\r\nlines"\r\n\r\n2,plain\r\n3,"bad"x\r\n'
            b"4,a,b\r\n5,ok")
    out = list(csv_payloads(io.BytesIO(data)))
    assert [p.raw for p in out] == [b'1,"two\r\nlines"', b"2,plain", b'3,"bad"x', b"4,a,b",
                                    b"5,ok"]
    assert [p.line for p in out] == [2, 5, 6, 7, 8]
    assert out[0].fields == {"id": "1", "text": "two\r\nlines"}  # BOM and spaces gone
    assert [p.problem[0] if p.problem else None for p in out] == [
        None, None, "invalid_value", "invalid_value", None]
    assert [p.pos for p in out] == [0, 1, 2, 3, 4]


def test_csv_delimiter_and_header_only() -> None:
    out = list(csv_payloads(io.BytesIO(b"a;b\n1;2\n"), ";"))
    assert [p.fields for p in out] == [{"a": "1", "b": "2"}]
    assert list(csv_payloads(io.BytesIO(b"a,b\n"))) == []
    assert list(csv_payloads(io.BytesIO(b""))) == []


async def test_a_slow_pipe_is_not_held_back_for_a_full_chunk() -> None:
    import asyncio
    import os
    import threading

    from streams.sources.framing import more_ready, pump

    r, w = os.pipe()
    reader = os.fdopen(r, "rb")
    queue: asyncio.Queue[list[Payload] | None] = asyncio.Queue()
    stop = threading.Event()
    errors: list[BaseException] = []
    t = threading.Thread(target=pump, daemon=True, args=(
        json_payloads(reader), queue, asyncio.get_running_loop(), stop, more_ready(reader),
        errors))
    t.start()
    os.write(w, b'{"a": 1}\n{"b": 2}\n')
    got: list[Payload] = []
    while len(got) < 2:  # the writer has not closed: these must come now, not at EOF
        chunk = await asyncio.wait_for(queue.get(), 5)
        assert chunk is not None
        got += chunk
    assert [p.raw for p in got] == [b'{"a": 1}', b'{"b": 2}']
    os.write(w, b'{"c": 3}\n')
    os.close(w)
    rest = await asyncio.wait_for(queue.get(), 5)
    assert rest is not None and [p.raw for p in rest] == [b'{"c": 3}']
    assert await asyncio.wait_for(queue.get(), 5) is None and errors == []
    t.join(5)
