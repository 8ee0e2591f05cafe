"""Test clients that speak the widget and desk protocols over real loopback sockets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import PASSWORD, Server

OPEN: list[WsClient] = []  # every client of the running test, closed at its end (tests/conftest.py)


class WsClient:
    """A JSON websocket client that keeps everything it received."""

    def __init__(self, conn: ClientConnection) -> None:
        OPEN.append(self)
        self.conn = conn
        self.received: list[dict[str, Any]] = []
        self.frames = 0  # frames read; a frame carries one message or an array of them
        self._unread: list[dict[str, Any]] = []

    async def next(self) -> dict[str, Any]:
        """The next message from the server, in order, across frames that carry several."""
        if not self._unread:
            decoded = json.loads(await self.conn.recv())
            self.frames += 1
            self._unread = decoded if isinstance(decoded, list) else [decoded]
            assert self._unread, "an empty array frame"
        return self._unread.pop(0)

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.conn.send(message if isinstance(message, str) else json.dumps(message))

    async def expect(self, kind: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """Wait for the next message of ``kind`` (and matching fields); earlier ones are kept."""
        for message in self.received:
            if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                self.received.remove(message)
                return message
        async with asyncio.timeout(timeout):
            while True:
                message = await self.next()
                if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
                    return message
                self.received.append(message)

    async def nothing(self, kind: str, wait: float = 0.3, **match: Any) -> None:
        """Assert no message of ``kind`` (matching fields) arrives within ``wait`` seconds."""
        try:
            got = await self.expect(kind, timeout=wait, **match)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {kind}: {got}")

    async def close(self) -> None:
        await self.conn.close()

    async def closed_by_server(self, timeout: float = 10.0) -> int | None:
        """Wait until the server closes the socket; its close code."""
        async with asyncio.timeout(timeout):
            await self.conn.wait_closed()
        return self.conn.close_code


async def widget(
    server: Server, hello: dict[str, Any] | None = None, origin: str | None = None
) -> tuple[WsClient, dict]:
    conn = await connect(f"{server.ws_url}/ws/chat", origin=origin or server.url)  # type: ignore[arg-type]
    client = WsClient(conn)
    await client.send({"type": "hello", **(hello or {})})
    return client, await client.expect("welcome")


async def login(server: Server, username: str, password: str = PASSWORD) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/login", json={"username": username, "password": password}) as r:
            assert r.status == 200, await r.text()
            return str((await r.json())["token"])


async def desk(server: Server, username: str, available: bool = True) -> tuple[WsClient, dict]:
    token = await login(server, username)
    client = WsClient(await connect(f"{server.ws_url}/ws/desk"))
    await client.send({"type": "hello", "token": token})
    welcome = await client.expect("welcome")
    if available:
        await client.send({"type": "set_status", "status": "available"})
        await client.expect("status", status="available")
    return client, welcome


async def offered_chat(server: Server):
    """A customer writes; agent ayu is offered the chat and accepts it."""
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    customer, welcome = await widget(server, {"topic": "general", "language": "id"})
    await customer.send({"type": "message", "client_id": "c-1", "text": "Halo, pesanan saya belum sampai"})
    ack = await customer.expect("ack", client_id="c-1")
    offer = await agent.expect("offer")
    assert offer["contact"]["id"] == ack["contact_id"]
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    return agent, customer, welcome, assigned


async def send_until_acked(client: WsClient, message: dict[str, Any], tries: int = 20) -> dict[str, Any]:
    """What the widget and desk do with an unacknowledged message: send it again, same client_id, until acked."""
    for _ in range(tries):
        await client.send(message)
        try:
            return await client.expect("ack", timeout=0.5, client_id=message["client_id"])
        except TimeoutError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"{message['client_id']} was never acknowledged")
