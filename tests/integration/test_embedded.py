"""Embedded Tansu broker and redis-server: they serve real requests and leave no orphan."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.dev.embedded import EmbeddedBroker, EmbeddedRedis, create_topics, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    """True if pid exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_dead(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_free_port_is_bindable() -> None:
    """free_port() returns a loopback port nobody listens on."""
    port = free_port()
    assert 1024 <= port <= 65535
    assert not _port_open(port)


def test_broker_round_trip_and_idempotent_create_topics(broker: EmbeddedBroker,
                                                         unique_id: str) -> None:
    """Topics are created once (a second call is a no-op) and records round-trip."""
    topic = f"{unique_id}-rt"
    assert create_topics(broker.bootstrap, [(topic, 3)]) == [topic]
    assert create_topics(broker.bootstrap, [(topic, 3)]) == []

    async def main() -> tuple[set[int] | None, list[bytes]]:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker.bootstrap,
                                    group_id=unique_id, auto_offset_reset="earliest",
                                    session_timeout_ms=6000, heartbeat_interval_ms=1000)
        await producer.start()
        try:
            for i in range(3):
                await producer.send_and_wait(topic, f"v{i}".encode(), partition=i)
        finally:
            await producer.stop()
        await consumer.start()
        try:
            values: list[bytes] = []
            deadline = time.monotonic() + 30
            while len(values) < 3 and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    values += [r.value for r in records if r.value is not None]
            return consumer.partitions_for_topic(topic), sorted(values)
        finally:
            await consumer.stop()

    partitions, values = asyncio.run(main())
    assert partitions == {0, 1, 2}
    assert values == [b"v0", b"v1", b"v2"]


def test_redis_server_answers(redis_server: EmbeddedRedis, unique_id: str) -> None:
    """The embedded redis-server stores and returns values."""
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.set(unique_id, "1", ex=60)
        assert client.get(unique_id) == b"1"
        assert client.config_get("save")["save"] == ""
        assert client.config_get("appendonly")["appendonly"] == "no"
    finally:
        client.close()


@pytest.mark.parametrize("kind", [EmbeddedBroker, EmbeddedRedis])
def test_stop_is_idempotent_and_frees_the_port(kind: type[EmbeddedBroker | EmbeddedRedis],
                                               tmp_path: Path) -> None:
    """stop() ends the child, closes its port, and can be called again."""
    with kind(tmp_path) as server:
        pid, port = server.pid, server.port
        assert pid is not None and _alive(pid) and _port_open(port)
        assert server.start() is server  # already running: no second child
        assert server.pid == pid
    assert server.pid is None
    assert _wait_dead(pid)
    assert not _port_open(port)
    server.stop()
    assert server.log_path.is_file()


def test_startup_failure_reports_log_tail(tmp_path: Path) -> None:
    """A child that dies at startup raises with the end of its log."""

    class BrokenBroker(EmbeddedBroker):
        def _command(self) -> list[str]:
            return [*super()._command(), "--no-such-flag"]

    with pytest.raises(RuntimeError, match="no-such-flag"):
        BrokenBroker(tmp_path).start()


_PARENT = """
import sys, time
from streams.dev.embedded import EmbeddedBroker, EmbeddedRedis
broker = EmbeddedBroker(sys.argv[1]).start()
redis = EmbeddedRedis(sys.argv[1]).start()
print(broker.pid, redis.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_no_orphan_when_parent_dies(sig: signal.Signals, tmp_path: Path) -> None:
    """Children die with their parent, whether it is killed, terminated or interrupted."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(tmp_path)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, start_new_session=True)
    pids: list[int] = []
    try:
        assert parent.stdout is not None
        pids += [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        parent.send_signal(sig)
        parent.wait(timeout=20)
        assert all(_wait_dead(p) for p in pids), f"orphans left after {sig.name}"
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
            parent.wait()
        for pid in pids:  # children run in their own sessions: kill each one left over
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
