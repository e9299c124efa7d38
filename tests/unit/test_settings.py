"""Settings: one frozen object from VIGIE_* env vars or a TOML file; secrets masked."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from streams import settings as S


def test_defaults_are_embedded_mode() -> None:
    s = S.load(env={})
    assert s.embedded_kafka and s.embedded_redis
    assert s.bucket_s == 60


def test_env_overrides_and_types() -> None:
    s = S.load(env={"VIGIE_KAFKA_BROKERS": "k1:9092,k2:9092", "VIGIE_TOPIC_PARTITIONS": "8",
                    "VIGIE_SCORE_SENTIMENT": "false", "VIGIE_REDIS_TIMEOUT_S": "0.25"})
    assert s.kafka_brokers == "k1:9092,k2:9092" and not s.embedded_kafka
    assert s.topic_partitions == 8 and s.score_sentiment is False and s.redis_timeout_s == 0.25


def test_frozen() -> None:
    s = S.load(env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.bucket_s = 30  # type: ignore[misc]


def test_file_then_env(tmp_path: Path) -> None:
    f = tmp_path / "vigie.toml"
    f.write_text('[vigie]\nbucket_s = 300\napp_id = "prod"\n')
    s = S.load(env={"VIGIE_CONFIG": str(f), "VIGIE_APP_ID": "from-env"})
    assert s.bucket_s == 300 and s.app_id == "from-env"


def test_unknown_file_keys_and_bad_values_are_rejected(tmp_path: Path) -> None:
    f = tmp_path / "vigie.toml"
    f.write_text('[vigie]\nbuckets = 300\n')
    with pytest.raises(ValueError, match="buckets"):
        S.load(env={"VIGIE_CONFIG": str(f)})
    with pytest.raises(ValueError, match="topic_partitions"):
        S.load(env={"VIGIE_TOPIC_PARTITIONS": "many"})
    with pytest.raises(ValueError, match="bucket_s"):
        S.load(env={"VIGIE_BUCKET_S": "7"})


def test_secrets_are_masked_in_repr_and_help() -> None:
    s = S.load(env={"VIGIE_KAFKA_SASL_PASSWORD": "hunter2", "VIGIE_WEBHOOK_SECRET": "s3cr3t",
                    "VIGIE_REDIS_URL": "redis://user:pa55@redis:6379/0"})
    text = repr(s) + str(s.masked())
    for secret in ("hunter2", "s3cr3t", "pa55"):
        assert secret not in text
    assert "redis://user:***@redis:6379/0" in text
    help_text = S.help_text()
    for f in dataclasses.fields(S.Settings):
        assert f"VIGIE_{f.name.upper()}" in help_text
