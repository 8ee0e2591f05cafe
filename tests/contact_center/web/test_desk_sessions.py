"""A desk socket lives no longer than its session: logout, expiry, a supervisor's end, disabling, a new password."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect

from channels.wsjson import SESSION_ENDED
from contact_center.model import Role
from tests.clients import WsClient, login, offered_chat
from tests.conftest import PASSWORD, Server, make_config, start_server, two_nodes


async def rest(server: Server, method: str, path: str, token: str, **kw: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.request(method, f"{server.url}{path}", **kw) as r:
            return r.status, await r.json()


async def desk_with(server: Server, token: str) -> WsClient:
    client = WsClient(await connect(f"{server.ws_url}/ws/desk"))
    await client.send({"type": "hello", "token": token})
    await client.expect("welcome")
    return client


async def ended(client: WsClient) -> str:
    """The desk is told its session ended, then the socket closes with 4401; the reason given."""
    told = await client.expect("session_ended")
    assert await client.closed_by_server() == SESSION_ENDED
    return str(told["reason"])


async def test_logout_closes_the_desk_and_its_replies_go_nowhere(server: Server):
    """After POST /api/logout the open desk is closed at once; nothing it sent afterwards is recorded."""
    agent, customer, _, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    token = await login(server, "ayu")
    second = await desk_with(server, token)  # a second tab on the session that ends
    assert (await rest(server, "POST", "/api/logout", token))[0] == 200
    assert await ended(second) == "logout"
    with pytest.raises(Exception):  # noqa: B017 (the socket is gone: the send fails or is never read)
        await second.send({"type": "reply", "contact_id": contact_id, "client_id": "late", "text": "still here?"})
        await second.expect("ack", timeout=0.5)
    messages = await server.engine.store.messages(contact_id)
    assert all(m.client_id != "late" for m in messages)
    await agent.send({"type": "ping"})  # the other session (the first tab's token) is untouched
    await agent.expect("pong")


async def test_an_expired_session_closes_its_desk(tmp_path: Path):
    """At session_ttl_s the desk is told and closed, idle or not; a hello with the old token is refused."""
    srv = await start_server(make_config(tmp_path, auth={"session_ttl_s": 1.0}))
    try:
        await srv.add_agent("ayu")
        token = await login(srv, "ayu")
        client = await desk_with(srv, token)
        assert await ended(client) == "expired"
        again = WsClient(await connect(f"{srv.ws_url}/ws/desk"))
        await again.send({"type": "hello", "token": token})
        error = await again.expect("error")
        assert error["code"] == "unauthorized" and "expired" in error["message"]
    finally:
        await srv.runner.cleanup()


async def test_a_supervisor_ends_sessions_disables_and_sets_passwords(server: Server):
    """DELETE .../sessions closes the desks; disable closes them and refuses logins; a new password ends the old."""
    await server.add_agent("ayu")
    await server.add_agent("lead", role=Role.SUPERVISOR)
    lead = await login(server, "lead")
    client = await desk_with(server, await login(server, "ayu"))
    status, body = await rest(server, "DELETE", "/api/users/ayu/sessions", lead)
    assert status == 200 and body["ended"] == 1
    assert await ended(client) == "ended_by_supervisor"

    client = await desk_with(server, await login(server, "ayu"))
    status, body = await rest(server, "POST", "/api/users/ayu/disable", lead)
    assert status == 200 and body["disabled"] is True
    assert await ended(client) == "disabled"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/login", json={"username": "ayu", "password": PASSWORD}) as r:
            assert r.status == 401 and "disabled" in (await r.json())["message"]
    assert (await rest(server, "POST", "/api/users/ayu/enable", lead))[0] == 200

    token = await login(server, "ayu")
    client = await desk_with(server, token)
    status, _ = await rest(server, "PUT", "/api/users/ayu/password", lead, json={"password": "short"})
    assert status == 400
    status, _ = await rest(server, "PUT", "/api/users/ayu/password", lead, json={"password": "a-new-long-one"})
    assert status == 200
    assert await ended(client) == "password_changed"
    assert (await rest(server, "GET", "/api/me", token))[0] == 401
    assert await login(server, "ayu", "a-new-long-one")

    agent_token = await login(server, "ayu", "a-new-long-one")
    assert (await rest(server, "DELETE", "/api/users/lead/sessions", agent_token))[0] == 403  # agents may not
    status, body = await rest(server, "POST", "/api/users/lead/disable", lead)
    assert status == 400 and "own" in body["message"]
    assert (await rest(server, "POST", "/api/users/nobody/disable", lead))[0] == 404


async def test_logout_on_one_node_closes_the_desk_on_another(tmp_path: Path, redis_url: str):
    """Nodes sharing Redis: the desk on node B closes when its session is ended through node A."""
    a, b = await two_nodes(make_config(tmp_path), redis_url)
    try:
        await a.add_agent("ayu")
        token = await login(a, "ayu")
        client = await desk_with(b, token)
        assert (await rest(a, "POST", "/api/logout", token))[0] == 200
        assert await ended(client) == "logout"
    finally:
        await b.runner.cleanup()
        await a.runner.cleanup()


async def test_an_end_the_bus_never_told_is_found_in_the_store(server: Server, monkeypatch: pytest.MonkeyPatch):
    """A session deleted behind the engine's back (a CLI on the embedded store) closes its desk at the next look."""
    import contact_center.web.desk as desk_module

    monkeypatch.setattr(desk_module, "RECHECK_S", 0.3)
    ayu = await server.add_agent("ayu")
    client = await desk_with(server, await login(server, "ayu"))
    await server.engine.store.delete_sessions_of(ayu.id)  # no bus message
    async with asyncio.timeout(5):
        assert await ended(client) == "ended"


async def test_the_running_engine_forgets_lapsed_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The housekeeping of a running engine (every 10 minutes; here every 0.1 s) drops a session once it lapsed,
    and keeps one that has not: nothing of a login is kept for ever."""
    import contact_center.web.app as app_module
    from contact_center.auth import hash_token

    monkeypatch.setattr(app_module, "PURGE_EVERY_S", 0.1)
    srv = await start_server(make_config(tmp_path, auth={"session_ttl_s": 1.0}))
    try:
        await srv.add_agent("ayu")
        await srv.add_agent("budi")
        lapsing = hash_token(await login(srv, "ayu"))
        assert await srv.engine.store.get_session(lapsing) is not None
        await asyncio.sleep(1.2)  # ayu's session lapses
        kept = hash_token(await login(srv, "budi"))
        async with asyncio.timeout(5):
            while await srv.engine.store.get_session(lapsing) is not None:
                await asyncio.sleep(0.05)
        assert await srv.engine.store.get_session(kept) is not None
    finally:
        await srv.runner.cleanup()
