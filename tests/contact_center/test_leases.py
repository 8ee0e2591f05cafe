"""Leases on their own, on a real Redis: who is alive, who routes, and what a node is told when its lease lapsed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from contact_center.leases import Leases

LEASE_S = 2.0  # near the default (3 s): its renewals' time limit (a third of it) holds on a busy machine
pytestmark = pytest.mark.timeout(120)


async def until(condition: Callable[[], Awaitable[bool]], within: float = 40.0) -> None:
    """Wait for ``condition`` (leases move by time: a busy machine may take longer than a lease)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not within the time allowed")
        await asyncio.sleep(0.05)


def pair(redis_url: str, **kw: object) -> tuple[Leases, Leases]:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    return Leases(redis_url, prefix, "a", LEASE_S, **kw), Leases(redis_url, prefix, "b", LEASE_S, **kw)  # type: ignore[arg-type]


async def test_one_node_routes_and_another_takes_over_once_it_gives_up(redis_url: str):
    led: list[str] = []
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    a = Leases(redis_url, prefix, "a", LEASE_S, on_lead=lambda: led.append("a"))
    b = Leases(redis_url, prefix, "b", LEASE_S, on_lead=lambda: led.append("b"))
    await a.start()
    await b.start()
    try:
        assert (a.leading(), b.leading(), led) == (True, False, ["a"])
        await a.close()  # gives both leases up at once
        await until(lambda: _true(b.leading()))
        assert led == ["a", "b"]
    finally:
        await b.close()


async def test_a_node_that_stopped_renewing_is_dead_once_its_lease_lapsed(redis_url: str):
    a, b = pair(redis_url)
    await a.start()
    await b.start()
    try:
        assert await b.dead(["a", "b"]) == set()
        await a.close(release=False)  # as a node killed would: its lease lapses by itself
        await until(lambda: _is(b.dead(["a"]), {"a"}))
        assert await b.alive("b") and not await b.alive("a")
    finally:
        await b.close()


async def test_a_node_asks_nothing_of_the_others_before_a_whole_lease_in_touch(redis_url: str):
    """Straight after an outage every lease has lapsed; none counts as dead until the others had time to renew."""
    a, b = pair(redis_url)
    await a.start()
    try:
        await b.start()
        assert await b.dead(["nobody"]) == set()  # just in touch: nobody judged yet
        await until(lambda: _is(b.dead(["nobody"]), {"nobody"}))
    finally:
        await a.close()
        await b.close()


async def test_a_node_whose_lease_lapsed_is_told_to_read_everything_again(redis_url: str):
    lapsed: list[bool] = []
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    a = Leases(redis_url, prefix, "a", LEASE_S, on_lapsed=lambda: lapsed.append(True))
    await a.start()
    try:
        other = Redis.from_url(redis_url)
        await other.delete(a.keys.lease("a"))  # as if it had been cut off for longer than a lease
        await other.aclose()
        await until(lambda: _true(bool(lapsed)))
        assert await a.alive("a")  # renewed again
    finally:
        await a.close()


async def test_without_a_leader_every_node_routes(redis_url: str):
    a, b = pair(redis_url, lead=False)
    await a.start()
    await b.start()
    try:
        assert (a.leading(), b.leading(), a.sole_router) == (True, True, False)
    finally:
        await a.close()
        await b.close()


async def _true(value: bool) -> bool:
    return value


async def _is(found: Awaitable[set[str]], expected: set[str]) -> bool:
    return await found == expected


async def test_a_node_started_just_before_redis_takes_its_lease_once_redis_answers(tmp_path):
    """A first renewal that finds Redis not there yet (or times out on a busy machine) is tried again."""
    from tests.conftest import RedisServer

    server = RedisServer(tmp_path)
    a = Leases(server.url, f"test:{uuid.uuid4().hex[:12]}:", "a", LEASE_S)
    starting = asyncio.get_running_loop().create_task(a.start())
    await asyncio.sleep(0.1)
    assert not starting.done()  # refused, and waiting to try again
    await asyncio.to_thread(server.start)
    try:
        await asyncio.wait_for(starting, 2 * LEASE_S)
        assert a.leading()
    finally:
        await a.close()
        server.stop()
