"""Every Kafka topic Vigie reads or writes, declared once."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.partitioner import murmur2


@dataclass(frozen=True)
class TopicSpec:
    """A topic name with its role; partitions come from settings."""

    name: str
    role: str
    internal: bool = False


EVENTS = TopicSpec("social.events", "input: one social-event.v1 object or a JSON array of them")
DLQ = TopicSpec("social.events.dlq", "dead letters: bad records and late events, with a reason")
ALERTS = TopicSpec("social.alerts",
                   "output for crisis cells: alert.v2 situations (one per watch at a time), keyed "
                   "by watch id")
SIGNALS = TopicSpec("social.signals",
                    "output for machines: signal.v1, every detector's own incidents (volume, "
                    "sentiment, bad buzz, influencers, trends, campaigns), keyed by watch id")
PARTIALS = TopicSpec(
    "vigie.watch-partials",
    "internal: per-watch partial bucket aggregates, re-keyed by watch id",
    internal=True,
)

ALL: tuple[TopicSpec, ...] = (EVENTS, DLQ, ALERTS, SIGNALS, PARTIALS)


def names() -> tuple[str, ...]:
    """Names of every topic, in creation order."""
    return tuple(t.name for t in ALL)


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a key (murmur2, as the Java client)."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
