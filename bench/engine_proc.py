"""An engine in its own process for the benchmarks, with agents and their sessions made up front.

Accounts are written straight into the store with one password hash, and a session token
per agent, so that setting up 500 agents does not cost 500 Argon2 hashings.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from argon2 import PasswordHasher

from contact_center.auth import hash_token
from contact_center.model import Agent, AgentStatus, Role
from contact_center.store import Session, SqliteStore, Store

__all__ = [
    "EngineProcess",
    "chromium",
    "config_text",
    "cpu_seconds",
    "free_port",
    "messages",
    "pin",
    "rss_kib",
    "seed_agents",
    "stolen_seconds",
]


def messages(data: str | bytes) -> list[dict[str, Any]]:
    """The messages of one frame from the engine: an object, or an array of them in order."""
    decoded = orjson.loads(data)
    return decoded if isinstance(decoded, list) else [decoded]


_CORES = frozenset(os.sched_getaffinity(0))  # before anything is pinned: children inherit a pin


def pin(pid: int, core: int) -> None:
    """Run process ``pid`` (0: this one) on ``core`` only, if there are two cores or more to share out."""
    if len(_CORES) >= 2 and core in _CORES:
        os.sched_setaffinity(pid, {core})


def chromium() -> str:
    """Debian's Chromium, which the browser benchmarks drive (never a downloaded one)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("Debian's chromium is needed: apt-get install chromium")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def config_text(
    port: int,
    store: str,
    *,
    max_frame_bytes: int = 65536,
    log_level: str = "info",
    offer_timeout_s: float = 20,
    extra: str = "",
) -> str:
    """An engine's config.toml for the benchmarks; ``store`` is the body of its ``[store]`` table,
    ``extra`` more tables (``[auth]``, say)."""
    return f"""
[server]
port = {port}
# Every client of the benchmarks connects from 127.0.0.1: lift the cap on connections per address.
max_connections_per_client = 1000000
[store]
{store}
[webchat]
allowed_origins = ["http://127.0.0.1:{port}"]
max_frame_bytes = {max_frame_bytes}
# The benchmarks drive each socket far faster than a person: lift the per-socket frame limit.
max_frames_per_s = 1000000
frame_burst = 1000000
# ... and every visitor comes from 127.0.0.1: lift the limit on new visitors per address.
new_visitors_per_min = 100000000
[desk]
default_wrap_up_s = 0
[routing]
offer_timeout_s = {offer_timeout_s}
[logging]
level = "{log_level}"
format = "json"
{extra}
"""


async def seed_agents(store: Store, agents: int, capacity_chat: int = 3) -> list[str]:
    """Write ``agents`` accounts straight into ``store``, each with a session; returns their tokens."""
    pw_hash = PasswordHasher().hash(secrets.token_hex(8))
    tokens = []
    for i in range(agents):
        agent = Agent(
            id=uuid.uuid4().hex,
            username=f"agent{i:04d}",
            display_name=f"Agent {i}",
            role=Role.AGENT,
            skills={"general": 1 + i % 5, "lang_en": 3, "lang_id": 3},
            capacity={"chat": capacity_chat, "email": 5, "call": 1},
            wrap_up_s=0.0,
            status=AgentStatus.OFFLINE,
        )
        await store.create_user(agent, pw_hash)
        token = secrets.token_urlsafe(24)
        await store.create_session(hash_token(token), Session("user", agent.id, time.time() + 86400))
        tokens.append(token)
    return tokens


@dataclass
class EngineProcess:
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    tokens: list[str] | None = None

    @classmethod
    async def create(
        cls, agents: int, capacity_chat: int = 3, max_frame_bytes: int = 65536, extra: str = ""
    ) -> EngineProcess:
        """An engine on the embedded store, with ``agents`` made up front (and ``extra`` config tables)."""
        port = free_port()
        workdir = Path(tempfile.mkdtemp(prefix="cc-bench-"))
        text = config_text(port, 'data_dir = "data"', max_frame_bytes=max_frame_bytes, extra=extra)
        (workdir / "config.toml").write_text(text)
        store = SqliteStore(workdir / "data" / "contact-center.sqlite3")
        tokens = await seed_agents(store, agents, capacity_chat)
        await store.close()
        return cls(port=port, workdir=workdir, tokens=tokens)

    @classmethod
    def on(cls, store: str, log_level: str = "info", offer_timeout_s: float = 20) -> EngineProcess:
        """An engine whose ``[store]`` table is ``store`` (accounts made elsewhere, as on Redis)."""
        port = free_port()
        workdir = Path(tempfile.mkdtemp(prefix="cc-bench-"))
        text = config_text(port, store, log_level=log_level, offer_timeout_s=offer_timeout_s)
        (workdir / "config.toml").write_text(text)
        return cls(port=port, workdir=workdir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, core: int | None = None) -> None:
        """Start the engine (on ``core`` only, if given) and wait until it answers."""
        log = (self.workdir / "engine.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *os.environ.get("BENCH_ENGINE_PREFIX", "").split(),
                "-m",
                "contact_center",
                "--config",
                str(self.workdir / "config.toml"),
                "serve",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        if core is not None:
            pin(self.proc.pid, core)
        async with aiohttp.ClientSession() as http:
            for _ in range(400):
                try:
                    async with http.get(f"{self.url}/api/health") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        raise RuntimeError("engine did not start: " + (self.workdir / "engine.log").read_text()[-2000:])

    def rss_kib(self) -> int:
        assert self.proc is not None
        return rss_kib(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def stolen_seconds() -> float:
    """CPU time the hypervisor gave to others, summed over this machine's cores (the steal column)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")
