"""decode_record: every kind of bad input becomes a dead letter with a bounded reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from streams.events.decode import REASONS, Decoded, Limits, decode_record
from streams.events.schemas import schema

LIMITS = Limits()
NOW = datetime(2024, 6, 3, 8, 0, tzinfo=UTC).timestamp()
WATERMARK = NOW - 30.0


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _event(i: int = 1, ts: float = NOW - 10.0, **extra: Any) -> dict[str, Any]:
    return {"id": f"post-{i}", "platform": "x", "created_at": _iso(ts),
            "author": {"id": f"a{i}", "handle": f"user{i}", "followers": 10 * i,
                       "verified": False},
            "text": "Appli SG en panne depuis ce matin #SGpanne", **extra}


def _decode(value: bytes | None, watermark_s: float = WATERMARK,
            limits: Limits = LIMITS) -> Decoded:
    out = decode_record(value, limits, NOW, watermark_s)
    for dl in out.dead:
        assert dl.reason in REASONS
    return out


def _one_dead(value: bytes | None, **kw: Any) -> tuple[str, bytes, int | None]:
    out = _decode(value, **kw)
    assert out.events == ()
    (dl,) = out.dead
    return dl.reason, dl.payload, dl.index


def test_reasons_are_the_dead_letter_schema_enum() -> None:
    assert list(REASONS) == schema("dead-letter.v1")["properties"]["reason"]["enum"]


def test_valid_single_event() -> None:
    out = _decode(orjson.dumps(_event()))
    assert [e.id for e in out.events] == ["post-1"] and out.dead == ()


def test_valid_array_of_events() -> None:
    out = _decode(orjson.dumps([_event(i) for i in range(5)]))
    assert [e.id for e in out.events] == [f"post-{i}" for i in range(5)] and out.dead == ()


@pytest.mark.parametrize(("value", "reason"), [
    pytest.param(b"", "empty_record", id="empty"),
    pytest.param(None, "empty_record", id="tombstone"),
    pytest.param(b"[]", "empty_batch", id="empty-array"),
    pytest.param(b"  [ ]  ", "empty_batch", id="empty-array-with-spaces"),
    pytest.param(b"{", "invalid_json", id="truncated"),
    pytest.param(b"{'id': '1'}", "invalid_json", id="single-quotes"),
    pytest.param(b'{"id": "1",}', "invalid_json", id="trailing-comma"),
    pytest.param(b'{"a": 1}{"b": 2}', "invalid_json", id="two-documents"),
    pytest.param(b"   ", "invalid_json", id="whitespace-only"),
    pytest.param(b'{"sentiment": NaN}', "invalid_json", id="nan-literal"),
    pytest.param(b'{"sentiment": Infinity}', "invalid_json", id="infinity-literal"),
    pytest.param(b'{"sentiment": -Infinity}', "invalid_json", id="minus-infinity-literal"),
    pytest.param(b'{"followers": 1e400}', "invalid_json", id="number-overflows-double"),
    pytest.param(b'{"text": "\\ud800"}', "invalid_json", id="lone-surrogate-escape"),
    pytest.param(b"\xef\xbb\xbf" + orjson.dumps(_event()), "invalid_json", id="utf8-bom"),
    pytest.param("{\"text\": \"Société\"}".encode("latin-1"), "not_utf8", id="latin-1"),
    pytest.param(b"\xff\xfe\xfd", "not_utf8", id="binary"),
    pytest.param(b'"' + b"\xc3" + b'"', "not_utf8", id="truncated-utf8-sequence"),
    pytest.param(b"42", "not_an_object", id="number"),
    pytest.param(b"null", "not_an_object", id="null"),
    pytest.param(b'"an event"', "not_an_object", id="string"),
    pytest.param(b"true", "not_an_object", id="bool"),
])
def test_whole_record_rejections(value: bytes | None, reason: str) -> None:
    got, payload, index = _one_dead(value)
    assert got == reason
    assert payload == (value or b"")  # the original bytes, untouched
    assert index is None


@pytest.mark.parametrize(("mutate", "reason"), [
    pytest.param(lambda e: e.pop("author"), "missing_field", id="missing-author"),
    pytest.param(lambda e: e.pop("id"), "missing_field", id="missing-id"),
    pytest.param(lambda e: e.pop("text"), "missing_field", id="missing-text"),
    pytest.param(lambda e: e.pop("created_at"), "missing_field", id="missing-created-at"),
    pytest.param(lambda e: e["author"].pop("verified"), "missing_field",
                 id="missing-author-verified"),
    pytest.param(lambda e: e.update(text=42), "wrong_type", id="text-number"),
    pytest.param(lambda e: e.update(author="jdupont"), "wrong_type", id="author-string"),
    pytest.param(lambda e: e["author"].update(followers="12"), "wrong_type",
                 id="followers-string"),
    pytest.param(lambda e: e["author"].update(verified=1), "wrong_type", id="verified-int"),
    pytest.param(lambda e: e.update(hashtags="SGpanne"), "wrong_type", id="hashtags-string"),
    pytest.param(lambda e: e.update(created_at=1717401600), "wrong_type",
                 id="created-at-epoch"),
    pytest.param(lambda e: e["author"].update(followers=-1), "invalid_value",
                 id="followers-negative"),
    pytest.param(lambda e: e.update(sentiment=1.5), "invalid_value", id="sentiment-1.5"),
    pytest.param(lambda e: e.update(platform="Twitter"), "invalid_value", id="platform-case"),
    pytest.param(lambda e: e.update(text="x" * 20_001), "invalid_value", id="text-20001"),
    pytest.param(lambda e: e.update(hashtags=["t"] * 101), "invalid_value", id="101-hashtags"),
    pytest.param(lambda e: e.update(created_at="2024-06-03T07:59:00"), "bad_timestamp",
                 id="created-at-no-offset"),
    pytest.param(lambda e: e.update(created_at="2024-02-30T07:59:00Z"), "bad_timestamp",
                 id="created-at-invalid-date"),
    pytest.param(lambda e: e.update(created_at="yesterday"), "bad_timestamp",
                 id="created-at-words"),
])
def test_single_event_rejections(mutate: Any, reason: str) -> None:
    ev = _event()
    mutate(ev)
    value = orjson.dumps(ev)
    got, payload, index = _one_dead(value)
    assert got == reason
    assert payload == value and index is None


def test_huge_text_is_rejected_but_limit_is_accepted() -> None:
    assert _decode(orjson.dumps(_event(text="é" * 20_000))).dead == ()
    assert _one_dead(orjson.dumps(_event(text="é" * 25_000)))[0] == "invalid_value"


def test_text_limit_follows_settings() -> None:
    limits = Limits(max_text_chars=100)
    out = _decode(orjson.dumps([_event(1, text="a" * 100), _event(2, text="a" * 101)]),
                  limits=limits)
    assert [e.id for e in out.events] == ["post-1"]
    assert [(d.reason, d.index) for d in out.dead] == [("invalid_value", 1)]


def test_ten_megabyte_record_is_too_large() -> None:
    big = orjson.dumps([_event(i, text="x" * 19_000) for i in range(560)])
    assert len(big) > 10 * 1024 * 1024 > LIMITS.max_record_bytes
    reason, payload, index = _one_dead(big)
    assert (reason, index) == ("too_large", None) and payload == big


def test_record_at_the_byte_limit_is_decoded() -> None:
    value = orjson.dumps(_event())
    assert _decode(value, limits=Limits(max_record_bytes=len(value))).dead == ()
    assert _one_dead(value, limits=Limits(max_record_bytes=len(value) - 1))[0] == "too_large"


def test_too_many_events() -> None:
    value = orjson.dumps([_event(i) for i in range(11)])
    assert _one_dead(value, limits=Limits(max_batch_events=10))[0] == "too_many_events"


@pytest.mark.parametrize("depth", [1_025, 100_000])
def test_deep_nesting_does_not_crash(depth: int) -> None:
    # orjson refuses more than 1024 levels: a clean invalid_json, no RecursionError
    for value in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
        assert _one_dead(value)[0] == "invalid_json"


def test_nested_array_record_within_the_encoder_depth() -> None:
    assert _one_dead(b"[" * 255 + b"]" * 255) == ("not_an_object", b"[" * 254 + b"]" * 254, 0)


_RECURSION_BUG = ("orjson decodes up to 1024 levels but encodes at most 255: re-serialising a "
                  "rejected array element nested 256..1024 deep raises TypeError out of "
                  "decode_record (a poison pill for the agent); fix belongs in streams/ingest.py")


@pytest.mark.parametrize("value", [
    pytest.param(b"[" * 256 + b"]" * 256, id="array-256-deep"),
    pytest.param(b"[" * 1024 + b"]" * 1024, id="array-1024-deep"),
    pytest.param(b"[" + orjson.dumps(_event())[:-1] + b', "metrics": ' + b"[" * 300
                 + b"]" * 300 + b"}]", id="event-field-300-deep-in-array"),
])
def test_deeply_nested_array_element_is_a_dead_letter(value: bytes) -> None:
    reason, _, index = _one_dead(value)
    assert (reason, index) in {("not_an_object", 0), ("wrong_type", 0)}


def test_deep_nesting_inside_an_event_field() -> None:
    value = orjson.dumps(_event(metrics=[[[[[[[[[[1]]]]]]]]]]))
    assert _one_dead(value)[0] == "wrong_type"


def test_future_beyond_clock_skew() -> None:
    ahead = NOW + LIMITS.max_clock_skew_s + 60.0
    reason, _, _ = _one_dead(orjson.dumps(_event(ts=ahead)))
    assert reason == "future_timestamp"


def test_future_within_clock_skew_is_accepted() -> None:
    out = _decode(orjson.dumps(_event(ts=NOW + LIMITS.max_clock_skew_s - 60.0)))
    assert len(out.events) == 1 and out.dead == ()


def test_ancient_timestamp() -> None:
    old = datetime(2005, 12, 31, 23, 59, tzinfo=UTC).timestamp()
    out = _decode(orjson.dumps(_event(ts=old)), watermark_s=0.0)
    assert [d.reason for d in out.dead] == ["ancient_timestamp"]
    first_ok = datetime(2006, 1, 1, tzinfo=UTC).timestamp()
    assert _decode(orjson.dumps(_event(ts=first_ok)), watermark_s=0.0).dead == ()


def test_late_event_behind_watermark() -> None:
    late = WATERMARK - LIMITS.allowed_lateness_s - 1.0
    just_in = WATERMARK - LIMITS.allowed_lateness_s + 1.0
    out = _decode(orjson.dumps([_event(1, ts=late), _event(2, ts=just_in)]))
    assert [e.id for e in out.events] == ["post-2"]
    assert [(d.reason, d.index) for d in out.dead] == [("late", 0)]


def test_watermark_advances_within_a_record() -> None:
    # the first event moves the watermark forward; the older one after it is then late
    t1 = NOW - 10.0
    t2 = t1 - LIMITS.allowed_lateness_s - 5.0
    out = _decode(orjson.dumps([_event(1, ts=t1), _event(2, ts=t2)]), watermark_s=t2)
    assert out.watermark_s == t1
    assert [(d.reason, d.index) for d in out.dead] == [("late", 1)]


def test_watermark_never_goes_back() -> None:
    out = _decode(orjson.dumps(_event(ts=WATERMARK - 60.0)))
    assert out.watermark_s == WATERMARK and len(out.events) == 1


def test_watermark_capped_at_wall_clock() -> None:
    # a producer clock 5 min ahead must not make the on-time events after it late
    ahead = _event(1, ts=NOW + 300.0)
    on_time = _event(2, ts=NOW - LIMITS.allowed_lateness_s + 30.0)
    out = _decode(orjson.dumps([ahead, on_time]))
    assert out.watermark_s == NOW
    assert [e.id for e in out.events] == ["post-1", "post-2"] and out.dead == ()
    later = _decode(orjson.dumps(_event(3, ts=NOW - 60.0)), watermark_s=out.watermark_s)
    assert later.dead == ()


def test_mixed_array_keeps_good_and_dead_letters_each_bad_one() -> None:
    bad_missing = {k: v for k, v in _event(2).items() if k != "author"}
    bad_type = _event(4, text=["not", "a", "string"])
    items: list[Any] = [_event(1), bad_missing, _event(3), bad_type, "plain string", None,
                        _event(5, ts=NOW + 3600.0), _event(6, ts=WATERMARK - 1000.0),
                        _event(7, created_at="2024-06-03 07:59:00Z"), _event(8)]
    out = _decode(orjson.dumps(items))
    assert [e.id for e in out.events] == ["post-1", "post-3", "post-8"]
    assert [(d.index, d.reason) for d in out.dead] == [
        (1, "missing_field"), (3, "wrong_type"), (4, "not_an_object"), (5, "not_an_object"),
        (6, "future_timestamp"), (7, "late"), (8, "bad_timestamp")]
    for dl in out.dead:
        assert dl.index is not None
        assert dl.payload == orjson.dumps(items[dl.index])  # its own bytes, not the batch
        assert orjson.loads(dl.payload) == items[dl.index]


def test_array_of_one_event_reports_index_zero() -> None:
    out = _decode(orjson.dumps([_event(text=None)]))
    assert [(d.index, d.reason) for d in out.dead] == [(0, "wrong_type")]


def test_non_ascii_text_is_kept_exactly() -> None:
    text = "Société Générale : « panne » 😡 #BecauseWeLoveSG"
    (ev,) = _decode(orjson.dumps(_event(text=text))).events
    assert ev.text == text


def test_unknown_fields_are_ignored() -> None:
    out = _decode(orjson.dumps(_event(video={"views": 10}, schema_version="social-event.v1")))
    assert len(out.events) == 1 and out.dead == ()
