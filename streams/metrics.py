"""The catalogue of every vigie_* Prometheus metric, bound to one registry per process.

Labels are bounded: watch ids come from config, platform and language are bucketed to fixed
sets, reasons/types/severities are enums. Never a hashtag, handle, URL or post id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from streams import __version__
from streams.events.labels import LANGS as LANGS  # the bounded label sets, re-exported
from streams.events.labels import PLATFORMS as PLATFORMS
from streams.events.labels import lang_label as lang_label
from streams.events.labels import platform_label as platform_label

LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
CAMPAIGN_CLASSES = ("employee_mobilisation", "coordinated_inauthentic", "organic")
# Why a signal was held back: the incident's cooldown, its cap on updates per hour, or a dedup
# key already claimed (a redelivered bucket, or another worker).
SUPPRESSION_REASONS = ("cooldown", "rate_limited", "dedup")
# Why a situation's change waited or was not told: a level that must hold, the gap between two
# updates, the daily cap, a return to a level left within the hour (flapping), or a dedup key
# already claimed.
HELD_REASONS = ("hold", "gap", "daily_cap", "flapping", "dedup")
SITUATION_STATUSES = ("open", "update", "resolved")
SITUATION_REASONS = ("onset", "escalation", "de_escalation", "signal_joined", "back_to_normal")


@dataclass(frozen=True)
class Metrics:
    """Every metric of a Vigie worker; build with `catalogue(registry)`."""

    registry: CollectorRegistry
    events_in: Counter
    records_in: Counter
    events_matched: Counter
    dead_letters: Counter
    partials_in: Counter
    partials_duplicate: Counter
    partials_late: Counter
    buckets_closed: Counter
    watch_volume: Gauge
    watch_baseline: Gauge
    watch_spike_score: Gauge
    watch_negative_share: Gauge
    watch_sentiment_mean: Gauge
    watch_level: Gauge
    incidents_open: Gauge
    situation_messages: Counter
    situation_held: Counter
    signals_emitted: Counter
    signals_suppressed: Counter
    alert_latency: Histogram
    watermark_lag: Gauge
    consumer_lag: Gauge
    redis_errors: Counter
    trending_score: Gauge
    trending_count: Gauge
    mobilisation_share: Gauge
    campaigns_active: Gauge
    roster_handles: Gauge
    deliveries: Counter
    rebalances: Counter
    messages_in: Counter
    messages_out: Counter
    ingest_child_restarts: Counter
    input_rewinds: Counter
    build_info: Info
    worker_info: Info


def catalogue(registry: CollectorRegistry | None = None) -> Metrics:
    """Create the metrics on a registry (a private one by default)."""
    r = registry if registry is not None else CollectorRegistry()
    watch = ["watch"]
    return Metrics(
        registry=r,
        events_in=Counter("vigie_events_in_total", "Valid events consumed, by platform and "
                          "language bucket.", ["platform", "lang"], registry=r),
        records_in=Counter("vigie_records_in_total", "Input records consumed (one event or a "
                           "JSON array of events each).", registry=r),
        events_matched=Counter("vigie_events_matched_total", "Events matched to a watch (an event "
                               "matching several watches counts for each).", watch, registry=r),
        dead_letters=Counter("vigie_dead_letters_total", "Records or events sent to the DLQ, by "
                             "reason.", ["reason"], registry=r),
        partials_in=Counter("vigie_partials_in_total", "Partial bucket aggregates merged into "
                            "watch state.", registry=r),
        partials_duplicate=Counter("vigie_partials_duplicate_total", "Redelivered partial "
                                   "aggregates skipped (idempotent merge).", registry=r),
        partials_late=Counter("vigie_partials_late_total", "Partial aggregates for buckets "
                              "already closed (counted, merged into nothing).", registry=r),
        buckets_closed=Counter("vigie_buckets_closed_total", "Event-time buckets closed.", watch,
                               registry=r),
        watch_volume=Gauge("vigie_watch_volume", "Posts in the last closed bucket.", watch,
                           registry=r),
        watch_baseline=Gauge("vigie_watch_baseline", "Expected posts in the last closed bucket "
                             "(seasonal baseline).", watch, registry=r),
        watch_spike_score=Gauge("vigie_watch_spike_score", "Volume-spike score of the last closed "
                                "bucket, 0 to 1.", watch, registry=r),
        watch_negative_share=Gauge("vigie_watch_negative_share", "Share of negative posts in "
                                   "the last closed bucket, 0 to 1.", watch, registry=r),
        watch_sentiment_mean=Gauge("vigie_watch_sentiment_mean", "Mean sentiment of the last "
                                   "closed bucket, -1 to 1.", watch, registry=r),
        watch_level=Gauge("vigie_watch_level", "Severity of the watch's open situation as "
                          "announced: 0 none, 1 watch, 2 warning, 3 crisis.", watch, registry=r),
        incidents_open=Gauge("vigie_incidents_open", "Open signal incidents (one detector's), by "
                             "type and severity.", ["watch", "type", "severity"], registry=r),
        situation_messages=Counter(
            "vigie_situation_messages_total", "Situation messages sent to social.alerts, by "
            "severity, status and reason.", ["watch", "severity", "status", "reason"],
            registry=r),
        situation_held=Counter(
            "vigie_situation_changes_held_total", "Situation changes that waited or were not "
            "told, by why (hold, gap, daily_cap, flapping, dedup).", ["watch", "why"],
            registry=r),
        signals_emitted=Counter("vigie_signals_emitted_total", "Signals (one detector's "
                                "incident) sent to social.signals.",
                                ["watch", "type", "severity", "status"], registry=r),
        signals_suppressed=Counter("vigie_signals_suppressed_total", "Signals not sent, by "
                                   "reason (cooldown, rate_limited, dedup).",
                                   ["watch", "type", "reason"], registry=r),
        alert_latency=Histogram("vigie_alert_latency_seconds", "From the arrival of the newest "
                                "triggering record on the input topic to the emission of an "
                                "opening message: a situation (type situation) or a signal.",
                                ["type"], buckets=LATENCY_BUCKETS_S, registry=r),
        watermark_lag=Gauge("vigie_watermark_lag_seconds", "Wall clock minus the event-time "
                            "watermark, per internal partition.", ["partition"], registry=r),
        consumer_lag=Gauge("vigie_consumer_lag_messages", "End offset minus committed offset, per "
                           "topic partition.", ["topic", "partition"], registry=r),
        redis_errors=Counter("vigie_redis_errors_total", "Failed Redis calls (alerts still flow).",
                             ["op"], registry=r),
        trending_score=Gauge("vigie_trending_score", "Trend score (0 to 1) of the hashtag at "
                             "each rank; the hashtag itself is in /trending, Redis and Kafka, "
                             "never a label.", ["scope", "rank"], registry=r),
        trending_count=Gauge("vigie_trending_window_posts", "Recent-window posts of the hashtag "
                             "at each rank.", ["scope", "rank"], registry=r),
        mobilisation_share=Gauge("vigie_mobilisation_share", "Share of the watch's posts over "
                                 "the last window that belong to employee/ambassador "
                                 "mobilisation campaigns, 0 to 1.", watch, registry=r),
        campaigns_active=Gauge("vigie_campaigns_active", "Campaigns (hashtags tied to the watch) "
                               "currently classified, by class (employee_mobilisation, "
                               "coordinated_inauthentic, organic).", ["watch", "class"],
                               registry=r),
        roster_handles=Gauge("vigie_roster_handles", "Employee/ambassador handles in the "
                             "watch's roster (watches file, roster file, Redis set), as last "
                             "reloaded.", watch, registry=r),
        deliveries=Counter("vigie_alert_deliveries_total", "Webhook and Grafana annotation "
                           "deliveries, by sink and outcome (delivered, retry, dropped_*).",
                           ["sink", "outcome"], registry=r),
        rebalances=Counter("vigie_rebalances_total", "Consumer group rebalances seen by this "
                           "worker.", registry=r),
        messages_in=Counter("vigie_kafka_messages_in_total", "Kafka messages consumed by the "
                            "worker, by topic (the app's topics and table changelogs).",
                            ["topic"], registry=r),
        messages_out=Counter("vigie_kafka_messages_out_total", "Kafka messages the worker "
                             "sent, by topic (the app's topics and table changelogs).",
                             ["topic"], registry=r),
        ingest_child_restarts=Counter(
            "vigie_ingest_child_restarts_total", "Restarts of the worker's ingest child "
            "process (it died; its records were sent again).", registry=r),
        input_rewinds=Counter(
            "vigie_input_rewinds_total", "Input partitions sought back because the Kafka client "
            "had consumed records the ingest agent never received (see streams/input_guard.py).",
            ["partition"], registry=r),
        build_info=Info("vigie_build", "Vigie version.", registry=r),
        worker_info=Info("vigie_worker", "Worker identity and settings summary.", registry=r),
    )


REDIS_OPS = ("claim", "publish_state", "record_alert", "read_state", "rosters")


def init_build_info(m: Metrics, dead_letter_reasons: tuple[str, ...] = (),
                    watches: Iterable[str] = (), alert_types: Iterable[str] = ()) -> None:
    """Set the build info once, and create the bounded label sets that count rare events, so
    the series exist at 0 (rate() and alert rules see them before the first error)."""
    m.build_info.info({"version": __version__})
    types = tuple(alert_types)
    for t in ("situation", *types):  # rate() needs a sample before the first alert: a
        m.alert_latency.labels(t)  # burst's alerts may all fall between two scrapes
    for reason in dead_letter_reasons:
        m.dead_letters.labels(reason)
    for op in REDIS_OPS:
        m.redis_errors.labels(op)
    for w in watches:  # the campaign gauges exist at 0 before the first classification
        m.mobilisation_share.labels(w).set(0.0)
        for cls in CAMPAIGN_CLASSES:
            m.campaigns_active.labels(w, cls).set(0.0)
        for t in types:  # so the anti-fatigue panels read 0, not "no data", on a calm day
            for reason in SUPPRESSION_REASONS:
                m.signals_suppressed.labels(w, t, reason)
        for why in HELD_REASONS:
            m.situation_held.labels(w, why)
        m.watch_level.labels(w).set(0)
