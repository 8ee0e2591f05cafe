"""What delivery from the record costs across nodes: the watch's call, and the read that fills a gap.

A node sharing a Redis asks it, every ``webchat.delivery_check_s``, for the last ``seq`` of every
conversation its sockets follow (``cc_last_seqs``, one function call); a socket that missed a
message reads its conversation after the last ``seq`` it gave (``messages``). Both are measured
on a private redis-server with 1,000 and 10,000 sockets, each following a conversation of 20
messages, from one engine's store client: the watch's whole round (every socket's conversations
gathered, asked about, compared). Baseline in the same run: the same question asked as a
pipeline of one HGET per conversation (one round trip too, the obvious way to ask it).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

from tqdm import tqdm

from bench.cluster import RedisProcess
from contact_center.clock import SystemClock
from contact_center.delivery import Watch
from contact_center.model import Channel, Contact, ContactState, Customer
from contact_center.store.redis import RedisStore

__all__ = ["run"]

MESSAGES = 20


def _chat(i: int) -> Contact:
    return Contact(
        id=f"c{i}",
        channel=Channel.CHAT,
        customer_id=f"cu{i}",
        state=ContactState.ASSIGNED,
        created_at=1.0,
        enqueued_at=1.0,
        skills=[("general", 1)],
    )


async def _conversations(store: RedisStore, count: int) -> list[str]:
    for start in tqdm(range(0, count, 500), desc=f"{count:,} conversations", unit="batch"):
        batch = range(start, min(count, start + 500))
        await asyncio.gather(*(store.create_customer(Customer(id=f"cu{i}", created_at=1.0)) for i in batch))
        writes = []
        for i in batch:
            chat = _chat(i)
            writes.append(store.add_message(chat, "customer", "halo", f"{i}-0", 2.0, create=True))
            writes += [
                store.add_message(chat, "customer", f"pesan {n}", f"{i}-{n}", 2.0 + n) for n in range(1, MESSAGES)
            ]
        await asyncio.gather(*writes)
    return [f"c{i}" for i in range(count)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


async def _timed(call: Any, redis: RedisProcess, repeat: int) -> dict[str, float]:
    walls, cpus = [], []
    redis_cpu = redis.cpu()
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        await call()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return {
        "p50_ms": statistics.median(walls),
        "p99_ms": _percentile(walls, 99),
        "client_cpu_ms": statistics.median(cpus),
        "redis_cpu_ms": (redis.cpu() - redis_cpu) * 1000 / repeat,
    }


async def _measure(store: RedisStore, redis: RedisProcess, ids: list[str], repeat: int) -> dict[str, Any]:
    keys = [store.keys.conversation(c) for c in ids]
    node = Watch(store.last_seqs, SystemClock(), gap_wait_s=0.5, check_s=1.0)

    async def read(contact_id: str, after: int) -> list[dict[str, Any]]:
        raise AssertionError("every socket is up to date: nothing to fill")

    for contact_id in ids:  # one socket per conversation, each given everything
        node.follow(lambda m: None, read, lambda c: True).start(contact_id, MESSAGES)

    async def watch() -> None:
        assert await node.check() == len(ids)

    async def pipelined() -> None:
        async with store._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, "last")
            replies = await pipe.execute()
        assert int(replies[-1]) == MESSAGES

    async def fill() -> None:
        got = await store.messages(ids[len(ids) // 2], MESSAGES - 5)
        assert [e.seq for e in got] == list(range(MESSAGES - 4, MESSAGES + 1))

    rounds: dict[str, list[dict[str, float]]] = {"watch": [], "pipeline": []}
    for _ in range(3):  # alternating, so both see the same machine
        rounds["watch"].append(await _timed(watch, redis, repeat))
        rounds["pipeline"].append(await _timed(pipelined, redis, repeat))
    best = {name: min(r, key=lambda x: x["p50_ms"]) for name, r in rounds.items()}
    return {
        "conversations": len(ids),
        "watch": best["watch"],
        "pipeline": best["pipeline"],
        "ratio_p50": best["watch"]["p50_ms"] / best["pipeline"]["p50_ms"],
        "fill": await _timed(fill, redis, repeat * 5),
    }


async def run(sizes: tuple[int, ...] = (1_000, 10_000), repeat: int = 20) -> dict[str, Any]:
    redis = RedisProcess()
    redis.start()
    try:
        store = await RedisStore(redis.url, f"bench:{uuid.uuid4().hex[:8]}:").open()
        try:
            ids = await _conversations(store, max(sizes))
            return {"sizes": [await _measure(store, redis, ids[:n], repeat) for n in sizes], "messages": MESSAGES}
        finally:
            await store.close()
    finally:
        redis.stop()


if __name__ == "__main__":
    import json

    print(json.dumps(asyncio.run(run()), indent=2))
