"""The JSON socket layer: what is queued for a client together goes out as one frame, in order, and a
client that stops reading holds up nobody."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from websockets.asyncio.client import connect

from channels.wsjson import MAX_BATCH, MAX_BATCH_BYTES, JsonSocket
from contact_center.config import WebchatConfig
from tests.conftest import free_port

Session = Callable[[web.WebSocketResponse, JsonSocket], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(session: Session) -> AsyncIterator[str]:
    """A loopback server whose one websocket runs ``session`` over a JsonSocket; yields the socket's URL."""
    limits = WebchatConfig()

    async def handle(request: web.Request) -> web.WebSocketResponse:
        sock = await JsonSocket.accept(request, limits)
        await session(sock.ws, sock)
        await sock.finish()
        return sock.ws

    app = web.Application()
    app.router.add_get("/ws", handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        await runner.cleanup()


async def test_messages_queued_together_share_a_frame_in_order():
    """Messages queued in one turn arrive as arrays of at most MAX_BATCH, in order; one alone is an object."""

    async def burst(ws: web.WebSocketResponse, sock: JsonSocket) -> None:
        for i in range(100):
            sock.send({"type": "n", "i": i})
        await ws.receive()  # the client's go-ahead for the single message
        sock.send({"type": "alone"})

    async with serving(burst) as url, connect(url) as conn:
        frames = [json.loads(await conn.recv()) for _ in range(2)]
        await conn.send("go")
        frames.append(json.loads(await conn.recv()))
    assert [len(f) for f in frames[:2]] == [MAX_BATCH, 100 - MAX_BATCH]
    assert [m["i"] for f in frames[:2] for m in f] == list(range(100))
    assert frames[2] == {"type": "alone"}


async def test_a_peer_that_stops_reading_delays_nothing_else_and_loses_nothing():
    """While a client does not read, sending to it never blocks the server; once it reads, it gets every
    message, in order, in frames of at most about MAX_BATCH_BYTES."""
    blob = "x" * 50_000
    queued = asyncio.Event()
    waited: list[bool] = []

    async def flood(ws: web.WebSocketResponse, sock: JsonSocket) -> None:
        started = time.monotonic()
        for i in range(400):  # 20 MB: more than the kernel's socket buffers hold
            sock.send({"type": "n", "i": i, "blob": blob})
        for _ in range(50):
            await asyncio.sleep(0.01)
        waited.append(sock._draining is not None)  # a send is waiting for the peer to read
        assert time.monotonic() - started < 5
        queued.set()
        await ws.receive()  # the client has read everything

    async with serving(flood) as url, connect(url, max_size=None) as conn:
        await asyncio.wait_for(queued.wait(), 10)
        seen: list[int] = []
        while len(seen) < 400:
            raw = await asyncio.wait_for(conn.recv(), 10)
            assert len(raw) <= MAX_BATCH_BYTES + len(blob) + 100
            frame = json.loads(raw)
            seen += [m["i"] for m in (frame if isinstance(frame, list) else [frame])]
        await conn.send("done")
    assert waited == [True]
    assert seen == list(range(400))
