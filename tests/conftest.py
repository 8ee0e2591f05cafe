"""Shared fixtures: a config on a temporary data directory, an engine on a manual clock,
and a real engine server on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from channels.registry import channel_kinds
from channels.wire import Wire
from contact_center.auth import Accounts
from contact_center.clock import ManualClock
from contact_center.config import Config, parse_config
from contact_center.engine import Engine
from contact_center.mail import Composer
from contact_center.model import Agent, Role
from contact_center.store import SqliteStore
from contact_center.web import ACCOUNTS, ENGINE, build_app
from contact_center.web.server import ConnectionGuard, serve_app
from tests.mailserver import Dovecot, Mailbox, SmtpSink
from tests.stores import reopen, store  # noqa: F401  (fixtures for every store test)

PASSWORD = "correct-horse-battery"


WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = {"holidays": "", "hours": {day: ["00:00-24:00"] for day in WEEK}}  # an [sla] open every hour


TEST_HASHING = {"hash_time_cost": 1, "hash_memory_kib": 1024, "hash_lanes": 1}


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    data: dict[str, Any] = {
        "store": {"data_dir": str(tmp_path / "data")},
        "webchat": {
            "allowed_origins": ["http://127.0.0.1:1", "http://shop.test"],
            "max_frame_bytes": 4096,
            "new_visitors_per_min": 100_000,  # every test visitor comes from 127.0.0.1
        },
        "desk": {"reconnect_grace_s": 30, "default_wrap_up_s": 5},
        # Password checks at normal priority: a machine busy with other work must not starve the suite's logins.
        # Argon2id at a test's cost (1 pass over 1 MiB, about 1 ms): at the deployment's (0.1-0.3 s a hash on this
        # machine) the suite's few thousand logins and accounts took minutes. tests/contact_center/test_auth.py
        # checks the deployment's cost and that a hash made at another cost is made again at a login.
        "auth": {"hash_nice": 0, **TEST_HASHING},
        "routing": {"offer_timeout_s": 20},
        "logging": {"format": "json"},
    }
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return parse_config(data, tmp_path)


@pytest.fixture(autouse=True)
async def _close_websocket_clients() -> AsyncIterator[None]:
    """Close every test websocket client before the test's loop ends.

    A client the server closed still needs a few turns of the loop to close its own side; a loop
    that ends first leaves the socket to the garbage collector, whose ResourceWarning then fails
    whatever test happens to be running.
    """
    yield
    from tests.clients import OPEN

    clients, OPEN[:] = list(OPEN), []
    for client in clients:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.conn.close(), 2)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@dataclass
class EngineEnv:
    engine: Engine
    accounts: Accounts
    clock: ManualClock
    store: SqliteStore
    config: Config
    inbox: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    async def add_agent(self, username: str, skills: dict[str, int] | None = None, **kw: Any) -> Agent:
        agent = await self.accounts.add_user(
            username,
            PASSWORD,
            skills=skills or {"general": 3, "lang_en": 3, "lang_id": 3},
            capacity=kw.pop("capacity", {"chat": 3, "email": 5, "call": 1}),
            wrap_up_s=kw.pop("wrap_up_s", 5.0),
            **kw,
        )
        self.engine.add_agent(agent)
        self.listen(f"agent:{agent.id}")
        return agent

    async def online(self, agent: Agent) -> None:
        await self.engine.agent_connected(agent.id)
        await self.engine.set_status(agent.id, "available")

    def listen(self, topic: str) -> list[dict[str, Any]]:
        """What the engine publishes on ``topic``, as the sockets send it (:mod:`channels.wire`)."""
        box = self.inbox.setdefault(topic, [])
        wire = Wire(self.config, channel_kinds(self.config))
        self.engine.bus.subscribe(topic, lambda event: box.append(wire.json(event)))
        return box

    def of(self, topic: str, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.inbox.get(topic, []) if m["type"] == kind]

    async def settle(self) -> None:
        """Let scheduled routing passes and timers run."""
        for _ in range(5):
            await asyncio.sleep(0)
        await self.engine.route_now()
        for _ in range(5):
            await asyncio.sleep(0)


async def make_engine_env(
    config: Config, clock: ManualClock | None = None, composer: Composer | None = None
) -> EngineEnv:
    clock = clock or ManualClock()
    sqlite = SqliteStore(config.store.data_dir / "contact-center.sqlite3")
    engine = Engine(sqlite, clock, config, channel_kinds(config), composer=composer)
    await engine.start()
    return EngineEnv(engine, Accounts(sqlite, clock, config.auth, engine.bus), clock, sqlite, config)


@pytest.fixture
async def env(config: Config) -> AsyncIterator[EngineEnv]:
    e = await make_engine_env(config)
    yield e
    e.engine.stop()
    await asyncio.sleep(0)
    await e.store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_engine(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``python -m contact_center serve`` as its own process, once it answers /api/health; stderr goes to ``log``."""
    import aiohttp

    with log.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "contact_center", "--config", str(config), "serve"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{port}/api/health") as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    proc.kill()
    proc.wait()
    raise AssertionError(f"engine did not start: {log.read_text()}")


@dataclass
class Server:
    url: str
    ws_url: str
    app: web.Application
    runner: web.AppRunner
    guard: ConnectionGuard

    @property
    def engine(self) -> Engine:
        return self.app[ENGINE]

    async def add_agent(self, username: str, role: Role = Role.AGENT, **kw: Any) -> Agent:
        agent = await self.app[ACCOUNTS].add_user(
            username,
            PASSWORD,
            role=role,
            skills=kw.pop("skills", {"general": 3, "lang_en": 3, "lang_id": 3}),
            capacity=kw.pop("capacity", {"chat": 3, "email": 5, "call": 1}),
            wrap_up_s=kw.pop("wrap_up_s", 0.2),
        )
        self.engine.add_agent(agent)
        return agent


async def start_server(config: Config) -> Server:
    port = free_port()
    origins = (*config.webchat.allowed_origins, f"http://127.0.0.1:{port}")
    from dataclasses import replace

    config = replace(config, webchat=replace(config.webchat, allowed_origins=origins))
    app = build_app(config)
    runner, guard = await serve_app(app, config, "127.0.0.1", port, access_log=None)
    return Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app, runner, guard)


def on_redis(config: Config, redis_url: str, prefix: str = "", node_id: str = "") -> Config:
    """``config`` on the Redis store at ``redis_url``, under ``prefix`` (default: a key prefix of its own)."""
    from dataclasses import replace

    prefix = prefix or f"test:{uuid.uuid4().hex[:12]}:"
    shared = replace(config.store, backend="redis", redis_url=redis_url, redis_prefix=prefix, node_id=node_id)
    return replace(config, store=shared)


async def start_on(request: pytest.FixtureRequest, config: Config) -> Server:
    """A server on the store backend the fixture's parameter names ("sqlite" or "redis")."""
    if request.param == "redis":
        config = on_redis(config, request.getfixturevalue("redis_url"))
    return await start_server(config)


async def two_nodes(config: Config, redis_url: str) -> tuple[Server, Server]:
    """Two engine nodes, "a" and "b", sharing one Redis under a prefix of their own."""
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    a = await start_server(on_redis(config, redis_url, prefix, "a"))
    b = await start_server(on_redis(config, redis_url, prefix, "b"))
    return a, b


@pytest.fixture(params=["sqlite", "redis"])
async def server(request: pytest.FixtureRequest, config: Config) -> AsyncIterator[Server]:
    """A real engine on a loopback port, once on each store backend (Redis: this test's own key prefix)."""
    srv = await start_on(request, config)
    yield srv
    await srv.runner.cleanup()


class RedisServer:
    """A private redis-server on a loopback port, which a test can stop and start again.

    With ``aof`` it keeps an append-only file fsynced on every write in its directory, so a
    restart finds everything acknowledged, as a deployment configured for it would.
    """

    def __init__(self, workdir: Path, aof: bool = False) -> None:
        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("redis-server is not installed (scripts/test-services.sh installs Debian's redis-server)")
        self.binary = server
        self.workdir = workdir
        self.port = free_port()
        self.aof = aof
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", *persistence],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                pytest.fail(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for this test run, on a free loopback port; the suite fails without one."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One private Dovecot IMAP server for the run; the suite fails without one."""
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    """A fresh, empty mailbox on the run's Dovecot."""
    return dovecot.mailbox()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it is sent."""
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
