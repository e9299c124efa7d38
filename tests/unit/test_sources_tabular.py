"""Generic JSONL/CSV with a field mapping; the shared time and count conversions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.events.model import InvalidEvent, parse_ts
from streams.sources import tabular
from streams.sources.common import count, iso_utc, parse_time, time_field
from streams.sources.tabular import MappingError, TabularMapper
from tests.unit.sources_helpers import FIXTURES, events, outcomes, reasons

G = FIXTURES / "generic"
JSONL_MAP = ("id=uid,created_at=ts,author.handle=user.screen_name,"
             "author.followers=user.followers_count,author.verified=user.verified,"
             "text=content,hashtags=topics")


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-06-03T08:12:05Z", "2024-06-03T08:12:05Z"),
    ("2024-06-03t08:12:05.5z", "2024-06-03T08:12:05.500Z"),
    ("2024-06-03T10:12:05+02:00", "2024-06-03T08:12:05Z"),
    ("2024-06-03 08:12:05.123456", "2024-06-03T08:12:05.123456Z"),  # naive: UTC
    ("2024-06-03", "2024-06-03T00:00:00Z"),
    (1717402325, "2024-06-03T08:12:05Z"),
    ("1717402325", "2024-06-03T08:12:05Z"),
    (1717402325.25, "2024-06-03T08:12:05.250Z"),
    (1717402325123, "2024-06-03T08:12:05.123Z"),  # ms
    (1717402325123456, "2024-06-03T08:12:05.123456Z"),  # us
    (1717402325123456789, "2024-06-03T08:12:05.123456Z"),  # ns, cut to us
])
def test_time_forms(value: object, expected: str) -> None:
    assert time_field(value, "t") == expected


def test_naive_times_read_in_the_given_zone() -> None:
    from zoneinfo import ZoneInfo

    assert time_field("2024-06-03 10:12:05", "t", ZoneInfo("Europe/Paris")) == \
        "2024-06-03T08:12:05Z"
    assert time_field("2024-01-03 10:12:05", "t", ZoneInfo("Europe/Paris")) == \
        "2024-01-03T09:12:05Z"


@pytest.mark.parametrize(("value", "reason"), [
    ("hier", "bad_timestamp"), ("03/06/2024", "bad_timestamp"), ("", "bad_timestamp"),
    (True, "wrong_type"), ([1], "wrong_type"), (None, "missing_field"),
    (float("nan"), "bad_timestamp"), (10**30, "bad_timestamp"),
])
def test_bad_times(value: object, reason: str) -> None:
    with pytest.raises(InvalidEvent) as exc:
        parse_time(value, "t")
    assert exc.value.reason == reason


@given(st.datetimes(min_value=datetime(2006, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)))
def test_written_times_meet_the_contract_and_keep_their_value(dt: datetime) -> None:
    text = iso_utc(dt)
    assert parse_ts(text, "created_at") == dt.timestamp()  # the worker's own parser
    assert parse_time(text, "t") == dt


@given(st.integers(min_value=1_136_073_600_000, max_value=4_102_444_800_000))
def test_epoch_milliseconds_are_exact(ms: int) -> None:
    dt = parse_time(ms, "t")
    assert dt == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def test_counts() -> None:
    assert [count(v, "c") for v in (None, "", 3, 3.0, " 42 ")] == [0, 0, 3, 3, 42]
    for bad, reason in (("many", "wrong_type"), (-1, "invalid_value"), (1.5, "wrong_type")):
        with pytest.raises(InvalidEvent) as exc:
            count(bad, "c")
        assert exc.value.reason == reason


def test_csv_with_a_mapping_file() -> None:
    fm = tabular.build([], str(G / "mapping.toml"))
    outs = outcomes(TabularMapper(fm, csv=True), G / "posts.csv", csv=True)
    evs = events(outs)
    assert [e["id"] for e in evs] == ["f-1001", "f-1002", "f-1003", "f-1004"]
    assert evs[0] == {
        "id": "f-1001", "platform": "forum", "created_at": "2024-06-03T08:12:05Z",  # Paris
        "author": {"id": "claire_d", "handle": "claire_d", "followers": 1843,
                   "verified": False},
        "text": "Appli SG en panne depuis ce matin, impossible de payer", "lang": "fr",
        "hashtags": ["SGpanne", "banque"]}
    assert evs[1]["author"]["handle"] == "marc_l"  # "@marc_l" written with its @
    assert evs[1]["text"] == 'Message du service client : "incident en cours"'
    assert evs[1]["created_at"] == "2024-06-03T08:15:00Z"  # its own offset wins over tz
    assert evs[2]["created_at"] == "2024-06-03T08:15:00Z" and "hashtags" not in evs[2]
    assert evs[3]["created_at"] == "2024-06-03T08:16:00Z"  # epoch milliseconds
    assert evs[3]["text"] == "Et en millisecondes,\r\nsur deux lignes"
    assert reasons(outs) == ["missing_field", "bad_timestamp", "invalid_value", "wrong_type",
                             "not_utf8"]
    raw = [p.raw for p, o in outs if p.fields is None]
    assert raw[-1] == b"f-1009,2024-06-03 10:24:00,l\xe9a,5,latin-1 bytes,,fr"  # exact bytes


def test_jsonl_with_map_specs() -> None:
    fm = tabular.build([JSONL_MAP], platform="news")
    outs = outcomes(TabularMapper(fm, csv=False), G / "posts.jsonl")
    evs = events(outs)
    assert [e["id"] for e in evs] == ["n-1", "n-2", "n-3", "n-4"]
    assert evs[0]["created_at"] == "2024-06-03T08:12:05.123Z" and evs[0]["platform"] == "news"
    assert evs[1]["author"] == {"id": "marc_l", "handle": "marc_l", "followers": 84210,
                                "verified": True}
    assert evs[1]["hashtags"] == ["SGpanne", "banque"]
    assert [o.index for p, o in outs if p.line == 3] == [0, 1]  # one line, two posts
    assert reasons(outs) == ["missing_field", "wrong_type", "not_an_object", "invalid_json"]


def test_an_unmapped_id_is_a_stable_digest_of_the_post(tmp_path: Path) -> None:
    fm = tabular.build(["text=t,created_at=c,author.handle=a"])
    path = tmp_path / "one.jsonl"
    path.write_bytes(b'{"t": "x", "c": 1717402325, "a": "bob"}\n')
    first = events(outcomes(TabularMapper(fm, csv=False), path))[0]["id"]
    assert first == events(outcomes(TabularMapper(fm, csv=False), path))[0]["id"]
    assert len(first) == 32


@pytest.mark.parametrize(("specs", "message"), [
    (["text=body"], "the mapping needs created_at, author.handle"),
    (["text=body,created_at=ts,author.handle=u,colour=c"], "unknown target field 'colour'"),
    (["text"], "--map expects TARGET=SOURCE pairs"),
    (["text=,created_at=ts"], "--map expects TARGET=SOURCE pairs"),
])
def test_bad_mappings(specs: list[str], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        tabular.build(specs)


def test_bad_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read mapping file"):
        tabular.build([], str(tmp_path / "nope.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[map\n")
    with pytest.raises(MappingError, match="is not TOML"):
        tabular.build([], str(bad))
    bad.write_text('[mapping]\ntext = "b"\n')
    with pytest.raises(MappingError, match="unknown keys mapping"):
        tabular.build([], str(bad))
    bad.write_text('tz = "Mars/Olympus"\n[map]\ntext="b"\ncreated_at="c"\n"author.id"="a"\n')
    with pytest.raises(MappingError, match="unknown time zone"):
        tabular.build([], str(bad))
