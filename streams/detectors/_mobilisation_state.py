"""Configuration and state types of the mobilisation detector (see mobilisation.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.aggregate.campaign import MAX_CAMPAIGN_TAGS, CampaignAgg
from streams.aggregate.neardup import DEFAULT_MAX_HAMMING, NearDupWindow
from streams.codec import TRANSIENT
from streams.detectors._mobilisation_rules import Classification


@dataclass(frozen=True)
class MobilisationConfig:
    """Detector parameters; every duration is in seconds."""

    bucket_s: float = 60.0
    window_s: float = 1800.0
    min_posts: int = 30  # posts within window_s that make a tracked tag a campaign
    track_bucket_posts: int = 3  # posts in one bucket that start tracking a tag
    max_tracked: int = 32
    max_bucket_tags: int = MAX_CAMPAIGN_TAGS
    end_after_s: float = 900.0
    classify_after_posts: int = 40
    min_confidence: float = 0.6
    neardup_items: int = 64
    max_hamming: int = DEFAULT_MAX_HAMMING
    min_neardup_samples: int = 4  # fewer samples: the near-dup ratio is unknown
    first_posts: int = 50
    sync_span_s: float = 600.0
    baseline_half_life_s: float = 7 * 86400.0
    office_prior_share: float = 0.45  # office-hours share of traffic before any is seen
    office_prior_posts: float = 200.0
    warning_reach: int = 1_000_000  # employee mobilisation reaching this many followers
    crisis_reach: int = 5_000_000  # coordinated inauthentic campaign: crisis beyond this
    crisis_sentiment: float = -0.3  # ... or hostile with this mean sentiment and
    crisis_posts: int = 300  # this many posts in the window


DEFAULT = MobilisationConfig()


@dataclass(frozen=True)
class Track:
    """One tracked hashtag of the watch."""

    tag: str
    first_seen_ts: float
    last_post_ts: float
    episode: CampaignAgg  # cumulative since first_seen_ts (no text samples)
    recent: tuple[tuple[float, int, int], ...]  # (bucket_ts, posts, own negative posts)
    neardup: NearDupWindow
    campaign_since: float | None = None
    outweighs_since: float | None = None
    cls: str = ""
    confidence: float = 0.0
    alert_since: float | None = None
    # the features computed by the last update, reused by evaluate (not state: not saved)
    computed: tuple[Mapping[str, float | None], Classification] | None = field(
        default=None, repr=False, compare=False, metadata=TRANSIENT)

    def window_posts(self) -> int:
        """Posts within the recent window."""
        return sum(r[1] for r in self.recent)


@dataclass(frozen=True)
class MobilisationState:
    """Immutable snapshot of one watch (written by streams.codec)."""

    last_ts: float | None = None
    tracked: Mapping[str, Track] = field(default_factory=dict)
    negatives: tuple[tuple[float, int], ...] = ()  # (bucket_ts, watch negative posts)
    office_posts: float = 0.0  # decayed ordinary posts in office hours
    ordinary_posts: float = 0.0  # decayed ordinary posts

    def office_baseline(self, cfg: MobilisationConfig = DEFAULT) -> float:
        """Office-hours share of the watch's ordinary traffic (with a prior)."""
        return ((self.office_posts + cfg.office_prior_share * cfg.office_prior_posts)
                / (self.ordinary_posts + cfg.office_prior_posts))


def initial_state() -> MobilisationState:
    """Empty state."""
    return MobilisationState()
