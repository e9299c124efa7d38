"""The engine's configuration: one frozen value built from settings, swapped whole on reload.

Everything the pure pipeline reads (limits, the watch matcher, author kinds, affiliations,
the per-watch loop's settings, the sentiment scorer) and nothing a worker keeps track of.
Rosters change while a worker runs: ``with_rosters`` returns a new config, never mutates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources

from streams import topics
from streams.aggregate.bucket import GLOBAL
from streams.aggregate.build import Scorer
from streams.aggregate.campaign import CampaignBuilder
from streams.alerts.lifecycle import Policy
from streams.alerts.situation import SituationPolicy
from streams.detectors import badbuzz, volume
from streams.detectors.suite import DetectorConfigs
from streams.engine.loop import LoopConfig
from streams.events.decode import Limits
from streams.events.model import SocialEvent
from streams.settings import Settings
from streams.watches import roster
from streams.watches.affiliation import Affiliation
from streams.watches.kinds import KindIndex, kind_index
from streams.watches.matcher import WatchMatcher, load_watches


def default_watches_path() -> str:
    """The bundled demo watches file."""
    return str(resources.files("streams") / "data" / "watches.toml")


@dataclass(frozen=True)
class EngineConfig:
    """What the pure pipeline needs, frozen."""

    loop: LoopConfig
    limits: Limits
    matcher: WatchMatcher
    idle_close_s: float = 30.0
    partitions: int = 4  # of the internal partials topic
    scorer: Scorer | None = None
    base_kinds: KindIndex = field(default_factory=KindIndex)  # from the watches file
    rosters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # as last loaded
    # derived from the above: the kinds with the rosters' employees, affiliation sources per
    # watch, and each watch's partials partition
    kinds: KindIndex = field(init=False, compare=False, repr=False)
    affiliations: Mapping[str, Affiliation] = field(init=False, compare=False, repr=False)
    owners: Mapping[str, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        watches = self.matcher.watches
        set_ = object.__setattr__
        set_(self, "kinds", roster.with_employees(self.base_kinds, self.rosters))
        set_(self, "affiliations", roster.affiliations(watches, self.rosters))
        set_(self, "owners", {w: topics.partition_for(w.encode(), self.partitions)
                              for w in (*(w.id for w in watches), GLOBAL)})

    @property
    def bucket_s(self) -> int:
        """Width of the tumbling event-time buckets."""
        return self.loop.bucket_s

    @property
    def everything(self) -> bool:
        """Whether every detector runs (else volume spikes only)."""
        return not self.loop.detectors.volume_only

    def with_rosters(self, rosters: Mapping[str, Iterable[str]]) -> EngineConfig:
        """The same config with the rosters read from the roster file and Redis."""
        return replace(self, rosters={w: tuple(handles) for w, handles in rosters.items()})

    def partition_of(self, watch: str) -> int:
        """The partials-topic partition that owns a watch (its key's default partition)."""
        p = self.owners.get(watch)
        return topics.partition_for(watch.encode(), self.partitions) if p is None else p

    def match(self, ev: SocialEvent, hashtags: Sequence[str]) -> Sequence[str]:
        """Watches an event belongs to."""
        return self.matcher.match(ev.text, hashtags, ev.mentions or (), ev.author.handle,
                                  ev.lang)

    def campaign_builder(self) -> CampaignBuilder | None:
        """A fresh per-batch campaign builder (None when only volume spikes are detected)."""
        return CampaignBuilder(self.affiliations) if self.everything else None

    def office_hours(self, watch: str) -> Callable[[float], bool] | None:
        """Whether a time falls in a watch's office hours (None: unknown watch)."""
        aff = self.affiliations.get(watch)
        return None if aff is None else aff.in_office_hours

    def watch_name(self, watch_id: str) -> str:
        """Display name of a watch (its id if it left the config)."""
        try:
            return self.matcher.watch(watch_id).name
        except KeyError:
            return watch_id


def loop_config(s: Settings) -> LoopConfig:
    """The per-watch loop's configuration from settings."""
    vcfg = volume.VolumeConfig(bucket_s=float(s.bucket_s))
    return LoopConfig(
        bucket_s=s.bucket_s, lateness_s=float(s.allowed_lateness_s),
        policy=Policy(cooldown_s=s.alert_cooldown_s, max_updates_per_hour=s.max_updates_per_hour,
                      resolve_after_s=s.resolve_after_s),
        detectors=DetectorConfigs(
            volume=vcfg, buzz=replace(badbuzz.DEFAULT, volume_warmup_s=vcfg.warmup_s),
            volume_only=not s.detectors_enabled),
        situation=SituationPolicy(resolve_after_s=float(s.situation_resolve_after_s),
                                  max_messages_per_day=s.situation_max_messages_per_day),
        entity_quiet_s=float(s.entity_quiet_s))


def _scorer(enabled: bool) -> Scorer | None:
    if not enabled:
        return None
    from streams.text.sentiment import score

    return score


def build_config(s: Settings) -> EngineConfig:
    """Everything derived from settings (and the watches and roster files), built once."""
    watches = load_watches(s.watches_file or default_watches_path())
    rosters = roster.load_roster_file(s.roster_file) if s.roster_file else {}
    return EngineConfig(
        loop=loop_config(s),
        limits=Limits(
            max_record_bytes=s.max_record_bytes, max_batch_events=s.max_batch_events,
            max_text_chars=s.max_text_chars, max_clock_skew_s=s.max_clock_skew_s,
            min_event_ts=datetime(s.min_event_year, 1, 1, tzinfo=UTC).timestamp(),
            allowed_lateness_s=s.allowed_lateness_s),
        matcher=WatchMatcher(watches), idle_close_s=s.idle_close_s,
        partitions=s.topic_partitions, scorer=_scorer(s.score_sentiment),
        base_kinds=kind_index(watches), rosters={w: tuple(h) for w, h in rosters.items()})
