"""What one client may cost the server, tried over raw sockets: slow headers, idle connections, too many
connections, framing by other sites, and JSON built to break a parser."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from contact_center.model import Role
from tests.clients import login, widget
from tests.conftest import Server, make_config, start_server

DOCS = Path(__file__).resolve().parents[3] / "docs"


_OPENED: list[asyncio.StreamWriter] = []


@pytest.fixture
async def limited(tmp_path: Path) -> Any:
    config = make_config(
        tmp_path,
        server={"header_timeout_s": 0.5, "idle_timeout_s": 1.0, "max_connections_per_client": 5},
        webchat={"new_visitors_per_min": 3},
    )
    srv = await start_server(config)
    yield srv
    for writer in _OPENED:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    _OPENED.clear()
    await srv.runner.cleanup()


async def _open(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = int(server.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _OPENED.append(writer)
    return reader, writer


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> tuple[bytes, float]:
    """What the server wrote before closing, and how long it took to close."""
    start = time.monotonic()
    async with asyncio.timeout(seconds):
        data = await reader.read()
    return data, time.monotonic() - start


async def test_a_request_head_sent_slowly_is_cut_off(limited: Server):
    """Headers dribbled in one by one get 408 and a closed connection at header_timeout_s, while others are served."""
    reader, writer = await _open(limited)
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
    await writer.drain()

    async def dribble() -> None:
        for i in range(20):
            await asyncio.sleep(0.1)
            writer.write(f"X-Slow-{i}: a\r\n".encode())
            try:
                await writer.drain()
            except ConnectionError:
                return

    dribbling = asyncio.ensure_future(dribble())
    async with aiohttp.ClientSession() as http:  # another client meanwhile
        async with http.get(f"{limited.url}/api/health") as r:
            assert r.status == 200
    data, took = await _closed_within(reader, 3.0)
    dribbling.cancel()
    assert data.startswith(b"HTTP/1.1 408") and took < 1.5
    assert limited.guard.timed_out >= 1


async def test_a_silent_connection_and_an_idle_keep_alive_are_closed(limited: Server):
    """A silent connection closes at the header timeout; one idle after a response, at the idle timeout."""
    reader, writer = await _open(limited)
    data, took = await _closed_within(reader, 3.0)
    assert data.startswith(b"HTTP/1.1 408") and took < 1.5
    reader, writer = await _open(limited)
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    start = time.monotonic()
    async with asyncio.timeout(4):
        while await reader.read(1024):
            pass
    assert 0.5 < time.monotonic() - start < 3.0


async def test_one_address_holds_at_most_its_share_of_connections(limited: Server):
    """Past max_connections_per_client, a connection is answered 503 and closed; one is freed, one more fits."""
    held = [await _open(limited) for _ in range(5)]
    for _, writer in held:  # each holds a kept-alive connection
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
    for reader, _ in held:
        await reader.readuntil(b"\r\n\r\n")
    reader, _ = await _open(limited)
    data, _ = await _closed_within(reader, 2.0)
    assert data.startswith(b"HTTP/1.1 503") and b"too many connections" in data
    assert limited.guard.refused == 1
    held[0][1].close()
    await asyncio.sleep(0.1)
    reader, writer = await _open(limited)
    writer.write(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    assert (await reader.read()).startswith(b"HTTP/1.1 200")


async def test_every_page_has_the_policy_and_none_can_be_framed(server: Server):
    """The desk, the demo and every HTML file under /static carry the CSP with frame-ancestors 'none'."""
    async with aiohttp.ClientSession() as http:
        for path in ("/desk", "/", "/static/desk.html", "/static/demo.html"):
            async with http.get(f"{server.url}{path}") as r:
                assert r.status == 200 and r.content_type == "text/html", path
                assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"], path
                assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(f"{server.url}/static/desk.js") as r:
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(f"{server.url}/api/health") as r:
            assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_deeply_nested_json_is_a_400_at_every_json_entry_point(server: Server):
    """Every route that takes a JSON body answers 400 bad_json to nesting too deep for a parser, never a 500."""
    spec = json.loads((DOCS / "openapi.json").read_text())
    taking = [
        (p, m)
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if "application/json" in op.get("requestBody", {}).get("content", {})  # a file's upload is its bytes
    ]
    assert len(taking) >= 5
    deep_array = b"[" * 100_000 + b"]" * 100_000
    deep_object = ('{"a":' * 200 + "1" + "}" * 200).encode()
    await server.add_agent("lead", role=Role.SUPERVISOR)
    lead = {"Authorization": f"Bearer {await login(server, 'lead')}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        for path, method in taking:
            url = server.url + path.replace("{customer_id}", "someone").replace("{user}", "lead")
            url = url.replace("{action}", "enable")
            for body in (deep_array, deep_object):
                async with http.request(method, url, data=body, headers=lead) as r:
                    assert r.status == 400, (path, r.status, await r.text())
                    assert (await r.json())["error"] == "bad_json"
        async with http.post(f"{server.url}/api/login", data=deep_object) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_json"
        async with http.post(f"{server.url}/api/login", data=deep_array) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_json"
    client, _ = await widget(server)  # the widget's socket: an error to that client, which is served on
    await client.send("[" * 1500 + "]" * 1500)  # deeper than orjson reads, within max_frame_bytes
    assert (await client.expect("error"))["code"] == "bad_json"
    await client.send({"type": "ping"})
    await client.expect("pong")


async def test_new_visitors_are_limited_per_address(limited: Server):
    """Past new_visitors_per_min, a hello without a token is refused; a returning visitor is not."""
    returning = None
    for _ in range(3):
        client, welcome = await widget(limited)
        returning = welcome["token"]
    client = await _widget_raw(limited)
    await client.send({"type": "hello"})
    error = await client.expect("error")
    assert error["code"] == "rate_limited" and "new chats" in error["message"]
    _, back = await widget(limited, {"token": returning})
    assert back["token"] == returning


async def _widget_raw(server: Server) -> Any:
    from websockets.asyncio.client import connect

    from tests.clients import WsClient

    return WsClient(await connect(f"{server.ws_url}/ws/chat", origin=server.url))  # type: ignore[arg-type]
