"""The one dataclass <-> JSON helper: generated per class, lossless, tolerant of old data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams import codec
from streams.aggregate.bucket import AuthorRef, BucketAgg, PostRef
from streams.alerts.lifecycle import Incident, Lifecycle
from streams.engine.watch import WatchState, Window


@dataclass(frozen=True)
class Inner:
    name: str
    marks: tuple[float, ...] = ()


@dataclass(frozen=True)
class Outer:
    id: int
    inner: Inner
    maybe: Inner | None = None
    by_name: Mapping[str, Inner] = field(default_factory=dict)
    by_pair: Mapping[tuple[str, str | None], int] = field(default_factory=dict)
    rows: tuple[tuple[int, float | None], ...] = ()
    cache: int | None = field(default=None, compare=False, metadata=codec.TRANSIENT)
    derived: int = field(default=0, init=False, compare=False)
    CODEC_KEYS: ClassVar[Mapping[str, str]] = {"inner": "i"}


def test_nested_optional_mapping_and_tuple_keys_round_trip() -> None:
    o = Outer(1, Inner("a", (1.5, 2.0)), None, {"x": Inner("x")},
              {("trending_hashtag", "rugby"): 3, ("volume_spike", None): 1}, ((1, None), (2, 0.5)),
              cache=7)
    doc = orjson.loads(codec.dumps(o))
    assert doc["i"] == {"name": "a", "marks": [1.5, 2.0]}  # the short key
    assert "cache" not in doc and "derived" not in doc  # caches are not state
    assert doc["by_pair"] == [[["trending_hashtag", "rugby"], 3], [["volume_spike", None], 1]]
    back = codec.loads(Outer, codec.dumps(o))
    assert back == o and back.cache is None
    assert isinstance(back.rows[0], tuple) and isinstance(back.inner.marks, tuple)


def test_old_data_reads_with_defaults_and_unknown_keys_are_ignored() -> None:
    back = codec.decode(Outer, {"id": 2, "i": {"name": "b"}, "gone": 1})
    assert back == Outer(2, Inner("b"))
    with pytest.raises(KeyError):
        codec.decode(Outer, {"i": {"name": "b"}})  # a field without default is required


def test_an_unsupported_type_is_refused_when_the_codec_is_built() -> None:
    @dataclass(frozen=True)
    class Bad:
        x: set[int]

    with pytest.raises(TypeError, match="unsupported"):
        codec.encoder(Bad)


_posts = st.builds(PostRef, st.text(max_size=5), st.just("x"), st.text(max_size=5),
                   st.integers(0, 10**9), st.sampled_from(["journalist", "ordinary"]),
                   st.text(max_size=20), st.none() | st.just("https://x/1"),
                   st.floats(0, 2e9), st.integers(0, 10**9), st.none() | st.floats(-1, 1))


@given(st.integers(0, 10**6), st.dictionaries(st.text(max_size=8), st.integers(1, 9), max_size=5),
       st.lists(_posts, max_size=5), st.lists(st.integers(0, 2**64 - 1), max_size=5))
def test_bucket_aggregates_round_trip(n: int, tags: dict[str, int], posts: list[PostRef],
                                      hashes: list[int]) -> None:
    agg = BucketAgg(watch="w", bucket_start=60, count=n, hashtags=tags, top_posts=tuple(posts),
                    author_hashes=tuple(sorted(set(hashes))),
                    top_authors=(AuthorRef("a", 3, "ordinary", 1),), sources={"0": 5})
    assert codec.loads(BucketAgg, codec.dumps(agg)) == agg
    doc = codec.encode(agg)
    assert doc["w"] == "w" and doc["n"] == n  # the wire form is short
    assert all(isinstance(p, list) and len(p) == 10 for p in doc["tp"])  # rows: arrays


def test_a_watch_state_with_incidents_round_trips() -> None:
    inc = Incident("id", 60, "warning", 2, 120.0, 3.0, 4.0, (100.0, 120.0), None, 110.0)
    ws = WatchState(watch="w", first_bucket=0, last_closed=60,
                    lifecycles={("volume_spike", None): Lifecycle(inc, 0.0),
                                ("trending_hashtag", "rugby"): Lifecycle(None, 900.0)},
                    windows={("volume_spike", None): Window(BucketAgg("w", 60, 5), 2.5)},
                    history=((0, 3, 2.0, None, None), (60, 5, 2.5, 0.2, -0.1)))
    assert codec.loads(WatchState, codec.dumps(ws)) == ws
