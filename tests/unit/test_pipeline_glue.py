"""Pure helpers of the agents' glue: internal message batching and eager ticks."""

from __future__ import annotations

import orjson

from streams.aggregate.bucket import BucketAgg
from streams.engine.messages import closes_bucket, partial_messages, partials_of, tick_doc


def test_a_watermark_crossing_a_bucket_close_asks_for_a_tick() -> None:
    b, late = 60, 120
    assert not closes_bucket(1000.0, 1010.0, b, late)  # same bucket minus lateness
    assert closes_bucket(1000.0 + late - 1, 1020.0 + late, b, late)  # 1020 starts a bucket
    assert closes_bucket(0.0, 5000.0, b, late)
    assert not closes_bucket(5000.0, 5000.0, b, late)
    assert not closes_bucket(5000.0, 4000.0, b, late)  # a watermark never goes back


def test_partials_travel_one_message_per_partition_and_come_back_whole() -> None:
    parts = [BucketAgg(watch=w, bucket_start=b, count=n)
             for n, (w, b) in enumerate([("a", 0), ("b", 0), ("a", 60), ("c", 60)], 1)]
    owner = {"a": 1, "b": 0, "c": 1}
    msgs = partial_messages(parts, owner.__getitem__)
    assert [p for p, _ in msgs] == [0, 1]
    back = {p: partials_of(orjson.loads(v)) for p, v in msgs}
    assert back[0] == [parts[1]] and back[1] == [parts[0], parts[2], parts[3]]


def test_ticks_say_which_input_partitions_still_have_records_to_read() -> None:
    doc = tick_doc(10.0, {0: 500.0, 1: 400.0}, {0: 100, 1: 50, 2: None, 3: 7, 4: 0},
                   {0: 99, 1: 20}, {3: 7, 2: None})
    assert doc["wm"] == {"0": 500.0, "1": 400.0, "2": None, "3": None, "4": None}
    # 0 processed to its end; 1 is behind; 2's end is unknown; 3 was fully read before a
    # restart (committed = end); 4 is empty
    assert doc["busy"] == ["1", "2"]


def test_held_global_counts_equal_the_merge_of_the_partials_they_replace() -> None:
    from dataclasses import replace

    from streams.aggregate.bucket import GLOBAL, merge_all
    from streams.engine.messages import GlobalCounts

    held_counts = GlobalCounts()
    parts = [BucketAgg(watch=GLOBAL, bucket_start=b, count=n, max_created=b + n,
                       max_arrival=float(n), hashtags=tags, sources={"0": n})
             for b, n, tags in [(0, 3, {"a": 2, "b": 1}), (60, 1, {"a": 1}),
                                (0, 2, {"b": 2, "c": 1})]]
    for p in parts:
        held_counts.hold(p)
    held = held_counts.take()
    assert held_counts.take() == []  # emptied
    want = [replace(merge_all(p for p in parts if p.bucket_start == b), sources={})
            for b in (0, 60)]
    assert held == want
