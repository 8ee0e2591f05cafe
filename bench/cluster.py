"""Contacts routed per second by 1, 2 and 4 engine nodes sharing one Redis.

Each run starts a private ``redis-server`` (append-only file, ``appendfsync everysec``, the
setting most deployments choose), writes the agents' accounts into it, and starts N engine
processes on it (``[store] backend = "redis"``, one key prefix, a node id each). Agent desks
and customers' widgets are spread over the nodes in turn, as a load balancer would spread
them. Every customer keeps one socket and chats again as soon as a chat ends; every agent
accepts each offer and closes the chat at once (wrap-up 0 s), so capacity keeps turning
over and the queue never runs dry. A contact counts as routed when its offer reaches the
agent's desk.

Redis round trips are counted by the engines themselves (``cc_redis_round_trips_total`` on
``/metrics``, a pipeline counting as one) over the measured window, for every client: the
store, the bus and the leases. The physical ceiling is ``redis-benchmark -t set`` against
the same redis-server in the same run: requests per second of plain SETs, one per round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from tqdm import tqdm

from bench.engine_proc import EngineProcess, cpu_seconds, free_port, messages, seed_agents, stolen_seconds
from contact_center.model import Channel, Contact, ContactState
from contact_center.store import Changes, RedisStore

__all__ = ["run"]

NODE_COUNTS = (1, 2, 4)
_PERSISTENCE = ("--appendonly", "yes", "--appendfsync", "everysec")


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


@dataclass
class RedisProcess:
    """A private redis-server on a free loopback port, in a directory of its own."""

    port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cc-bench-redis-")))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", *_PERSISTENCE],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout == b"PONG\n":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def cpu(self) -> float:
        assert self.proc is not None
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        shutil.rmtree(self.workdir, ignore_errors=True)


def set_ceiling(port: int, requests: int = 300_000) -> float:
    """Plain SETs per second against the server (redis-benchmark: 50 clients, no pipelining)."""
    done = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(requests), "-q", "--csv"],
        capture_output=True,
        check=True,
        text=True,
    )
    for line in done.stdout.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if cells[0] == "SET":
            return float(cells[1])
    raise RuntimeError(f"redis-benchmark printed no SET line: {done.stdout!r}")


def scrape(text: str) -> dict[str, float]:
    """A Prometheus text exposition as ``{'name{labels}': value}``."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


@dataclass
class Tally:
    """What the load generator saw: offers by arrival time, and chats it started."""

    offers: list[float] = field(default_factory=list)
    started: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def between(self, start: float, end: float) -> int:
        return sum(1 for t in self.offers if start <= t < end)


async def agent_desk(
    http: aiohttp.ClientSession, url: str, token: str, ready: list[int], tally: Tally, *, accept: bool = True
) -> None:
    async with http.ws_connect(f"{url}/ws/desk") as ws:
        await ws.send_str(dumps({"type": "hello", "token": token}))
        await ws.send_str(dumps({"type": "set_status", "status": "available"}))
        async for frame in ws:
            for m in messages(frame.data):
                kind = m["type"]
                if kind == "offer":
                    tally.offers.append(time.perf_counter())
                    if accept:
                        await ws.send_str(dumps({"type": "accept", "offer_id": m["offer_id"]}))
                elif kind == "assigned":
                    contact_id = m["contact"]["id"]
                    await ws.send_str(dumps({"type": "close", "contact_id": contact_id, "disposition": "resolved"}))
                elif kind == "status" and m["status"] == "available":
                    ready[0] += 1
                elif kind == "error" and m["code"] != "not_held":  # an offer taken back meanwhile: expected
                    tally.errors.append(m)


async def customer(http: aiohttp.ClientSession, url: str, tally: Tally) -> None:
    """One customer's socket: a chat, and as soon as it ends, the next."""
    async with http.ws_connect(f"{url}/ws/chat", origin=url) as ws:
        await ws.send_str(dumps({"type": "hello", "language": "id"}))
        await ws.receive()
        n = 0
        await ws.send_str(dumps({"type": "message", "client_id": f"m{n}", "text": "Halo, pesanan saya di mana?"}))
        tally.started += 1
        async for frame in ws:
            for m in messages(frame.data):
                if m["type"] == "ended":
                    n += 1
                    text = f"Halo lagi, pertanyaan ke-{n}"
                    await ws.send_str(dumps({"type": "message", "client_id": f"m{n}", "text": text}))
                    tally.started += 1
                elif m["type"] == "error":
                    tally.errors.append(m)


async def node_metrics(http: aiohttp.ClientSession, nodes: list[EngineProcess]) -> list[dict[str, float]]:
    scraped = []
    for node in nodes:
        async with http.get(f"{node.url}/metrics") as r:
            scraped.append(scrape(await r.text()))
    return scraped


def _sum(scraped: list[dict[str, float]], prefix: str) -> float:
    return sum(v for s in scraped for k, v in s.items() if k.startswith(prefix))


@contextlib.contextmanager
def _nodes(count: int, redis: RedisProcess, prefix: str, offer_timeout_s: float = 20) -> Iterator[list[EngineProcess]]:
    nodes = []
    try:
        for i in range(count):
            store = f'backend = "redis"\nredis_url = "{redis.url}"\nredis_prefix = "{prefix}"\nnode_id = "n{i}"'
            nodes.append(EngineProcess.on(store, offer_timeout_s=offer_timeout_s))
        yield nodes
    finally:
        for node in nodes:
            node.stop()


async def run_nodes(
    count: int, redis: RedisProcess, agents: int, customers: int, warmup_s: float, seconds: float
) -> dict[str, Any]:
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    store = await RedisStore(redis.url, prefix).open()
    tokens = await seed_agents(store, agents, capacity_chat=3)
    await store.close()
    tally, ready = Tally(), [0]
    with _nodes(count, redis, prefix) as nodes:
        for node in nodes:
            await node.start()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            tasks = [
                asyncio.create_task(agent_desk(http, nodes[i % count].url, token, ready, tally))
                for i, token in enumerate(tokens)
            ]
            while ready[0] < agents:
                await asyncio.sleep(0.05)
            tasks += [asyncio.create_task(customer(http, nodes[i % count].url, tally)) for i in range(customers)]
            for _ in tqdm(range(int(warmup_s * 10)), desc=f"{count} node(s): warm-up", unit="tick", leave=False):
                await asyncio.sleep(0.1)
            window = await _measured(http, nodes, redis, seconds, f"{count} node(s): measuring")
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return {"nodes": count, "agents": agents, "customers": customers, **_routed(window, tally)}


@dataclass
class _Window:
    """What the nodes, Redis and this process did between ``start`` and ``end`` (perf_counter)."""

    start: float
    end: float
    before: list[dict[str, float]]
    after: list[dict[str, float]]
    node_cpu: list[float]
    redis_cpu: float
    own_cpu: float
    stolen: float


async def _measured(
    http: aiohttp.ClientSession, nodes: list[EngineProcess], redis: RedisProcess, seconds: float, label: str
) -> _Window:
    before = await node_metrics(http, nodes)
    pids = [n.proc.pid for n in nodes if n.proc is not None]
    cpu0, redis0, own0, stolen0 = [cpu_seconds(p) for p in pids], redis.cpu(), time.process_time(), stolen_seconds()
    start = time.perf_counter()
    for _ in tqdm(range(int(seconds * 10)), desc=label, unit="tick", leave=False):
        await asyncio.sleep(0.1)
    end = time.perf_counter()
    after = await node_metrics(http, nodes)
    node_cpu = [cpu_seconds(p) - c for p, c in zip(pids, cpu0, strict=True)]
    own, stolen = time.process_time() - own0, stolen_seconds() - stolen0
    return _Window(start, end, before, after, node_cpu, redis.cpu() - redis0, own, stolen)


def _routed(w: _Window, tally: Tally) -> dict[str, Any]:
    elapsed = w.end - w.start
    routed = tally.between(w.start, w.end)
    trips = {
        client: _sum(w.after, f'cc_redis_round_trips_total{{client="{client}"}}')
        - _sum(w.before, f'cc_redis_round_trips_total{{client="{client}"}}')
        for client in ("store", "bus", "leases")
    }
    committed = _sum(w.after, "cc_offers_total") - _sum(w.before, "cc_offers_total")
    return {
        "elapsed_s": elapsed,
        "routed": routed,
        "routed_per_s": routed / elapsed,
        "offers_committed": committed,
        "stale_commits": _sum(w.after, "cc_commits_stale_total") - _sum(w.before, "cc_commits_stale_total"),
        "round_trips": trips,
        "round_trips_per_routed": sum(trips.values()) / max(1, committed),
        "node_cpu_share": [c / elapsed for c in w.node_cpu],
        "redis_cpu_share": w.redis_cpu / elapsed,
        "generator_cpu_share": w.own_cpu / elapsed,
        "stolen_cpu_share": w.stolen / elapsed,
        "errors": tally.errors[:5],
        "error_count": len(tally.errors),
    }


def _waiting_chat(i: int, now: float) -> Contact:
    return Contact(
        id=f"drain{i:06d}",
        channel=Channel.CHAT,
        customer_id=f"visitor{i:06d}",
        state=ContactState.QUEUED,
        created_at=now,
        enqueued_at=now + i * 1e-6,
        skills=[("general", 1), ("lang_id", 1)],
        version=1,
    )


async def drain_nodes(
    count: int, redis: RedisProcess, agents: int = 100, capacity: int = 50, contacts: int = 5000
) -> dict[str, Any]:
    """A burst of ``contacts`` arrivals (each its own record, as many clients would write them) while
    ``agents`` desks with room for all wait: how fast the routing node offers them all."""
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    store = await RedisStore(redis.url, prefix).open()
    tokens = await seed_agents(store, agents, capacity_chat=capacity)
    tally, ready = Tally(), [0]
    try:
        with _nodes(count, redis, prefix, offer_timeout_s=600) as nodes:
            for node in nodes:
                await node.start()
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                tasks = [
                    asyncio.create_task(agent_desk(http, nodes[i % count].url, t, ready, tally, accept=False))
                    for i, t in enumerate(tokens)
                ]
                while ready[0] < agents:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)
                before = await node_metrics(http, nodes)
                pids = [n.proc.pid for n in nodes if n.proc is not None]
                cpu0, redis0 = [cpu_seconds(p) for p in pids], redis.cpu()
                start, written = await _burst(store, contacts, tally, f"{count} node(s): backlog offered")
                node_cpu = [cpu_seconds(p) - c for p, c in zip(pids, cpu0, strict=True)]
                redis_cpu = redis.cpu() - redis0
                after = await node_metrics(http, nodes)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await store.close()
    elapsed = max(tally.offers) - start if tally.offers else float("nan")
    trips = _sum(after, "cc_redis_round_trips_total") - _sum(before, "cc_redis_round_trips_total")
    committed = _sum(after, "cc_offers_total") - _sum(before, "cc_offers_total")
    return {
        "nodes": count,
        "contacts": contacts,
        "offered": len(tally.offers),
        "written_s": written,
        "elapsed_s": elapsed,
        "offers_per_s": len(tally.offers) / elapsed,
        "round_trips_per_offer": trips / max(1, committed),
        "node_cpu_share": [c / elapsed for c in node_cpu],
        "redis_cpu_share": redis_cpu / elapsed,
        "errors": tally.errors[:5],
    }


async def _burst(store: RedisStore, contacts: int, tally: Tally, label: str) -> tuple[float, float]:
    """Write ``contacts`` waiting chats at once, each its own commit; wait until all are offered (2 minutes at most).

    Returns when the writing started (perf_counter) and how long it took.
    """
    now = time.time()
    burst = [_waiting_chat(i, now) for i in range(contacts)]
    start = time.perf_counter()
    await asyncio.gather(
        *(store.commit(Changes(contacts=(c,), expected={f"contact:{c.id}": 0}, node="bench")) for c in burst)
    )
    written = time.perf_counter() - start
    with tqdm(total=contacts, desc=label, unit="offer", leave=False) as bar:
        while len(tally.offers) < contacts and time.perf_counter() - start < 120:
            bar.update(len(tally.offers) - bar.n)
            await asyncio.sleep(0.05)
    return start, written


async def run(agents: int = 120, customers: int = 240, warmup_s: float = 3.0, seconds: float = 10.0) -> dict[str, Any]:
    redis = RedisProcess()
    redis.start()
    try:
        ceiling_before = set_ceiling(redis.port)
        runs = [await run_nodes(n, redis, agents, customers, warmup_s, seconds) for n in NODE_COUNTS]
        drains = [await drain_nodes(n, redis) for n in NODE_COUNTS]
        ceiling_after = set_ceiling(redis.port)
    finally:
        redis.stop()
    ceiling = (ceiling_before + ceiling_after) / 2
    for r in runs:
        r["ratio_to_set"] = r["routed_per_s"] / ceiling
    for d in drains:
        d["ratio_to_set"] = d["offers_per_s"] / ceiling
    return {"set_per_s": ceiling, "set_per_s_each": [ceiling_before, ceiling_after], "runs": runs, "drains": drains}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run()), indent=2))
