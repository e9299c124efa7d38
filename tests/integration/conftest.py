"""Integration fixtures: a real Kafka-compatible broker and a real redis-server per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest

from streams.dev.embedded import EmbeddedBroker, EmbeddedRedis


@dataclass(frozen=True)
class ExternalBroker:
    """A broker given by VIGIE_TEST_KAFKA_BROKERS (nothing is started)."""

    bootstrap: str

    @property
    def url(self) -> str:
        """Faust broker URL(s) for the bootstrap list."""
        return ";".join(f"kafka://{host}" for host in self.bootstrap.split(","))


@dataclass(frozen=True)
class ExternalRedis:
    """A redis given by VIGIE_TEST_REDIS_URL (nothing is started)."""

    url: str


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as an integration test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker | ExternalBroker]:
    """A Kafka broker: VIGIE_TEST_KAFKA_BROKERS if set, else an embedded Tansu."""
    external = os.environ.get("VIGIE_TEST_KAFKA_BROKERS")
    if external:
        yield ExternalBroker(external)
        return
    with EmbeddedBroker(tmp_path_factory.mktemp("tansu")) as embedded:
        yield embedded


@pytest.fixture(scope="session")
def redis_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EmbeddedRedis | ExternalRedis]:
    """A redis server: VIGIE_TEST_REDIS_URL if set, else an embedded redis-server."""
    external = os.environ.get("VIGIE_TEST_REDIS_URL")
    if external:
        yield ExternalRedis(external)
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as embedded:
        yield embedded


@pytest.fixture
def unique_id() -> str:
    """A fresh id for Faust app ids, consumer group ids and topic names."""
    return f"t{uuid4().hex[:10]}"
