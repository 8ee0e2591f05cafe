"""Memory per connected chat socket: the engine's resident memory, before and after N widgets connect.

Each widget opens ``/ws/chat`` and says ``hello`` (a new visitor, its token, its
subscription), then stays connected and idle, as a customer reading a page would. The
engine runs in its own process; its RSS is read from /proc. The baseline in the same run
is the bare aiohttp echo server holding the same number of idle sockets.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from typing import Any

import aiohttp
from tqdm import tqdm

from bench.engine_proc import EngineProcess, free_port, rss_kib

__all__ = ["run"]


async def hold(
    url: str, n: int, hello: bool, origin: str | None
) -> tuple[list[aiohttp.ClientWebSocketResponse], aiohttp.ClientSession]:
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    sockets = []
    for _ in tqdm(range(n), desc="connecting", unit="socket", mininterval=1.0):
        ws = await http.ws_connect(url, origin=origin)
        if hello:
            await ws.send_json({"type": "hello"})
            await ws.receive_json()
        sockets.append(ws)
    return sockets, http


async def measure(pid: int, url: str, n: int, hello: bool, origin: str | None) -> float:
    """KiB of server RSS per socket for n more sockets, after a warm-up of 200."""
    warm, http_warm = await hold(url, 200, hello, origin)
    await asyncio.sleep(0.5)
    before = rss_kib(pid)
    sockets, http = await hold(url, n, hello, origin)
    await asyncio.sleep(1.0)
    after = rss_kib(pid)
    for ws in sockets + warm:
        await ws.close()
    await http.close()
    await http_warm.close()
    gc.collect()
    return (after - before) / n


async def run(n: int = 2000) -> dict[str, Any]:
    engine = await EngineProcess.create(agents=1)
    await engine.start()
    assert engine.proc is not None
    try:
        per_chat = await measure(engine.proc.pid, f"{engine.url}/ws/chat", n, True, engine.url)
    finally:
        engine.stop()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.echo_server", str(port)])
    try:
        await asyncio.sleep(1.0)
        per_echo = await measure(proc.pid, f"http://127.0.0.1:{port}/echo", n, False, None)
    finally:
        proc.terminate()
        proc.wait()
    return {
        "sockets": n,
        "engine_kib_per_chat_socket": per_chat,
        "echo_kib_per_socket": per_echo,
        "ratio_to_echo": per_chat / per_echo if per_echo > 0 else None,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run()), indent=2))
