"""Engine nodes as real processes on loopback, sharing one Redis: what the multi-node tests drive.

Each node is ``python -m contact_center serve`` with its own port, config and node id, sharing a
key prefix on a Redis. Clients talk to whichever node a test picks, as a load balancer would
send them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.clients import WsClient, login
from tests.conftest import PASSWORD, free_port, start_engine

__all__ = ["LEASE_S", "OFFER_TIMEOUT_S", "WRAP_UP_S", "Cluster", "Node", "drain", "waiting"]

LEASE_S = 1.0
OFFER_TIMEOUT_S = 4
WRAP_UP_S = 2


@dataclass
class Node:
    name: str
    port: int
    config: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.config.with_suffix(".log")

    def events(self, name: str) -> list[dict[str, Any]]:
        """This node's structured log lines whose event is ``name``."""
        found = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("event") == name:
                    found.append(entry)
        return found

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Cluster:
    workdir: Path
    redis_url: str
    prefix: str = field(default_factory=lambda: f"nodes:{uuid.uuid4().hex[:10]}:")
    nodes: list[Node] = field(default_factory=list)
    leader: bool = True  # routing.leader: one node routes for all (False: every node routes)
    origins: list[str] = field(default_factory=list)  # pages allowed besides each node's own (a load balancer's)
    offer_timeout_s: float = OFFER_TIMEOUT_S  # a test of offer timeouts keeps it short; others may not want them

    def node(self, name: str) -> Node:
        port = free_port()
        config = self.workdir / f"{name}.toml"
        config.write_text(
            f"""
[server]
port = {port}
[store]
backend = "redis"
redis_url = "{self.redis_url}"
redis_prefix = "{self.prefix}"
node_id = "{name}"
lease_s = {LEASE_S}
[webchat]
allowed_origins = ["http://127.0.0.1:{port}", {", ".join(f'"{o}"' for o in self.origins)}]
max_frames_per_s = 1000
frame_burst = 1000
new_visitors_per_min = 100000  # every test visitor comes from 127.0.0.1
[desk]
default_wrap_up_s = {WRAP_UP_S}
[routing]
offer_timeout_s = {self.offer_timeout_s}
leader = {str(self.leader).lower()}
[auth]  # Argon2id at the suite's cost (tests/conftest.py)
hash_time_cost = 1
hash_memory_kib = 1024
hash_lanes = 1
[logging]
format = "json"
"""
        )
        node = Node(name, port, config)
        self.nodes.append(node)
        return node

    def add_agent(
        self, username: str, chats: int = 3, languages: tuple[str, ...] = ("en", "id"), role: str = "agent"
    ) -> None:
        """Create an agent (or a ``role``) through the CLI of a (not yet running) node: the account lands in Redis."""
        config = self.nodes[0].config if self.nodes else self.node("cli").config
        done = subprocess.run(
            [
                *(sys.executable, "-m", "contact_center", "--config", str(config), "user", "add", username),
                *("--skill", "general=3", *(x for lang in languages for x in ("--skill", f"lang_{lang}=3"))),
                *("--capacity", f"chat={chats}", "--role", role, "--password-stdin"),
            ],
            input=f"{PASSWORD}\n".encode(),
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()

    async def start(self, name: str) -> Node:
        node = next((n for n in self.nodes if n.name == name), None) or self.node(name)
        node.proc = await start_engine(node.config, node.port, node.log)
        return node


async def waiting(node: Node, username: str = "ayu") -> list[str]:
    """The queue as ``node`` shows it (GET /api/queue): contact ids in order."""
    token = await login(node, username)  # type: ignore[arg-type]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{node.url}/api/queue", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200, await r.text()
            return [c["id"] for c in (await r.json())["waiting"]]


async def drain(client: WsClient, quiet: float = 0.2) -> list[dict[str, Any]]:
    """Everything the client has been sent, until nothing more comes for ``quiet`` seconds."""
    got, client.received = client.received, []
    while True:
        try:
            async with asyncio.timeout(quiet):
                got.append(await client.next())
        except TimeoutError:
            return got
