"""Logins tried as a guesser would: back-off, lockout, per-address limits, a flood, several nodes counting together."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from channels.wire import json_of
from contact_center.config import Config
from contact_center.model import Role
from tests.clients import login, widget
from tests.conftest import PASSWORD, Server, make_config, start_on, start_server, two_nodes


async def attempt(server: Server, username: str, password: str, **headers: str) -> tuple[int, dict[str, Any], Any]:
    async with aiohttp.ClientSession() as http:
        body = {"username": username, "password": password}
        async with http.post(f"{server.url}/api/login", json=body, headers=headers) as r:
            return r.status, await r.json(), r.headers


def _config(tmp_path: Path, **auth: Any) -> Config:
    settings = {"free_failures": 2, "backoff_first_s": 0.2, "backoff_max_s": 1.0, "lockout_after": 5, "lockout_s": 1.5}
    return make_config(tmp_path, auth=settings | auth, server={"trusted_proxies": ["127.0.0.1"]})


@pytest.fixture(params=["sqlite", "redis"])
async def guarded(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    srv = await start_on(request, _config(tmp_path))
    yield srv
    await srv.runner.cleanup()


async def test_wrong_passwords_back_off_then_lock_the_account(guarded: Server):
    """Two free failures, then each try waits longer (429); the fifth locks it, right password too, until it ends."""
    server = guarded
    await server.add_agent("ayu")
    await server.add_agent("lead", role=Role.SUPERVISOR)
    heard: list[dict[str, Any]] = []
    server.engine.bus.subscribe("supervisors", lambda event: heard.append(json_of(event)))
    for _ in range(2):
        assert (await attempt(server, "ayu", "guess-guess"))[0] == 401
    status, body, headers = await attempt(server, "ayu", PASSWORD)  # too early: not even looked at
    assert status == 429 and body["error"] == "too_many_attempts" and headers["Retry-After"] == "1"
    with capture_logs() as logs:
        for _ in range(3):
            await asyncio.sleep(1.05)  # past any back-off so far
            status, body, headers = await attempt(server, "ayu", "guess-guess")
    assert status == 429 and body["error"] == "account_locked"
    assert [e for e in logs if e["event"] == "auth.locked_out" and e["username"] == "ayu"]
    assert heard and heard[0]["type"] == "account_locked" and heard[0]["username"] == "ayu"
    status, body, headers = await attempt(server, "ayu", PASSWORD)
    assert status == 429 and body["error"] == "account_locked" and int(headers["Retry-After"]) >= 1
    token = await login(server, "lead")  # another account is not touched
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(f"{server.url}/api/users") as r:
            users = {u["username"]: u for u in (await r.json())["users"]}
    assert users["ayu"]["locked_until"] is not None and users["lead"]["locked_until"] is None
    await asyncio.sleep(1.6)  # the lockout ends
    assert (await attempt(server, "ayu", PASSWORD))[0] == 200


async def test_guesses_from_one_address_back_off_without_locking_anyone(tmp_path: Path):
    """Wrong passwords for many names from one address slow that address only; another address signs in."""
    srv = await start_server(_config(tmp_path, client_free_failures=3, free_failures=10))
    try:
        await srv.add_agent("ayu")
        for i in range(3):
            assert (await attempt(srv, f"name{i}", "guess-guess", **{"X-Forwarded-For": "203.0.113.7"}))[0] == 401
        status, body, _ = await attempt(srv, "ayu", PASSWORD, **{"X-Forwarded-For": "203.0.113.7"})
        assert status == 429 and "address" in body["message"]
        # A client cannot pick its address: what it writes left of the proxy's entry is ignored.
        spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
        assert (await attempt(srv, "ayu", PASSWORD, **spoofed))[0] == 429
        assert (await attempt(srv, "ayu", PASSWORD, **{"X-Forwarded-For": "198.51.100.20"}))[0] == 200
    finally:
        await srv.runner.cleanup()


async def test_parallel_guesses_are_counted_before_they_pass(tmp_path: Path):
    """Twenty guesses sent at once for one name: each waits its turn, so the back-off refuses most unchecked."""
    srv = await start_server(_config(tmp_path, backoff_first_s=5.0, backoff_max_s=5.0, lockout_after=50))
    try:
        await srv.add_agent("ayu")
        statuses = [s for s, _, _ in await asyncio.gather(*(attempt(srv, "ayu", f"guess-{i}") for i in range(20)))]
        assert statuses.count(401) == 2 and statuses.count(429) == 18
    finally:
        await srv.runner.cleanup()


async def test_a_login_flood_does_not_stall_anyone_s_chat(tmp_path: Path):
    """Password checks run off the event loop: a chat round trip stays quick while eight wrong logins hash."""
    srv = await start_server(_config(tmp_path, free_failures=100, client_free_failures=100))
    try:
        client, _ = await widget(srv)
        flood = asyncio.gather(
            *(attempt(srv, f"nobody{i}", "guess-guess", **{"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(8))
        )
        await asyncio.sleep(0.05)  # the checks are under way (about 0.1 s of Argon2 each, one at a time)
        trips = []
        for _ in range(10):
            start = time.perf_counter()
            await client.send({"type": "ping"})
            await client.expect("pong")
            trips.append(time.perf_counter() - start)
        answers = await flood
        assert [s for s, _, _ in answers] == [401] * 8
        # On the event loop, each check held every client for ~100 ms; off it, a round trip takes a few.
        assert statistics.median(trips) < 0.05, trips
    finally:
        await srv.runner.cleanup()


async def test_a_flood_beyond_the_queue_is_told_the_engine_is_busy(tmp_path: Path):
    """With at most two checks waiting, the rest of a burst is refused at once with 503 busy and Retry-After."""
    srv = await start_server(_config(tmp_path, hash_queue=2, free_failures=100, client_free_failures=100))
    try:
        answers = await asyncio.gather(
            *(attempt(srv, f"nobody{i}", "guess-guess", **{"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(10))
        )
        busy = [(b, h) for s, b, h in answers if s == 503]
        assert busy and all(b["error"] == "busy" and h["Retry-After"] == "1" for b, h in busy)
        assert sum(1 for s, _, _ in answers if s == 401) >= 3
    finally:
        await srv.runner.cleanup()


async def test_nodes_sharing_redis_count_failures_together(tmp_path: Path, redis_url: str):
    """Guesses spread over two nodes lock the account on both."""
    a, b = await two_nodes(_config(tmp_path), redis_url)
    try:
        await a.add_agent("ayu")
        assert (await attempt(a, "ayu", "guess-guess"))[0] == 401
        assert (await attempt(b, "ayu", "guess-guess"))[0] == 401
        assert (await attempt(a, "ayu", PASSWORD))[0] == 429  # the third try comes too early, on either node
        for node in (b, a, b):
            await asyncio.sleep(1.05)
            status, body, _ = await attempt(node, "ayu", "guess-guess")
        assert body["error"] == "account_locked"
        assert (await attempt(a, "ayu", PASSWORD))[1]["error"] == "account_locked"
    finally:
        await b.runner.cleanup()
        await a.runner.cleanup()
