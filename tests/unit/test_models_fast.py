"""parse_event's fast path: it may only accept what the strict validator accepts, identically."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings

from streams.events import model, parse
from streams.events.model import InvalidEvent, parse_strict
from streams.events.parse import parse_event
from tests.unit.test_contracts import _VALID_EVENTS, event_like, timestamps


def _strict(doc: Any) -> model.SocialEvent | str:
    try:
        return parse_strict(doc, 20_000)
    except InvalidEvent as exc:
        return f"{exc.reason}: {exc.detail}"


@settings(max_examples=1500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(event_like())
def test_fast_path_accepts_only_what_strict_accepts_and_builds_the_same_event(
        doc: dict[str, Any]) -> None:
    fast = parse.parse_fast(doc, 20_000)
    strict = _strict(doc)
    if fast is not None:
        assert fast == strict
        assert type(fast.author) is model.Author
    try:
        assert parse_event(doc) == strict
    except InvalidEvent as exc:
        assert f"{exc.reason}: {exc.detail}" == strict


def test_fast_path_takes_the_common_shapes() -> None:
    # the examples and a simulator-like event must not silently fall back to the slow path
    for doc in _VALID_EVENTS:
        assert parse.parse_fast(copy.deepcopy(doc), 20_000) == _strict(doc)
    doc = orjson.loads(
        b'{"id":"sim-1","platform":"twitter","created_at":"2026-11-20T07:57:52.747699Z",'
        b'"author":{"id":"u1","handle":"h_1","followers":24,"verified":false,"bio":"b",'
        b'"created_at":"2017-11-15T00:00:00Z"},"text":"t","lang":"fr",'
        b'"url":"https://x.com/h_1/status/1","metrics":{"likes":11,"reposts":1,"replies":0},'
        b'"reply_to":"sim-0","hashtags":["SG"],"sentiment":-0.5}')
    ev = parse.parse_fast(doc, 20_000)
    assert ev is not None and ev == _strict(doc)


@settings(max_examples=500, deadline=None)
@given(timestamps())
def test_parse_ts_unchanged_by_the_case_shortcut(value: str) -> None:
    from datetime import datetime

    def reference(v: str) -> float | str:
        if model.TS_RE.match(v) is None:
            return "bad"
        try:
            return datetime.fromisoformat(v.replace("z", "Z").replace("t", "T")).timestamp()
        except ValueError:
            return "bad"

    try:
        got: float | str = model.parse_ts(value, "created_at")
    except InvalidEvent:
        got = "bad"
    assert got == reference(value)


_SHARED_MEMO: dict[str, float] = {}


@settings(max_examples=800, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(event_like())
def test_the_account_date_memo_never_changes_a_result(doc: dict[str, Any]) -> None:
    # one memo across examples, as a worker keeps it across records
    assert parse.parse_fast(copy.deepcopy(doc), 20_000, _SHARED_MEMO) \
        == parse.parse_fast(doc, 20_000)
    assert len(_SHARED_MEMO) <= parse.MAX_TS_MEMO
