"""The JSON socket layer: what is queued for a client together goes out as one frame, in order."""

from __future__ import annotations

import json

from aiohttp import web
from websockets.asyncio.client import connect

from contact_center.config import WebchatConfig
from contact_center.wsjson import MAX_BATCH, JsonSocket
from tests.conftest import free_port


async def test_messages_queued_together_share_a_frame_in_order():
    """Messages queued in one turn arrive as arrays of at most MAX_BATCH, in order; one alone is an object."""
    limits = WebchatConfig()

    async def burst(request: web.Request) -> web.WebSocketResponse:
        ws = JsonSocket.response(limits)
        await ws.prepare(request)
        sock = JsonSocket(ws, limits)
        sock.start()
        for i in range(100):
            sock.send({"type": "n", "i": i})
        await ws.receive()  # the client's go-ahead for the single message
        sock.send({"type": "alone"})
        await sock.finish()
        return ws

    app = web.Application()
    app.router.add_get("/ws", burst)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws") as conn:
            frames = [json.loads(await conn.recv()) for _ in range(2)]
            await conn.send("go")
            frames.append(json.loads(await conn.recv()))
    finally:
        await runner.cleanup()
    assert [len(f) for f in frames[:2]] == [MAX_BATCH, 100 - MAX_BATCH]
    assert [m["i"] for f in frames[:2] for m in f] == list(range(100))
    assert frames[2] == {"type": "alone"}
