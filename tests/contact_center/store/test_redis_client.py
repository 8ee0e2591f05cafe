"""The engine's Redis clients: round trips counted, a burst of requests sharing them, never too many connections."""

from __future__ import annotations

import asyncio
import uuid

from contact_center.model import Customer
from contact_center.store.redis import RedisStore
from contact_center.store.redis.client import redis_client


async def test_each_request_and_each_pipeline_is_one_round_trip(redis_url: str):
    """A command is one round trip, a pipeline of many commands is one too; the counter sees exactly those."""
    trips = [0]

    def count() -> None:
        trips[0] += 1

    client = redis_client(redis_url, count=count)
    try:
        await client.ping()  # opens the connection (its handshake counts as well)
        before = trips[0]
        await client.set("test:rt:a", "1")
        assert trips[0] == before + 1
        async with client.pipeline(transaction=False) as pipe:
            for i in range(50):
                pipe.set(f"test:rt:{i}", i)
            await pipe.execute()
        assert trips[0] == before + 2
    finally:
        await client.aclose()


async def test_reads_asked_for_together_share_a_round_trip(redis_url: str):
    """300 clients reading in the same moment cost the store a few round trips, not 300, and few connections."""
    trips = [0]

    def count() -> None:
        trips[0] += 1

    store = await RedisStore(redis_url, f"test:{uuid.uuid4().hex[:12]}:", count=count).open()
    try:
        await store.create_customer(Customer(id="ana", name="Ana", created_at=1.0))
        await store.get_customer("ana")  # the reading connection is open (its handshake counts too)
        before = trips[0]
        found = await asyncio.gather(*(store.get_customer("ana") for _ in range(300)))
        assert all(c is not None and c.name == "Ana" for c in found)
        assert trips[0] - before <= 3
        pool = store._reader.connection_pool  # every connection it ever opened is back in it now
        assert len(pool._available_connections) + len(pool._in_use_connections) == 1
    finally:
        await store.close()


async def test_more_requests_than_connections_wait_their_turn(redis_url: str):
    """A client with 4 connections serves 200 requests at once: they queue for a connection instead of failing."""
    client = redis_client(redis_url, max_connections=4)
    try:
        answers = await asyncio.gather(*(client.incr("test:turns") for _ in range(200)))
        assert len(answers) == 200 and len(set(answers)) == 200
    finally:
        await client.delete("test:turns")
        await client.aclose()
