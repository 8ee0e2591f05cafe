"""Ingest-to-offer latency over real websockets: 200 new chats a second, 500 agents connected.

Customers (widget protocol) and agents (desk protocol) are driven from this process with
aiohttp's client; the engine runs in its own process. A chat's latency runs from the
moment its first message is written to the customer's socket to the moment the offer
arrives on the agent's socket, both read on this process's clock. Agents accept at once
and close at once (wrap-up 0 s), so capacity keeps turning over.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp
import orjson
from tqdm import tqdm

from bench.engine_proc import EngineProcess, cpu_seconds, messages, stolen_seconds

__all__ = ["run"]


def dumps(obj: Any) -> str:
    """The load generator's JSON: as light as it can be, so it takes less of the machine."""
    return orjson.dumps(obj).decode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Floor:
    """500 agent desks that accept and close every offer."""

    def __init__(self) -> None:
        self.offered_at: dict[str, float] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def agent(
        self, http: aiohttp.ClientSession, url: str, token: str, ready: asyncio.Event, count: list[int]
    ) -> None:
        async with http.ws_connect(f"{url}/ws/desk") as ws:
            await ws.send_json({"type": "hello", "token": token})
            await ws.send_json({"type": "set_status", "status": "available"})
            async for frame in ws:
                for message in messages(frame.data):
                    await self.handle(ws, message, ready, count)

    async def handle(
        self, ws: aiohttp.ClientWebSocketResponse, message: dict[str, Any], ready: asyncio.Event, count: list[int]
    ) -> None:
        kind = message["type"]
        if kind == "status" and message["status"] == "available":
            count[0] += 1
            if count[0] == len(self.tasks):
                ready.set()
        elif kind == "offer":
            self.offered_at[message["contact"]["id"]] = time.perf_counter()
            await ws.send_json({"type": "accept", "offer_id": message["offer_id"]})
        elif kind == "assigned":
            await ws.send_json({"type": "close", "contact_id": message["contact"]["id"], "disposition": "resolved"})


async def customer(http: aiohttp.ClientSession, url: str, i: int, sent: dict[str, float], done: asyncio.Event) -> None:
    async with http.ws_connect(f"{url}/ws/chat", origin=url) as ws:
        await ws.send_json({"type": "hello"})
        await ws.receive_json()
        sent_at = time.perf_counter()
        await ws.send_str(dumps({"type": "message", "client_id": f"c{i}", "text": f"Halo, pertanyaan nomor {i}"}))
        async for frame in ws:
            kinds = set()
            for message in messages(frame.data):
                kinds.add(message["type"])
                if message["type"] == "ack":
                    sent[message["contact_id"]] = sent_at
            if "ended" in kinds:
                break
        done.set()


async def load(http: aiohttp.ClientSession, url: str, rate: float, count: int, first: int) -> dict[str, float]:
    """Start ``count`` chats at ``rate`` per second; return when all have ended."""
    sent: dict[str, float] = {}
    dones = [asyncio.Event() for _ in range(count)]
    chats = []
    start = time.perf_counter()
    for i in tqdm(range(count), desc=f"chats at {rate:.0f}/s", unit="chat", mininterval=1.0):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        chats.append(asyncio.create_task(customer(http, url, first + i, sent, dones[i])))
    await asyncio.wait_for(asyncio.gather(*(d.wait() for d in dones)), 120)
    await asyncio.gather(*chats)
    return sent


async def run(agents: int = 500, rate: float = 200.0, seconds: float = 10.0, warmup_s: float = 2.0) -> dict[str, Any]:
    """Warm up for ``warmup_s`` (not measured), then measure ``seconds`` of load."""
    engine = await EngineProcess.create(agents)
    await engine.start()
    assert engine.proc is not None
    floor = Floor()
    ready, connected = asyncio.Event(), [0]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), json_serialize=dumps) as http:
            floor.tasks = [
                asyncio.create_task(floor.agent(http, engine.url, t, ready, connected)) for t in engine.tokens or []
            ]
            await asyncio.wait_for(ready.wait(), 60)
            await load(http, engine.url, rate, int(rate * warmup_s), 0)
            cpu_start, own_cpu, stolen = cpu_seconds(engine.proc.pid), time.process_time(), stolen_seconds()
            start = time.perf_counter()
            sent = await load(http, engine.url, rate, int(rate * seconds), 1_000_000)
            elapsed = time.perf_counter() - start
            rss = engine.rss_kib()
            engine_cpu, own_cpu = cpu_seconds(engine.proc.pid) - cpu_start, time.process_time() - own_cpu
            stolen = stolen_seconds() - stolen
            for task in floor.tasks:
                task.cancel()
            await asyncio.gather(*floor.tasks, return_exceptions=True)
    finally:
        engine.stop()
    latencies = [(floor.offered_at[c] - t) * 1000 for c, t in sent.items() if c in floor.offered_at]
    return {
        "agents": agents,
        "rate_per_s": rate,
        "chats": len(latencies),
        "elapsed_s": elapsed,
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "mean_ms": statistics.fmean(latencies),
        "engine_rss_mib": rss / 1024,
        "engine_cpu_share": engine_cpu / elapsed,
        "generator_cpu_share": own_cpu / elapsed,
        "stolen_cpu_share": stolen / elapsed,
    }


async def rounds(count: int = 5) -> dict[str, Any]:
    """Several independent runs (a fresh engine each): the median run by p99, and every run's p99."""
    runs = [await run() for _ in range(count)]
    runs.sort(key=lambda r: r["p99_ms"])
    return {
        **runs[len(runs) // 2],
        "p99_ms_each_run": [round(r["p99_ms"], 2) for r in runs],
        "stolen_each_run": [round(r["stolen_cpu_share"], 3) for r in runs],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(rounds()), indent=2))
