"""A login flood beside a chat: another client's round trip with and without 20 parallel wrong logins.

The engine runs in its own process on the embedded store. One widget opens a chat; its round
trip is a message written to the socket until its ``ack`` is read (the message recorded, the
commit durable), one after another. First without load (the baseline, in the same run), then
while 20 clients post wrong passwords to ``/api/login`` as fast as they are answered. Each wrong
password costs an Argon2id check (about 0.1 s of CPU); the engine runs them on a low-priority
thread, off its event loop. Back-off is lifted for the run, so every attempt is checked. The
flood comes from a process of its own (``python -m bench.logins flood URL N``), so the chat
client's loop is not the one busy with the flood's answers.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from tqdm import tqdm

from bench.e2e import percentile
from bench.engine_proc import EngineProcess, cpu_seconds, messages

__all__ = ["run"]

_NO_BACKOFF = """
[auth]
free_failures = 1000000
client_free_failures = 1000000
lockout_after = 1000000
"""


async def _round_trips(ws: aiohttp.ClientWebSocketResponse, n: int, label: str) -> list[float]:
    trips = []
    for i in tqdm(range(n), desc=label, unit="msg", mininterval=1.0):
        client_id = f"{label}-{i}"
        start = time.perf_counter()
        await ws.send_str(orjson.dumps({"type": "message", "client_id": client_id, "text": "halo"}).decode())
        acked = False
        while not acked:
            frame = await ws.receive()
            acked = any(m.get("type") == "ack" and m.get("client_id") == client_id for m in messages(frame.data))
        trips.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.005)  # a chatty customer, not a flood of its own
    return trips


async def _guess(http: aiohttp.ClientSession, url: str, worker: int, answered: list[int]) -> None:
    n = 0
    while True:
        body = {"username": f"nobody{worker}-{n}", "password": "not-the-password"}
        async with http.post(f"{url}/api/login", json=body) as r:
            await r.read()
            answered[0] += r.status == 401
        n += 1


async def flood(url: str, clients: int) -> None:
    """Post wrong logins from ``clients`` at once until killed; each second, how many were answered so far."""
    answered = [0]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        guessers = [asyncio.ensure_future(_guess(http, url, w, answered)) for w in range(clients)]
        while True:
            await asyncio.sleep(0.5)
            print(answered[0], flush=True)
            if any(g.done() for g in guessers):
                raise RuntimeError("a guesser stopped")


def _summary(trips: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(trips, 50), "p99_ms": percentile(trips, 99), "max_ms": max(trips)}


async def run(n: int = 1000, flood: int = 20) -> dict[str, Any]:
    engine = await EngineProcess.create(agents=0, extra=_NO_BACKOFF)
    await engine.start()
    assert engine.proc is not None
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            async with http.ws_connect(f"{engine.url}/ws/chat", origin=engine.url) as ws:
                await ws.send_json({"type": "hello", "topic": "general", "language": "en"})
                await ws.receive()
                await _round_trips(ws, 20, "warm-up")
                quiet = await _round_trips(ws, n, "quiet")
                flooding = await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "bench.logins", "flood", engine.url, str(flood)),
                    stdout=subprocess.PIPE,
                    cwd=Path(__file__).resolve().parents[1],
                )
                assert flooding.stdout is not None
                answered0 = int(await flooding.stdout.readline())  # the flood is under way
                cpu0, t0 = cpu_seconds(engine.proc.pid), time.perf_counter()
                flooded = await _round_trips(ws, n, "flooded")
                seconds = time.perf_counter() - t0
                engine_cpu = (cpu_seconds(engine.proc.pid) - cpu0) / seconds
                flooding.kill()
                counts, _ = await flooding.communicate()
                logins = (int(counts.split()[-1]) - answered0) / seconds
    finally:
        engine.stop()
    q, f = _summary(quiet), _summary(flooded)
    return {
        "round_trips": n,
        "parallel_logins": flood,
        "quiet": q,
        "flooded": f,
        "p99_ratio": f["p99_ms"] / q["p99_ms"],
        "p50_ratio": f["p50_ms"] / q["p50_ms"],
        "wrong_logins_per_s": logins,
        "engine_cpu_share": engine_cpu,
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["flood"]:
        asyncio.run(flood(sys.argv[2], int(sys.argv[3])))
    else:
        print(json.dumps(asyncio.run(run()), indent=2))
