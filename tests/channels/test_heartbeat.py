"""A quiet websocket is pinged; one whose peer does not answer is cut, and its session ends as a closed tab's does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from contact_center.model import ContactState
from contact_center.web.keys import METRICS, SOCKETS
from tests.clients import widget
from tests.conftest import Server, make_config, start_server

HEARTBEAT_S = 0.4  # pinged after 0.4 s of quiet, cut 0.2 s after an unanswered ping
GRACE_S = 0.5


@pytest.fixture
async def beating(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(make_config(tmp_path, webchat={"heartbeat_s": HEARTBEAT_S, "leave_grace_s": GRACE_S}))
    yield srv
    await srv.runner.cleanup()


async def _chat(http: aiohttp.ClientSession, server: Server) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    """A customer's socket that answers no pings by itself: hello and a first message; the contact's id."""
    ws = await http.ws_connect(f"{server.ws_url}/ws/chat", origin=server.url, autoping=False, heartbeat=None)
    await ws.send_str(orjson.dumps({"type": "hello", "language": "id"}).decode())
    await ws.send_str(orjson.dumps({"type": "message", "client_id": "c-1", "text": "Halo, ada orang?"}).decode())
    while True:
        frame = await ws.receive(timeout=5)
        if frame.type == aiohttp.WSMsgType.TEXT:
            decoded = orjson.loads(frame.data)
            for m in decoded if isinstance(decoded, list) else [decoded]:
                if m["type"] == "ack":
                    return ws, m["contact_id"]


async def _state(server: Server, contact_id: str) -> ContactState | None:
    contact = await server.engine.store.get_contact(contact_id)
    return None if contact is None else contact.state


async def test_a_browser_gone_without_a_word_is_cut_and_its_waiting_chat_abandoned(beating: Server):
    """A peer that answers no ping is cut about 1.5 heartbeats after it went quiet; its waiting chat is abandoned
    once the leave grace passes, as when a tab closes."""
    async with aiohttp.ClientSession() as http:
        ws, contact_id = await _chat(http, beating)
        quiet_since = asyncio.get_running_loop().time()
        async with asyncio.timeout(5):
            while beating.app[SOCKETS]:
                await asyncio.sleep(0.02)
        cut_after = asyncio.get_running_loop().time() - quiet_since
        assert HEARTBEAT_S * 1.5 - 0.1 <= cut_after < HEARTBEAT_S * 1.5 + 1.0
        pings = 0
        async with asyncio.timeout(5):  # what the client reads: the unanswered ping, then the end
            while (frame := await ws.receive()).type not in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                pings += frame.type == aiohttp.WSMsgType.PING
        assert pings == 1
        assert beating.app[METRICS].value("cc_sockets_cut_total") == 1
        async with asyncio.timeout(5):
            while await _state(beating, contact_id) != ContactState.ABANDONED:
                await asyncio.sleep(0.05)


async def test_a_quiet_browser_that_answers_pings_keeps_its_socket(beating: Server):
    """Pinged each time it was quiet for a heartbeat; answering keeps the socket, which then carries the chat on."""
    async with aiohttp.ClientSession() as http:
        ws, contact_id = await _chat(http, beating)
        pings = 0
        loop = asyncio.get_running_loop()
        until = loop.time() + HEARTBEAT_S * 6
        while (left := until - loop.time()) > 0:
            try:
                frame = await ws.receive(timeout=left)
            except TimeoutError:
                break
            if frame.type == aiohttp.WSMsgType.PING:
                pings += 1
                await ws.pong(frame.data)
        assert 3 <= pings <= 6
        assert beating.app[METRICS].value("cc_sockets_cut_total") == 0
        await ws.send_str(orjson.dumps({"type": "message", "client_id": "c-2", "text": "Masih di sini"}).decode())
        async with asyncio.timeout(5):
            while True:
                frame = await ws.receive()
                if frame.type == aiohttp.WSMsgType.TEXT and '"c-2"' in frame.data:
                    break
                if frame.type == aiohttp.WSMsgType.PING:
                    await ws.pong(frame.data)
        assert await _state(beating, contact_id) == ContactState.QUEUED
        await ws.close()


async def test_a_ping_from_the_browser_is_answered_with_its_pong(beating: Server):
    """The engine answers a client's ping with a pong that carries the ping's data."""
    async with aiohttp.ClientSession() as http:
        ws, _ = await _chat(http, beating)
        await ws.ping(b"masih di sana?")
        async with asyncio.timeout(5):
            while (frame := await ws.receive()).type != aiohttp.WSMsgType.PONG:
                pass
        assert frame.data == b"masih di sana?"
        await ws.close()


async def test_a_widget_that_keeps_talking_is_never_pinged(beating: Server):
    """Frames read count as heard: a socket busy with messages is never pinged, however long it lives."""
    customer, _ = await widget(beating, {"language": "en"})
    socket = next(iter(beating.app[SOCKETS]))
    loop = asyncio.get_running_loop()
    until = loop.time() + HEARTBEAT_S * 5
    while loop.time() < until:
        await customer.send({"type": "ping"})
        await customer.expect("pong")
        assert socket.pinged is None
        await asyncio.sleep(HEARTBEAT_S / 4)
    await customer.close()
