"""The baseline: a bare aiohttp websocket server that sends every text frame straight back."""

from __future__ import annotations

import sys

from aiohttp import WSMsgType, web


async def echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for frame in ws:
        if frame.type == WSMsgType.TEXT:
            await ws.send_str(frame.data)
    return ws


def main() -> None:
    app = web.Application()
    app.router.add_get("/echo", echo)
    # The same event loop as the engine's serve command, so the comparison is of the work done.
    try:
        import uvloop
    except ImportError:
        loop = None
    else:
        loop = uvloop.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None, loop=loop)


if __name__ == "__main__":
    main()
