"""Client-side fix for Tansu's too-small ListOffsets(latest), for embedded mode only.

Why: Tansu 0.6 answers ListOffsets(latest) with the newest batch's base offset + 1 instead of
base + record count (3 batches of 5 records: 11 instead of 15). Faust builds its changelog
recovery target from ``AIOKafkaConsumer.end_offsets`` and so stops recovery early (lost table
updates) or raises ``ConsistencyError``. Fetch responses carry the right high watermark.

What: ``aiokafka.consumer.fetcher.Fetcher._proc_offset_request`` (aiokafka 0.14.0) is the one
place every ListOffsets request goes through: ``end_offsets()`` (Faust's ``highwaters()``),
``seek_to_end()`` and ``auto_offset_reset="latest"``. The wrapper keeps the answer and, for
partitions asked for "latest", sends one Fetch (max_wait 1 ms) at the reported offset to the same
node and uses ``max(reported, high watermark)``. Faust 0.15.3 needs nothing else: its
``highwater(tp)`` already comes from fetch responses.

Second Tansu fact, same shim: with several partitions in a Fetch, a long poll of 1,500 ms (what
Faust 0.15.3 hard-codes) is not woken by new records for ~450 ms, while a 200 ms one is woken at
once (measured: 451 ms against 3 ms per hop, 8 partitions over 2 topics). Every hop of the
pipeline (input, internal topic) paid it, so ``install`` also caps the Fetcher's
``fetch_max_wait_ms`` at ``TANSU_FETCH_MAX_WAIT_MS``: an idle consumer then polls 5 times a
second, which costs nothing that matters.

Never install it against real Kafka: it is harmless there but costs a round-trip per lookup.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import aiokafka
import aiokafka.errors as kafka_errors
from aiokafka.consumer.fetcher import READ_COMMITTED, Fetcher, OffsetResetStrategy
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.structs import TopicPartition

logger = logging.getLogger(__name__)

_MARKER = "_vigie_tansu_end_offsets_shim"
# The wrapper relies on Fetcher internals (_proc_offset_request, _client, _isolation_level).
_TESTED_AIOKAFKA = "0.14.0"
# A tiny partition budget: we want the high watermark, not the records.
_PARTITION_FETCH_BYTES = 1
# Tansu answers a Fetch with max_wait 0 with no partitions at all; 1 ms costs at most 1 ms.
_FETCH_MAX_WAIT_MS = 1
# Longest Fetch long poll against Tansu (see the module docstring).
TANSU_FETCH_MAX_WAIT_MS = 200


def corrected_end_offsets(
    reported: Mapping[TopicPartition, tuple[int, Any]],
    highwaters: Mapping[TopicPartition, int],
) -> dict[TopicPartition, tuple[int, Any]]:
    """Return reported (offset, timestamp) pairs raised to the fetched high watermark."""
    result = dict(reported)
    for tp, highwater in highwaters.items():
        if tp in result and highwater > result[tp][0] >= 0:
            result[tp] = (highwater, result[tp][1])
    return result


def _latest_partitions(topic_data: Mapping[str, Sequence[tuple[int, int]]]) -> list[TopicPartition]:
    return [TopicPartition(topic, partition)
            for topic, parts in topic_data.items()
            for partition, timestamp in parts
            if timestamp == OffsetResetStrategy.LATEST]


async def _fetch_highwaters(fetcher: Fetcher, node_id: int,
                            offsets: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Ask node_id for each partition's high watermark (or LSO when reading committed)."""
    by_topic: dict[str, list[tuple[int, int, int]]] = {}
    for tp, offset in offsets.items():
        by_topic.setdefault(tp.topic, []).append((tp.partition, offset, _PARTITION_FETCH_BYTES))
    isolation = fetcher._isolation_level
    request = FetchRequest(_FETCH_MAX_WAIT_MS, 0, _PARTITION_FETCH_BYTES * len(offsets), isolation,
                           list(by_topic.items()))
    response = await fetcher._client.send(node_id, request)
    result: dict[TopicPartition, int] = {}
    for topic, partitions in response.topics:
        for partition, error_code, highwater, *rest in partitions:
            if error_code != 0:
                continue
            use_lso = isolation == READ_COMMITTED and response.API_VERSION >= 4
            result[TopicPartition(topic, partition)] = rest[0] if use_lso else highwater
    return result


def _wrap(original: Any) -> Any:
    async def _proc_offset_request(self: Fetcher, node_id: int,
                                   topic_data: Mapping[str, Sequence[tuple[int, int]]]) -> Any:
        reported = await original(self, node_id, topic_data)
        asked = {tp: reported[tp][0] for tp in _latest_partitions(topic_data)
                 if tp in reported and reported[tp][0] >= 0}
        if not asked:
            return reported
        try:
            highwaters = await _fetch_highwaters(self, node_id, asked)
        except kafka_errors.KafkaError as exc:
            logger.warning("tansu_shim_fetch_failed node=%s error=%r", node_id, exc)
            return reported
        missing = sorted(str(tp) for tp in asked if tp not in highwaters)
        if missing:
            logger.warning("tansu_shim_no_highwater node=%s partitions=%s", node_id, missing)
        fixed = corrected_end_offsets(reported, highwaters)
        for tp, offset in asked.items():
            if fixed[tp][0] != offset:
                logger.debug("tansu_shim_corrected tp=%s reported=%s highwater=%s",
                             tp, offset, fixed[tp][0])
        return fixed

    setattr(_proc_offset_request, _MARKER, True)
    _proc_offset_request.__wrapped__ = original  # type: ignore[attr-defined]
    _proc_offset_request.__doc__ = original.__doc__
    return _proc_offset_request


def is_installed() -> bool:
    """Return True if the end-offset shim is active in this process."""
    return bool(getattr(Fetcher._proc_offset_request, _MARKER, False))


def _capped_init(original: Any) -> Any:
    @functools.wraps(original)
    def __init__(self: Fetcher, *args: Any, **kwargs: Any) -> None:
        wait = kwargs.get("fetch_max_wait_ms", TANSU_FETCH_MAX_WAIT_MS)
        kwargs["fetch_max_wait_ms"] = min(wait, TANSU_FETCH_MAX_WAIT_MS)
        original(self, *args, **kwargs)
    return __init__


def install() -> None:
    """Patch aiokafka's Fetcher so 'latest' offsets use the fetched high watermark and long
    polls stay short (idempotent)."""
    if is_installed():
        return
    if aiokafka.__version__ != _TESTED_AIOKAFKA:
        logger.warning("tansu_shim_untested aiokafka=%s tested=%s",
                       aiokafka.__version__, _TESTED_AIOKAFKA)
    Fetcher._proc_offset_request = _wrap(Fetcher._proc_offset_request)
    Fetcher.__init__ = _capped_init(Fetcher.__init__)
    logger.info("tansu_shim_installed target=aiokafka.Fetcher._proc_offset_request,__init__ "
                "fetch_max_wait_ms<=%d", TANSU_FETCH_MAX_WAIT_MS)


def uninstall() -> None:
    """Restore aiokafka's original Fetcher methods (idempotent)."""
    if not is_installed():
        return
    Fetcher._proc_offset_request = Fetcher._proc_offset_request.__wrapped__
    Fetcher.__init__ = Fetcher.__init__.__wrapped__
    logger.info("tansu_shim_uninstalled")


@contextlib.contextmanager
def tansu_end_offsets() -> Iterator[None]:
    """Install the shim for the duration of the block, restoring the prior state after."""
    was_installed = is_installed()
    install()
    try:
        yield
    finally:
        if not was_installed:
            uninstall()
