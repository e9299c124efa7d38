"""One frozen settings object, read once from ``VIGIE_*`` env vars or a TOML file."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from streams.masking import MASK, Masked, mask_url

ENV_PREFIX = "VIGIE_"


def _meta(help_: str, secret: bool = False) -> dict[str, Any]:
    return {"help": help_, "secret": secret}


@dataclass(frozen=True, repr=False)
class Settings(Masked):
    """Every tunable of a Vigie process; env var = VIGIE_ + upper-cased field name."""

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({
        "kafka_sasl_password", "redis_password", "webhook_secret", "chat_webhook_url",
        "grafana_token", "ingest_token"})

    # --- Kafka -------------------------------------------------------------------------
    kafka_brokers: str = field(default="", metadata=_meta(
        "Comma-separated bootstrap servers (host:port). Empty: start an embedded broker."))
    kafka_security_protocol: str = field(default="PLAINTEXT", metadata=_meta(
        "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."))
    kafka_sasl_mechanism: str = field(default="", metadata=_meta(
        "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 when SASL is used."))
    kafka_sasl_username: str = field(default="", metadata=_meta("SASL user name."))
    kafka_sasl_password: str = field(default="", metadata=_meta("SASL password.", secret=True))
    kafka_ssl_cafile: str = field(default="", metadata=_meta("CA bundle for TLS to Kafka."))
    kafka_ssl_certfile: str = field(default="", metadata=_meta("Client certificate (mTLS)."))
    kafka_ssl_keyfile: str = field(default="", metadata=_meta("Client key (mTLS)."))
    kafka_end_offset_shim: bool = field(default=False, metadata=_meta(
        "Correct Tansu's too-small ListOffsets(latest) client-side. Embedded mode sets it; "
        "never needed on real Kafka."))
    topic_partitions: int = field(default=4, metadata=_meta(
        "Partitions of every Vigie topic (input, internal, alerts, DLQ)."))
    topic_replication: int = field(default=1, metadata=_meta("Replication factor of topics."))
    # --- Redis -------------------------------------------------------------------------
    redis_url: str = field(default="", metadata=_meta(
        "redis:// or rediss:// URL (password allowed in it). Empty: start an embedded "
        "redis-server."))
    redis_password: str = field(default="", metadata=_meta(
        "Redis password when not given in the URL.", secret=True))
    redis_timeout_s: float = field(default=0.5, metadata=_meta(
        "Socket timeout of Redis calls; the pipeline never waits longer."))
    dedup_ttl_s: int = field(default=7 * 24 * 3600, metadata=_meta(
        "How long the Redis dedup ledger remembers an emitted alert."))
    # --- Worker ------------------------------------------------------------------------
    app_id: str = field(default="vigie", metadata=_meta(
        "Faust app id: consumer group and changelog topic prefix."))
    data_dir: str = field(default="./var/vigie", metadata=_meta("Worker data directory."))
    web_host: str = field(default="127.0.0.1", metadata=_meta("Bind address of the web port."))
    web_port: int = field(default=6066, metadata=_meta(
        "Web port: /metrics (Prometheus), /healthz, views."))
    watches_file: str = field(default="", metadata=_meta(
        "TOML file of watches. Empty: the bundled demo watches."))
    roster_file: str = field(default="", metadata=_meta(
        "TOML file of employee/ambassador handles per watch ([roster] watch = [handles]); "
        "added to each watch's roster and to the Redis set <prefix>:roster:<watch>, "
        "reloaded without a restart."))
    roster_reload_s: float = field(default=60.0, metadata=_meta(
        "Wall-clock period of the roster reload (file and Redis sets)."))
    log_level: str = field(default="INFO", metadata=_meta("Logging level."))
    # --- Time and detection ------------------------------------------------------------
    bucket_s: int = field(default=60, metadata=_meta("Tumbling bucket width, event time."))
    allowed_lateness_s: int = field(default=120, metadata=_meta(
        "An event older than the partition watermark minus this goes to the DLQ as late."))
    max_clock_skew_s: int = field(default=600, metadata=_meta(
        "Events dated further in the future than this (wall clock) are rejected."))
    min_event_year: int = field(default=2006, metadata=_meta(
        "Events dated before this year are rejected as out of range."))
    close_interval_s: float = field(default=1.0, metadata=_meta(
        "Wall-clock period of the timer that closes buckets."))
    idle_close_s: float = field(default=30.0, metadata=_meta(
        "After this long without input, the watermark follows the wall clock so a quiet "
        "live stream still closes buckets."))
    alert_cooldown_s: int = field(default=1800, metadata=_meta(
        "After an incident resolves, a new one of the same type and watch is suppressed "
        "for this long (event time)."))
    max_updates_per_hour: int = field(default=6, metadata=_meta(
        "Cap on update alerts per incident per hour of event time."))
    resolve_after_s: int = field(default=600, metadata=_meta(
        "A signal's incident resolves after its detector stays normal for this long "
        "(event time)."))
    entity_quiet_s: int = field(default=10_800, metadata=_meta(
        "A campaign or trending hashtag that pauses and resumes stays one incident until it "
        "has been quiet this long, or twice its longest pause so far (at most 12 h)."))
    situation_resolve_after_s: int = field(default=7200, metadata=_meta(
        "A watch's situation resolves after none of its signals has been active for this "
        "long: a crisis that goes quiet and flares up again is the same situation."))
    situation_max_messages_per_day: int = field(default=10, metadata=_meta(
        "Cap on the messages of one situation in any 24 h of event time (an escalation to "
        "crisis and the resolution always go)."))
    detectors_enabled: bool = field(default=True, metadata=_meta(
        "Run the sentiment-shift, influencer, bad-buzz and trending-hashtag detectors besides "
        "volume spikes."))
    score_sentiment: bool = field(default=True, metadata=_meta(
        "Score the sentiment of matched posts that carry none upstream."))
    ingest_child: bool = field(default=True, metadata=_meta(
        "Decode, validate, match and aggregate input records in a child process of the "
        "worker (a second core); false: in the worker's own process."))
    # --- Input limits ------------------------------------------------------------------
    max_record_bytes: int = field(default=8 * 1024 * 1024, metadata=_meta(
        "Larger input records go to the DLQ (reason too_large)."))
    max_batch_events: int = field(default=10_000, metadata=_meta(
        "Larger JSON arrays go to the DLQ (reason too_many_events)."))
    max_text_chars: int = field(default=20_000, metadata=_meta(
        "Longer texts are rejected (reason invalid)."))
    # --- Sources (vigie ingest) ----------------------------------------------------------
    ingest_token: str = field(default="", metadata=_meta(
        "Bearer token `vigie ingest` sends to a live URL (Mastodon streaming needs a user "
        "token with read:statuses).", secret=True))
    # --- Delivery ----------------------------------------------------------------------
    webhook_url: str = field(default="", metadata=_meta(
        "Generic webhook receiving every alert as alert.v1 JSON, HMAC-signed. Empty: off."))
    webhook_secret: str = field(default="", metadata=_meta(
        "HMAC-SHA256 secret of the generic webhook.", secret=True))
    chat_webhook_url: str = field(default="", metadata=_meta(
        "Slack/Teams incoming-webhook URL (the URL is a credential: masked). Empty: off.",
        secret=True))
    chat_webhook_flavor: str = field(default="slack", metadata=_meta(
        "slack, teams_messagecard or teams_adaptive."))
    chat_min_severity: str = field(default="warning", metadata=_meta(
        "Lowest severity sent to the chat webhook (watch, warning, crisis)."))
    grafana_url: str = field(default="", metadata=_meta(
        "Grafana base URL for alert annotations. Empty: off."))
    grafana_token: str = field(default="", metadata=_meta(
        "Grafana service-account token for annotations.", secret=True))

    @property
    def embedded_kafka(self) -> bool:
        """True when no broker is configured and an embedded one must be started."""
        return not self.kafka_brokers.strip()

    @property
    def embedded_redis(self) -> bool:
        """True when no Redis URL is configured and an embedded one must be started."""
        return not self.redis_url.strip()

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed (used by the embedded launcher)."""
        return dataclasses.replace(self, **changes)

    def shown(self, name: str, value: Any) -> Any:
        """A Redis URL is shown without its password."""
        return mask_url(value) if name == "redis_url" and value else value


def _coerce(name: str, raw: Any, target: Any) -> Any:
    if isinstance(target, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"setting {name}: not a boolean: {raw!r}")
    try:
        if isinstance(target, int):
            return int(raw)
        if isinstance(target, float):
            return float(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {name}: {exc}") from None
    return str(raw)


def load(env: Mapping[str, str] | None = None, path: str | os.PathLike[str] | None = None,
         ) -> Settings:
    """Read settings: defaults, then the TOML file (VIGIE_CONFIG or path), then VIGIE_* env."""
    env = os.environ if env is None else env
    defaults = Settings()
    values: dict[str, Any] = {}
    config_path = path or env.get(f"{ENV_PREFIX}CONFIG")
    if config_path:
        with Path(config_path).open("rb") as fh:
            doc = tomllib.load(fh)
        section = doc.get("vigie", doc)
        known = {f.name for f in fields(Settings)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"unknown settings in {config_path}: {', '.join(unknown)}")
        values.update(section)
    for f in fields(Settings):
        key = ENV_PREFIX + f.name.upper()
        if key in env:
            values[f.name] = env[key]
    coerced = {k: _coerce(k, v, getattr(defaults, k)) for k, v in values.items()}
    settings = Settings(**coerced)
    validate(settings)
    return settings


def validate(s: Settings) -> None:
    """Reject inconsistent settings early, with the offending name."""
    if s.bucket_s <= 0 or 86_400 % s.bucket_s:
        raise ValueError("setting bucket_s must divide a day (e.g. 60, 300)")
    if s.topic_partitions < 1:
        raise ValueError("setting topic_partitions must be >= 1")
    if s.kafka_security_protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        raise ValueError(f"setting kafka_security_protocol: {s.kafka_security_protocol!r}")
    if s.allowed_lateness_s < 0 or s.close_interval_s <= 0:
        raise ValueError("settings allowed_lateness_s >= 0 and close_interval_s > 0")


def help_text() -> str:
    """Describe every VIGIE_* setting with its default (secrets masked), for --help."""
    lines = ["Settings (env var, default: meaning). VIGIE_CONFIG=FILE reads a TOML file "
             "([vigie] table) first; env vars win."]
    defaults = Settings()
    for f in fields(Settings):
        default = getattr(defaults, f.name)
        shown = MASK if f.metadata.get("secret") and default else repr(default)
        lines.append(f"  {ENV_PREFIX}{f.name.upper()} (default {shown}): {f.metadata['help']}"
                     + (" [secret: masked in logs]" if f.metadata.get("secret") else ""))
    return "\n".join(lines)
