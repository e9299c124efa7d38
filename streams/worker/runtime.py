"""What a worker builds once at start: settings-derived config, matcher, metrics, validators."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from streams import topics
from streams.aggregate.bucket import GLOBAL, GLOBAL_HASHTAGS, BucketAgg, heaviest
from streams.aggregate.build import KindIndex, Scorer
from streams.aggregate.campaign import CampaignBuilder
from streams.alerts.build import TYPE_LABELS
from streams.alerts.lifecycle import Policy
from streams.detectors import badbuzz, volume
from streams.detectors.suite import DetectorConfigs
from streams.engine.loop import LoopConfig
from streams.events.decode import REASONS, Limits
from streams.events.model import SocialEvent
from streams.metrics import Metrics, catalogue, init_build_info
from streams.settings import Settings
from streams.text.normalize import fold_tag
from streams.watches import roster
from streams.watches.affiliation import Affiliation
from streams.watches.matcher import Watch, WatchMatcher, load_watches

SCHEMA_DIRS = (Path(__file__).resolve().parents[2] / "schemas",)


@cache
def schema(name: str) -> dict[str, Any]:
    """Load a JSON Schema by name (e.g. 'alert.v1') from schemas/ or the installed package."""
    for d in SCHEMA_DIRS:
        p = d / f"{name}.schema.json"
        if p.exists():
            return dict(json.loads(p.read_text()))
    pkg = resources.files("streams") / "schemas" / f"{name}.schema.json"
    return dict(json.loads(pkg.read_text()))


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """A compiled draft 2020-12 validator with format checking."""
    cls = jsonschema.Draft202012Validator
    return cls(schema(name), format_checker=cls.FORMAT_CHECKER)


def default_watches_path() -> str:
    """The bundled demo watches file."""
    return str(resources.files("streams") / "data" / "watches.toml")


def kind_index(watches: tuple[Watch, ...]) -> KindIndex:
    """Listed authors per watch: influencers, roster (employees) and owned accounts."""
    by_watch: dict[str, dict[str, str]] = {}
    for w in watches:
        kinds: dict[str, str] = {}
        for h in w.influencers:
            kinds[fold_tag(h)] = "journalist"
        for h in w.roster:
            kinds[fold_tag(h)] = "employee"
        for h in w.owned_accounts:
            kinds[fold_tag(h)] = "owned"
        by_watch[w.id] = kinds
    return KindIndex(by_watch)


@dataclass
class Clock:
    """Event-time clock of one internal partition: the watermark of every input partition.

    The effective watermark is the minimum over input partitions, as in Flink, so a fast
    partition cannot close a bucket a slower one still feeds. An input partition that is caught
    up (no record left to read) and has not advanced for idle_s follows the wall clock from
    there, so a quiet stream still closes. One with records still to read is slow, not idle:
    it holds buckets open however long it takes (a backlog after a restart, a loaded worker).
    """

    # source -> (watermark or None if nothing read yet, wall time of its last advance, backlog)
    sources: dict[str, tuple[float | None, float, bool]] = field(default_factory=dict)
    first_data_s: float | None = None  # wall time the first watermark of any source was seen

    def observe(self, source: str, watermark_s: float | None, wall_s: float,
                backlog: bool = False) -> None:
        """Record an input partition's watermark (monotonic); None: assigned, nothing read yet;
        backlog: it still has records to read."""
        if watermark_s is not None and self.first_data_s is None:
            self.first_data_s = wall_s
        prev = self.sources.get(source)
        if prev is None or (watermark_s is not None and (prev[0] is None or watermark_s > prev[0])):
            self.sources[source] = (watermark_s, wall_s, backlog)
        else:
            self.sources[source] = (prev[0], prev[1], backlog)

    def effective(self, wall_s: float, idle_s: float) -> float | None:
        """The watermark buckets may close against; None while it is not known yet.

        An assigned input partition that has not delivered anything holds every bucket open
        while it has a backlog, and for idle_s after data started flowing on any partition;
        after that an empty one is ignored.
        """
        marks = []
        for wm, since, backlog in self.sources.values():
            if wm is None:
                # its grace runs from when data started flowing at all (a restart after a
                # quiet spell: the others' first records must not close its buckets)
                if backlog or wall_s - max(since, self.first_data_s or since) < idle_s:
                    return None
                continue
            marks.append(wm if backlog else wm + max(0.0, wall_s - since - idle_s))
        return min(marks) if marks else None


@dataclass
class Runtime:
    """Per-process context shared by the agents of one worker."""

    settings: Settings
    matcher: WatchMatcher
    kinds: KindIndex
    limits: Limits
    loop: LoopConfig
    metrics: Metrics
    scorer: Scorer | None
    last_alerts: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=50))
    input_watermarks: dict[int, float] = field(default_factory=dict)
    input_offsets: dict[int, int] = field(default_factory=dict)  # last processed, per partition
    input_received: dict[int, int] = field(default_factory=dict)  # last handed to the stage
    # global scope, bucket -> [posts, max created, max arrival, {tag: posts}] until a tick
    global_held: dict[int, list[Any]] = field(default_factory=dict)
    ts_memo: dict[str, float] = field(default_factory=dict)  # account creation dates parsed
    published: dict[str, float] = field(default_factory=dict)  # watch -> wall of last view
    unpublished: set[str] = field(default_factory=set)  # watches changed since their view
    clocks: dict[int, Clock] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)  # watch -> partials partition
    # affiliation sources per watch (rosters, bio cues, owned, advocacy URLs): swapped whole
    # by reload_rosters, never mutated
    affiliations: Mapping[str, Affiliation] = field(default_factory=dict)
    base_kinds: KindIndex | None = None  # the kinds from the watches file, before rosters
    rosters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # as last reloaded

    def reload_rosters(self, rosters: Mapping[str, Iterable[str]]) -> None:
        """Swap in the rosters read from the roster file and Redis (added to the config's)."""
        watches = self.matcher.watches
        self.rosters = {w: tuple(handles) for w, handles in rosters.items()}
        self.affiliations = roster.affiliations(watches, self.rosters)
        for w, aff in self.affiliations.items():
            self.metrics.roster_handles.labels(w).set(len(aff.roster))
        base = self.base_kinds if self.base_kinds is not None else self.kinds
        self.base_kinds = base
        self.kinds = roster.with_employees(base, self.rosters)

    def campaign_builder(self) -> CampaignBuilder | None:
        """A fresh per-batch campaign builder (None when the detectors are off)."""
        return None if self.loop.detectors.volume_only else CampaignBuilder(self.affiliations)

    def hold_global(self, partial: BucketAgg) -> None:
        """Keep a global-scope partial's counts until the next tick (one message per tick, not
        per record). Held counts carry no source offsets: global trending is context, never an
        alert, and a redelivery after a crash may count a few posts twice."""
        acc = self.global_held.get(partial.bucket_start)
        if acc is None:
            acc = self.global_held[partial.bucket_start] = [0, 0.0, 0.0, {}]
        acc[0] += partial.count
        acc[1] = max(acc[1], partial.max_created)
        acc[2] = max(acc[2], partial.max_arrival)
        counts = acc[3]  # added in place: a record must not copy the bucket's whole map
        for tag, n in partial.hashtags.items():
            counts[tag] = counts.get(tag, 0) + n

    def take_global(self) -> list[BucketAgg]:
        """The held global-scope partials, oldest bucket first; the hold is emptied."""
        held, self.global_held = self.global_held, {}
        return [BucketAgg(watch=GLOBAL, bucket_start=b, count=n, max_created=created,
                          max_arrival=arrival, hashtags=heaviest(counts, GLOBAL_HASHTAGS))
                for b, (n, created, arrival, counts) in sorted(held.items())]

    def partition_of(self, watch: str) -> int:
        """The partials-topic partition that owns a watch (its key's default partition)."""
        p = self.partitions.get(watch)
        if p is None:
            p = self.partitions[watch] = topics.partition_for(watch.encode(),
                                                              self.settings.topic_partitions)
        return p

    def match(self, ev: SocialEvent, hashtags: Sequence[str]) -> Sequence[str]:
        """Watches an event belongs to."""
        return self.matcher.match(ev.text, hashtags, ev.mentions or (), ev.author.handle,
                                  ev.lang)

    def clock(self, partition: int) -> Clock:
        """The clock of an internal partition."""
        c = self.clocks.get(partition)
        if c is None:
            c = self.clocks[partition] = Clock()
        return c

    def watch_name(self, watch_id: str) -> str:
        """Display name of a watch (its id if it left the config)."""
        try:
            return self.matcher.watch(watch_id).name
        except KeyError:
            return watch_id


def _scorer(enabled: bool) -> Scorer | None:
    if not enabled:
        return None
    from streams.text.sentiment import score

    return score


def loop_config(settings: Settings) -> LoopConfig:
    """The per-watch loop's configuration from settings."""
    vcfg = volume.VolumeConfig(bucket_s=float(settings.bucket_s))
    return LoopConfig(
        bucket_s=settings.bucket_s, lateness_s=float(settings.allowed_lateness_s),
        policy=Policy(cooldown_s=settings.alert_cooldown_s,
                      max_updates_per_hour=settings.max_updates_per_hour,
                      resolve_after_s=settings.resolve_after_s),
        detectors=DetectorConfigs(volume=vcfg, buzz=replace(badbuzz.DEFAULT,
                                                            volume_warmup_s=vcfg.warmup_s),
                                  volume_only=not settings.detectors_enabled))


def build_runtime(settings: Settings, registry: Any = None) -> Runtime:
    """Everything derived from settings, built once per worker."""
    watches = load_watches(settings.watches_file or default_watches_path())
    metrics = catalogue(registry)
    init_build_info(metrics, REASONS, watches=[w.id for w in watches],
                    alert_types=TYPE_LABELS)
    metrics.worker_info.info({"app_id": settings.app_id, "bucket_s": str(settings.bucket_s),
                              "topic_partitions": str(settings.topic_partitions)})
    rt = Runtime(
        settings=settings,
        matcher=WatchMatcher(watches),
        kinds=kind_index(watches),
        limits=Limits(
            max_record_bytes=settings.max_record_bytes,
            max_batch_events=settings.max_batch_events,
            max_text_chars=settings.max_text_chars,
            max_clock_skew_s=settings.max_clock_skew_s,
            min_event_ts=datetime(settings.min_event_year, 1, 1, tzinfo=UTC).timestamp(),
            allowed_lateness_s=settings.allowed_lateness_s,
        ),
        loop=loop_config(settings),
        metrics=metrics,
        scorer=_scorer(settings.score_sentiment),
    )
    rt.reload_rosters(roster.load_roster_file(settings.roster_file) if settings.roster_file
                      else {})
    return rt
