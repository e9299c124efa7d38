"""Contracts: the examples against the JSON Schemas, and the Python side against the schemas."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.aggregate.bucket import (
    FIRST_MOVERS,
    SENTIMENT_NEG,
    SENTIMENT_POS,
    TEXT_CHARS,
    TOP_AUTHORS,
    TOP_POSTS,
    AuthorRef,
    BucketAgg,
    PostRef,
    author_hash,
    merge_all,
)
from streams.alerts.build import build_alert
from streams.alerts.lifecycle import alert_id
from streams.events import model
from streams.events.decode import DeadLetter, Limits, dead_letter_record, decode_record
from streams.events.model import InvalidEvent
from streams.events.parse import parse_event
from streams.events.schemas import schema, validator
from streams.text.normalize import extract_hashtags, fold_tag
from streams.watches.kinds import AUTHOR_KINDS

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
SCHEMAS = ("social-event.v1", "alert.v1", "signal.v1", "alert.v2", "dead-letter.v1")
T0 = 1_717_394_400  # 2024-06-03T06:00:00Z


def _examples(name: str, kind: str) -> list[Path]:
    return sorted((EXAMPLES / name / kind).glob("*.json"))


def _cases(kind: str, names: tuple[str, ...] = SCHEMAS) -> list[Any]:
    return [pytest.param(n, p, id=f"{n}/{kind}/{p.stem}") for n in names
            for p in _examples(n, kind)]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _schema_ok(name: str, doc: Any) -> bool:
    return validator(name).is_valid(doc)


def _model_ok(doc: Any) -> bool:
    try:
        parse_event(doc)
    except InvalidEvent:
        return False
    return True


# ---------------------------------------------------------------- 1. examples vs schemas

@pytest.mark.parametrize("name", SCHEMAS)
def test_every_contract_has_valid_and_invalid_examples(name: str) -> None:
    assert len(_examples(name, "valid")) >= 3
    assert len(_examples(name, "invalid")) >= 8


def test_validator_checks_date_time_format() -> None:
    # without rfc3339-validator jsonschema silently skips "date-time": the examples would lie
    assert not validator("dead-letter.v1").format_checker.conforms("2024-02-30T00:00:00Z",
                                                                   "date-time")


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    doc = schema(name)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    type(validator(name)).check_schema(doc)


@pytest.mark.parametrize(("name", "path"), _cases("valid"))
def test_valid_example_validates(name: str, path: Path) -> None:
    errors = [e.message for e in validator(name).iter_errors(_load(path))]
    assert errors == []


@pytest.mark.parametrize(("name", "path"), _cases("invalid"))
def test_invalid_example_fails(name: str, path: Path) -> None:
    assert not _schema_ok(name, _load(path))


# ---------------------------------------------------------------- 2. examples vs parse_event

@pytest.mark.parametrize(("name", "path"), _cases("valid", ("social-event.v1",)))
def test_valid_event_example_parses(name: str, path: Path) -> None:
    ev = parse_event(_load(path))
    assert ev.id == _load(path)["id"]


@pytest.mark.parametrize(("name", "path"), _cases("invalid", ("social-event.v1",)))
def test_invalid_event_example_rejected(name: str, path: Path) -> None:
    with pytest.raises(InvalidEvent) as exc:
        parse_event(_load(path))
    assert exc.value.reason in {"not_an_object", "missing_field", "wrong_type", "invalid_value",
                                "bad_timestamp"}


def test_model_patterns_are_the_schema_patterns() -> None:
    props = schema("social-event.v1")["properties"]
    assert model.TS_RE.pattern == props["created_at"]["pattern"]
    assert model.TS_RE.pattern == props["author"]["properties"]["created_at"]["pattern"]
    assert model.PLATFORM_RE.pattern == props["platform"]["pattern"]
    assert model.LANG_RE.pattern == props["lang"]["pattern"]


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-06-03T08:12:05Z", T0 + 2 * 3600 + 12 * 60 + 5),
    ("2024-06-03T10:12:05+02:00", T0 + 2 * 3600 + 12 * 60 + 5),
    ("2024-06-03t08:12:05z", T0 + 2 * 3600 + 12 * 60 + 5),
    # nanoseconds with an offset: the offset must survive the fraction truncation
    ("2024-06-03T04:12:05.123456789-04:00", T0 + 2 * 3600 + 12 * 60 + 5.123456),
    ("2024-06-03T08:12:05.5+00:00", T0 + 2 * 3600 + 12 * 60 + 5.5),
])
def test_parse_ts_value(value: str, expected: float) -> None:
    assert model.parse_ts(value, "created_at") == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("key", "limit"), [("text", 20_000), ("id", 256)])
def test_string_length_limits_agree(key: str, limit: int) -> None:
    base = _load(EXAMPLES / "social-event.v1" / "valid" / "minimal.json")
    at_limit = {**base, key: "é" * limit}
    over = {**base, key: "é" * (limit + 1)}
    assert _schema_ok("social-event.v1", at_limit) and _model_ok(at_limit)
    assert not _schema_ok("social-event.v1", over) and not _model_ok(over)


# ---------------------------------------------------------------- 3. parse_event == schema

_LENGTHS = (0, 1, 2, 3, 31, 32, 33, 256, 257, 280, 281, 2048, 2049, 5000, 5001, 20_000, 20_001)
# A valid timestamp with up to three of its parts swapped for an edge case.
_TS_SLOTS = (
    ("2024-06-03", "2024-02-29", "2023-02-29", "2024-02-30", "2024-06-31", "2024-13-01",
     "2024-00-10", "0000-01-01", "0001-01-01", "9999-12-31", "24-06-03", "2024-6-3",
     "２０２４-06-03", "2024/06/03"),
    ("T", "t", " ", "_", ""),
    ("08", "00", "23", "24", "9"),
    (":12", ":59", ":60", ""),
    (":05", ":59", ":60", ":61", ""),
    ("", ".", ".1", ".123456", ".1234567", ".123456789", ".1234567890", ",5"),
    ("Z", "z", "", "+00:00", "-00:00", "+02:00", "-04:30", "+23:59", "-23:59", "+24:00",
     "+01:60", "+0100", "+01", "UTC", "Z+01:00"),
    ("", "\n", " ", "Z", "\r", "\n\n"),
)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """An RFC 3339-ish timestamp, usually one or two edits away from a valid one."""
    parts = [slot[0] for slot in _TS_SLOTS]
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(_TS_SLOTS) - 1))
        parts[i] = draw(st.sampled_from(_TS_SLOTS[i]))
    return "".join(parts)


_TIMESTAMPS = timestamps()
_LANGS = st.one_of(
    st.sampled_from(["fr", "fr-FR", "en_US", "zh-Hant-TW", "und", "f", "french", "fr-", "FR",
                     "fr\n", "en-abcdefgh-abcdefgh-abcdefgh-ab",  # 32 chars: the limit
                     "en-abcdefgh-abcdefgh-abcdefgh-abc", "fr-abcdefghi", "é", ""]),
    st.from_regex(r"[A-Za-z]{1,4}([-_][A-Za-z0-9]{0,9}){0,5}\n?", fullmatch=True),
)
_PLATFORMS = st.one_of(
    st.sampled_from(["x", "twitter", "Twitter", "a" * 32, "a" * 33, "a" * 32 + "\n", "x\n",
                     "", "my-platform", "news_fr", "ｘ"]),
    st.from_regex(r"[a-zA-Z0-9_ -]{0,34}\n?", fullmatch=True),
)
_NUMBERS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([10_000_000_000, 10_000_000_001, -10_000_000_001, 2**63, 10**400, -(10**400)]),
    st.floats(allow_nan=False),  # NaN is not JSON: orjson rejects the literal (see test_ingest)
    st.sampled_from([0.0, -0.0, 3.0, 0.5, 1.0, -1.0, 1.0000001, -1.0000001, 1e10, 1e10 + 1,
                     float("inf"), float("-inf")]),
)
_SIZED = st.tuples(st.sampled_from(_LENGTHS), st.sampled_from(["a", "é", "😀", " "])).map(
    lambda t: t[1] * t[0])
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, st.text(max_size=12), _SIZED,
                     _TIMESTAMPS, _LANGS, _PLATFORMS)
_LISTS = st.one_of(
    st.lists(st.one_of(st.text(max_size=6), _SIZED, st.none(), st.integers(0, 9)), max_size=4),
    st.tuples(st.sampled_from([99, 100, 101, 1000]), st.sampled_from(["tag", "", "é" * 281]))
    .map(lambda t: [t[1]] * t[0]),
)
_VALUES = st.recursive(
    st.one_of(_SCALARS, _LISTS),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)
_KNOWN_PATHS = (
    ("id",), ("platform",), ("created_at",), ("author",), ("text",), ("lang",), ("url",),
    ("hashtags",), ("mentions",), ("urls",), ("reply_to",), ("repost_of",), ("metrics",),
    ("sentiment",), ("author", "id"), ("author", "handle"), ("author", "followers"),
    ("author", "verified"), ("author", "bio"), ("author", "created_at"),
    ("metrics", "likes"), ("metrics", "reposts"), ("metrics", "replies"),
)
_VALID_EVENTS = [_load(p) for p in _examples("social-event.v1", "valid")]


_FIELD_VALUES = {
    "created_at": _TIMESTAMPS, "lang": _LANGS, "platform": _PLATFORMS,
    "followers": _NUMBERS, "likes": _NUMBERS, "reposts": _NUMBERS, "replies": _NUMBERS,
    "sentiment": _NUMBERS, "hashtags": _LISTS, "mentions": _LISTS, "urls": _LISTS,
    "id": _SIZED, "handle": _SIZED, "text": _SIZED, "bio": _SIZED, "url": _SIZED,
    "reply_to": _SIZED, "repost_of": _SIZED,
}


def _value_for(draw: st.DrawFn, path: tuple[Any, ...]) -> Any:
    """Mostly an edge case of the field's own kind, else anything."""
    special = _FIELD_VALUES.get(path[-1]) if isinstance(path[-1], str) else None
    if special is not None and draw(st.booleans()):
        return draw(special)
    return draw(_VALUES)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _parent(doc: dict[str, Any], path: tuple[Any, ...], create: bool) -> Any:
    node: Any = doc
    for key in path[:-1]:
        if create and (not isinstance(node.get(key), dict)):
            node[key] = {}
        node = node[key]
    return node


@st.composite
def event_like(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with 1 to 4 random mutations applied."""
    doc = copy.deepcopy(draw(st.sampled_from(_VALID_EVENTS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "replace", "set_known", "add_unknown"]))
        existing = sorted(_paths(doc), key=repr)
        if op in ("delete", "replace") and existing:
            path = draw(st.sampled_from(existing))
            parent = _parent(doc, path, create=False)
            if op == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent[path[-1]] = _value_for(draw, path)
        elif op == "set_known" or not existing:
            path = draw(st.sampled_from(_KNOWN_PATHS))
            _parent(doc, path, create=True)[path[-1]] = _value_for(draw, path)
        else:
            holders = [p for p in [(), ("author",), ("metrics",)]
                       if isinstance(_get(doc, p), dict)]
            holder = _get(doc, draw(st.sampled_from(holders)))
            holder[draw(st.text(min_size=1, max_size=10))] = draw(_VALUES)
    return doc


def _get(doc: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = doc
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


@settings(max_examples=1500, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(event_like())
def test_parse_event_accepts_iff_schema_accepts(doc: dict[str, Any]) -> None:
    schema_ok = _schema_ok("social-event.v1", doc)
    model_ok = _model_ok(doc)  # any other exception than InvalidEvent fails the test
    if schema_ok != model_ok:
        errors = [e.message[:200] for e in validator("social-event.v1").iter_errors(doc)]
        pytest.fail(f"schema={schema_ok} model={model_ok} errors={errors} doc={doc!r:.2000}")


def test_mutations_reach_both_outcomes() -> None:
    # guards the property above against a generator that only ever produces one verdict
    seen: set[bool] = set()

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(event_like())
    def collect(doc: dict[str, Any]) -> None:
        seen.add(_schema_ok("social-event.v1", doc))

    collect()
    assert seen == {True, False}


# ---------------------------------------------------------------- 4. build_alert vs signal.v1

def _post(i: int, *, kind: str = "ordinary", sentiment: float | None = -0.4,
          text: str = "Appli SG en panne, impossible de payer #SGpanne") -> PostRef:
    return PostRef(f"p{i}", "x", f"user{i}", 100 * i, kind, text,
                   None if i % 2 else f"https://x.com/user{i}/status/{i}", T0 + 60.0 * i,
                   100 * i + 7, sentiment)


def _agg(**kw: Any) -> BucketAgg:
    return BucketAgg(watch="societe_generale", bucket_start=T0, **kw)


def _alert(window: BucketAgg, status: str, *, sequence: int = 0, severity: str = "warning",
           baseline: float = 12.0, latency_s: float | None = 1.5,
           alert_type: str = "volume_spike", watch_name: str = "Société Générale",
           score: float = 0.8) -> dict[str, Any]:
    return build_alert(
        alert_id=alert_id(window.watch, alert_type, T0), alert_type=alert_type, status=status,
        severity=severity, sequence=sequence,
        reason={"open": "onset", "update": "escalation", "resolved": "back_to_normal"}[status],
        watch_id=window.watch, watch_name=watch_name, opened_bucket=T0,
        event_ts=T0 + 300.0 * (sequence + 1), window=window, bucket_s=300, baseline=baseline,
        score=score, peak=float(window.count), emitted_s=T0 + 300.0 * (sequence + 1) + 2.25,
        latency_s=latency_s)


def _assert_alert_valid(doc: dict[str, Any]) -> None:
    wire = orjson.loads(orjson.dumps(doc))  # what a subscriber actually reads
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}"
              for e in validator("signal.v1").iter_errors(wire)]
    assert errors == []
    assert wire["dedup_key"] == f"{wire['alert_id']}:{wire['sequence']}"


FULL_WINDOW = _agg(
    count=214, reach=611_204, reposts=71, replies=42, negative=141, neutral=52, positive=9,
    sentiment_sum=-88.7, negative_reach=500_000, max_created=T0 + 290.0,
    author_hashes=tuple(sorted(author_hash(f"a{i}") for i in range(187))),
    hashtags={"sgpanne": 96, "banque": 31, "societegenerale": 18},
    langs={"fr": 201, "en": 9, "und": 4},
    top_posts=tuple(_post(i, kind=k) for i, k in enumerate(AUTHOR_KINDS[:TOP_POSTS], 1)),
    first_movers=tuple(_post(i) for i in range(1, FIRST_MOVERS + 1)),
    top_authors=tuple(AuthorRef(f"user{i}", 100 * i, k, i)
                      for i, k in enumerate(AUTHOR_KINDS, 1)),
)


@pytest.mark.parametrize(("status", "sequence", "severity"), [
    ("open", 0, "warning"), ("update", 1, "crisis"), ("update", 7, "watch"),
    ("resolved", 8, "crisis"),
])
def test_built_alert_validates(status: str, sequence: int, severity: str) -> None:
    doc = _alert(FULL_WINDOW, status, sequence=sequence, severity=severity)
    _assert_alert_valid(doc)
    assert ("resolved_at" in doc) == (status == "resolved")


@pytest.mark.parametrize("window", [
    pytest.param(_agg(), id="empty-window"),
    pytest.param(_agg(count=3, reach=10, author_hashes=(1, 2, 3)), id="no-sentiment"),
    pytest.param(_agg(count=2, neutral=2, top_posts=(_post(1, sentiment=None),)),
                 id="neutral-only-unscored-post"),
    pytest.param(_agg(count=1, negative=1, sentiment_sum=-1.0,
                      top_posts=(_post(1, sentiment=-1.0, text="é" * TEXT_CHARS),)),
                 id="extreme-sentiment-max-text"),
    pytest.param(_agg(count=10**12, reach=10**15, positive=10**12, sentiment_sum=1e12,
                      author_hashes=tuple(range(1, 300))),
                 id="huge-counts-kmv-estimate"),
])
@pytest.mark.parametrize("status", ["open", "update", "resolved"])
def test_built_alert_edge_windows_validate(window: BucketAgg, status: str) -> None:
    _assert_alert_valid(_alert(window, status, sequence=0 if status == "open" else 2))


@pytest.mark.parametrize(("baseline", "latency_s"), [(0.0, None), (-3.0, -1.0), (1e-9, 0.0)])
def test_built_alert_degenerate_baseline_and_latency(baseline: float,
                                                     latency_s: float | None) -> None:
    _assert_alert_valid(_alert(FULL_WINDOW, "open", baseline=baseline, latency_s=latency_s))


def test_summary_stays_within_contract_with_long_hashtags() -> None:
    # hashtags extracted from text are unbounded (only upstream `hashtags` items are <= 280)
    tags = extract_hashtags(" ".join("#" + c * 400 for c in "abc"))
    window = _agg(count=500, negative=400, sentiment_sum=-300.0,
                  hashtags={fold_tag(t): 100 for t in tags})
    _assert_alert_valid(_alert(window, "open", watch_name="Société Générale — banque de détail"))



def test_ratio_stays_finite_for_a_tiny_baseline() -> None:
    _assert_alert_valid(_alert(FULL_WINDOW, "open", baseline=5e-324))


_KINDS = st.sampled_from(AUTHOR_KINDS)
_SENTIMENT = st.one_of(st.none(), st.floats(-1.0, 1.0))
_POSTS = st.builds(
    PostRef,
    id=st.text(min_size=1, max_size=12), platform=st.sampled_from(["x", "facebook", "news"]),
    author=st.text(min_size=1, max_size=20), followers=st.integers(0, 10**10), kind=_KINDS,
    text=st.text(max_size=TEXT_CHARS), url=st.one_of(st.none(), st.text(max_size=40)),
    created_at=st.floats(T0, T0 + 299.999), reach=st.integers(0, 4 * 10**10),
    sentiment=_SENTIMENT,
)


@st.composite
def partial_agg(draw: st.DrawFn) -> BucketAgg:
    """A partial aggregate shaped as enrich builds it: counts consistent with its posts."""
    sentiments = draw(st.lists(st.floats(-1.0, 1.0), max_size=30))
    posts = draw(st.lists(_POSTS, max_size=8, unique_by=lambda p: p.id))
    count = len(sentiments) + draw(st.integers(0, 50))
    authors = draw(st.lists(st.text(max_size=8), max_size=400))
    return _agg(
        count=count, reach=draw(st.integers(0, 10**12)), reposts=draw(st.integers(0, count)),
        replies=draw(st.integers(0, count)),
        negative=sum(s <= SENTIMENT_NEG for s in sentiments),
        positive=sum(s >= SENTIMENT_POS for s in sentiments),
        neutral=sum(SENTIMENT_NEG < s < SENTIMENT_POS for s in sentiments),
        sentiment_sum=sum(sentiments),
        author_hashes=tuple(sorted({author_hash(a) for a in authors}))[:256],
        hashtags=draw(st.dictionaries(st.text(min_size=1, max_size=30), st.integers(1, 10**6),
                                      max_size=60)),
        langs=draw(st.dictionaries(st.sampled_from(["fr", "en", "es", "de", "und", "ar"]),
                                   st.integers(1, 10**6), max_size=6)),
        top_posts=tuple(sorted(posts, key=PostRef.rank)[:TOP_POSTS]),
        first_movers=tuple(sorted(posts, key=lambda p: (p.created_at, p.id))[:FIRST_MOVERS]),
        top_authors=tuple(draw(st.lists(
            st.builds(AuthorRef, handle=st.text(min_size=1, max_size=15),
                      followers=st.integers(0, 10**10), kind=_KINDS, posts=st.integers(1, 99)),
            max_size=TOP_AUTHORS, unique_by=lambda a: a.handle))),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(partial_agg(), min_size=1, max_size=3),
       status=st.sampled_from(["open", "update", "resolved"]),
       severity=st.sampled_from(["watch", "warning", "crisis"]),
       alert_type=st.sampled_from(["volume_spike", "sentiment_shift", "trending_hashtag",
                                   "influencer_engaged", "bad_buzz", "mobilisation"]),
       # detectors floor their expected count; build.py guards a tiny one
       baseline=st.just(0.0) | st.floats(1e-6, 1e7), score=st.floats(-1.0, 2.0),
       latency_s=st.one_of(st.none(), st.floats(-5.0, 3600.0)),
       watch_name=st.text(min_size=1, max_size=60))
def test_alert_from_any_aggregate_validates(parts: list[BucketAgg], status: str, severity: str,
                                            alert_type: str, baseline: float, score: float,
                                            latency_s: float | None, watch_name: str) -> None:
    window = merge_all(parts)
    assert window is not None
    doc = _alert(window, status, sequence=0 if status == "open" else 3, severity=severity,
                 baseline=baseline, latency_s=latency_s, alert_type=alert_type,
                 watch_name=watch_name, score=score)
    _assert_alert_valid(doc)


# ---------------------------------------------------------------- 5. dead letters

LIMITS = Limits()
NOW = T0 + 3600.0
GOOD = {"id": "1", "platform": "x", "created_at": "2024-06-03T06:59:00Z",
        "author": {"id": "9", "handle": "jdupont", "followers": 3, "verified": False},
        "text": "toujours en panne"}


def _dead(value: bytes | None) -> tuple[DeadLetter, ...]:
    return decode_record(value, LIMITS, NOW, NOW - 60.0).dead


@pytest.mark.parametrize("value", [
    pytest.param(b'{"id": "1", "platform":', id="invalid-json"),
    pytest.param('{"text": "Société Générale"}'.encode("latin-1"), id="latin-1"),
    pytest.param(b"\xff\xfe\x00{", id="binary"),
    pytest.param(b"", id="empty"),
    pytest.param(None, id="tombstone"),
    pytest.param(b"[]", id="empty-batch"),
    pytest.param(orjson.dumps([GOOD, {**GOOD, "text": 1}, "x", {**GOOD, "created_at": "é"}]),
                 id="array-with-bad-elements"),
    pytest.param(orjson.dumps({**GOOD, "author": None}), id="single-object"),
])
def test_dead_letter_docs_validate(value: bytes | None) -> None:
    dead = _dead(value)
    assert dead
    for i, dl in enumerate(dead):
        doc = dead_letter_record(dl, "social.events", 3, 1_048_576 + i, NOW + 0.25)
        wire = orjson.loads(orjson.dumps(doc))
        assert [e.message for e in validator("dead-letter.v1").iter_errors(wire)] == []
        raw = (base64.b64decode(wire["payload"]) if wire["payload_encoding"] == "base64"
               else wire["payload"].encode("utf-8"))
        assert raw == dl.payload
        assert wire["payload_bytes"] == len(dl.payload)


def test_non_utf8_payload_is_base64() -> None:
    value = '{"text": "Société Générale"}'.encode("latin-1")
    (dl,) = _dead(value)
    doc = dead_letter_record(dl, "social.events", 0, 77, NOW)
    assert (dl.reason, doc["payload_encoding"]) == ("not_utf8", "base64")
    assert base64.b64decode(doc["payload"]) == value
    assert doc["source"] == {"topic": "social.events", "partition": 0, "offset": 77,
                             "index": None}


def test_array_element_dead_letter_keeps_its_index() -> None:
    value = orjson.dumps([GOOD, {**GOOD, "author": {"id": "9"}}])
    (dl,) = _dead(value)
    doc = dead_letter_record(dl, "social.events", 1, 5, NOW)
    assert doc["source"]["index"] == 1
    assert doc["payload_encoding"] == "utf-8"
    assert orjson.loads(doc["payload"]) == {**GOOD, "author": {"id": "9"}}


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=300), reason=st.sampled_from(
    schema("dead-letter.v1")["properties"]["reason"]["enum"]),
    index=st.one_of(st.none(), st.integers(0, 10_000)), offset=st.integers(0, 2**62),
    received_s=st.floats(0.0, 4e9))
def test_any_dead_letter_validates(payload: bytes, reason: str, index: int | None,
                                   offset: int, received_s: float) -> None:
    doc = dead_letter_record(DeadLetter(reason, "detail", payload, index), "social.events", 0,
                             offset, received_s)
    wire = orjson.loads(orjson.dumps(doc))
    assert [e.message for e in validator("dead-letter.v1").iter_errors(wire)] == []
