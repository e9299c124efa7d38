"""Pure part of the Tansu end-offset shim: how a reported offset is corrected."""

from __future__ import annotations

from aiokafka.structs import TopicPartition
from hypothesis import given
from hypothesis import strategies as st

from streams.worker.kafka_shim import corrected_end_offsets

TP0 = TopicPartition("t", 0)
TP1 = TopicPartition("t", 1)


def test_too_small_offset_is_raised_to_the_high_watermark() -> None:
    """Tansu's base + 1 (11) becomes the fetched high watermark (15)."""
    assert corrected_end_offsets({TP0: (11, None)}, {TP0: 15}) == {TP0: (15, None)}


def test_correct_or_larger_offsets_are_kept() -> None:
    """The shim never lowers an offset, and keeps the timestamp."""
    reported = {TP0: (15, 7), TP1: (9, None)}
    assert corrected_end_offsets(reported, {TP0: 15, TP1: 3}) == reported


def test_unknown_offsets_and_missing_partitions_are_untouched() -> None:
    """UNKNOWN (-1) stays unknown; partitions absent from either side are not invented."""
    reported = {TP0: (-1, None)}
    assert corrected_end_offsets(reported, {TP0: 5, TP1: 8}) == reported
    assert corrected_end_offsets({TP1: (2, None)}, {}) == {TP1: (2, None)}


offsets = st.dictionaries(st.sampled_from([TP0, TP1]), st.integers(-1, 10_000), max_size=2)


@given(offsets, offsets)
def test_result_is_the_max_of_both_for_known_offsets(reported_raw: dict[TopicPartition, int],
                                                     highwaters: dict[TopicPartition, int]) -> None:
    """For every reported partition: max(reported, high watermark) unless reported is unknown."""
    reported = {tp: (offset, None) for tp, offset in reported_raw.items()}
    result = corrected_end_offsets(reported, highwaters)
    assert result.keys() == reported.keys()
    for tp, (offset, _) in reported.items():
        expected = offset if offset < 0 else max(offset, highwaters.get(tp, offset))
        assert result[tp] == (expected, None)
