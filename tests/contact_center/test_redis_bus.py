"""Engine events across nodes: two RedisBus instances on one Redis stand for two engine nodes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from contact_center.events import MessagePosted, OfferClosed
from contact_center.model import HistoryEvent
from contact_center.redis_bus import RedisBus
from tests.conftest import RedisServer

# Most tests here publish plain dicts: carried as they are, not as the engine's events.
_AS_IS: dict[str, Any] = {"encode": lambda m: m, "decode": lambda d: d}


async def settled(condition: Any, timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds (events cross Redis asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
async def nodes(redis_url: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    a, b = RedisBus(redis_url, prefix, "node-a", **_AS_IS), RedisBus(redis_url, prefix, "node-b", **_AS_IS)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


async def test_an_event_published_on_one_node_reaches_listeners_on_the_other_in_order(nodes):
    """Node B's events for agent:1 reach node A's listener in order; B's own listener hears each once."""
    a, b = nodes
    on_a: list[int] = []
    on_b: list[int] = []
    a.subscribe("agent:1", lambda m: on_a.append(m["n"]))
    b.subscribe("agent:1", lambda m: on_b.append(m["n"]))
    await asyncio.sleep(0.1)  # the subscriptions reach Redis
    for n in range(200):
        b.publish("agent:1", {"type": "message", "n": n})
        if n % 50 == 0:
            await asyncio.sleep(0)  # several turns of the loop, several pipelines
    await settled(lambda: len(on_a) == 200)
    await asyncio.sleep(0.1)
    assert on_a == list(range(200))
    assert on_b == list(range(200))  # told at once, never again through Redis


async def test_topics_are_kept_apart_and_a_node_stops_hearing_a_topic_it_left(nodes):
    """A listener hears its own topic only; once a node's last listener leaves, that node hears no more."""
    a, b = nodes
    heard: list[tuple[str, int]] = []
    stop = a.subscribe("customer:ana", lambda m: heard.append(("ana", m["n"])))
    a.subscribe("customer:budi", lambda m: heard.append(("budi", m["n"])))
    await asyncio.sleep(0.1)
    b.publish("customer:ana", {"n": 1})
    b.publish("customer:budi", {"n": 2})
    b.publish("customer:citra", {"n": 3})  # nobody on A listens
    await settled(lambda: len(heard) == 2)
    stop()
    await asyncio.sleep(0.1)  # the unsubscription reaches Redis
    b.publish("customer:ana", {"n": 4})
    b.publish("customer:budi", {"n": 5})
    await settled(lambda: len(heard) == 3)
    await asyncio.sleep(0.1)
    assert heard == [("ana", 1), ("budi", 2), ("budi", 5)]


async def test_a_node_hears_again_after_redis_comes_back(tmp_path: Path):
    """Redis restarts: publishing meanwhile fails quietly (at most once), and once it is back both nodes
    resubscribe and hear each other again."""
    redis = RedisServer(tmp_path)
    redis.start()
    a, b = RedisBus(redis.url, "t:", "node-a", **_AS_IS), RedisBus(redis.url, "t:", "node-b", **_AS_IS)
    try:
        await a.start()
        await b.start()
        heard: list[int] = []
        a.subscribe("agent:7", lambda m: heard.append(m["n"]))
        await asyncio.sleep(0.1)
        b.publish("agent:7", {"n": 1})
        await settled(lambda: heard == [1])
        redis.stop()
        b.publish("agent:7", {"n": 2})  # lost: nobody can carry it
        await asyncio.sleep(0.3)
        redis.start()
        for n in range(3, 60):  # until A's subscriber connection is back
            b.publish("agent:7", {"n": n})
            await asyncio.sleep(0.1)
            if heard[-1] != 1:
                break
        assert heard[0] == 1 and 2 not in heard and heard[-1] > 2
        assert heard[1:] == sorted(heard[1:])
    finally:
        await a.close()
        await b.close()
        redis.stop()


async def test_the_engines_events_reach_the_other_node_as_the_same_events(redis_url: str):
    """With the events' codec (the default), what one node publishes is, on the other, equal to what was published."""
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    a, b = RedisBus(redis_url, prefix, "node-a"), RedisBus(redis_url, prefix, "node-b")
    await a.start()
    await b.start()
    try:
        heard: list[Any] = []
        a.subscribe("agent:1", heard.append)
        await asyncio.sleep(0.1)
        message = HistoryEvent(7, "ana", "c1", "chat", "message", 1.5, "customer", {"text": "Halo"}, 3, "m-3")
        sent = [MessagePosted(message), OfferClosed("o1", "c1", "timed_out")]
        for event in sent:
            b.publish("agent:1", event)
        await settled(lambda: len(heard) == 2)
        assert heard == sent
    finally:
        await a.close()
        await b.close()
