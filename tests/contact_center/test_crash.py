"""Kill the engine with SIGKILL and start it again: what clients saw acknowledged is still there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.clients import WsClient
from tests.conftest import PASSWORD, free_port, start_engine

pytestmark = pytest.mark.timeout(90)


def write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[server]
port = {port}
[store]
data_dir = "data"
[webchat]
allowed_origins = ["http://127.0.0.1:{port}"]
max_frames_per_s = 1000
frame_burst = 1000
[logging]
format = "json"
"""
    )
    return path


async def test_sigkill_loses_nothing_acknowledged(tmp_path: Path):
    """Messages acknowledged before SIGKILL are in the transcript after restart, each once, and the chat waits."""
    from websockets.asyncio.client import connect

    port = free_port()
    config = write_config(tmp_path, port)
    add = subprocess.run(
        [
            sys.executable,
            "-m",
            "contact_center",
            "--config",
            str(config),
            "user",
            "add",
            "ayu",
            "--role",
            "supervisor",
            "--skill",
            "general=3",
            "--skill",
            "lang_en=3",
            "--password-stdin",
        ],
        input=f"{PASSWORD}\n".encode(),
        capture_output=True,
        check=True,
    )
    assert b"created supervisor ayu" in add.stdout
    proc = await start_engine(config, port, config.parent / "engine.log")
    url = f"ws://127.0.0.1:{port}/ws/chat"
    origin = f"http://127.0.0.1:{port}"
    try:
        client = WsClient(await connect(url, origin=origin))  # type: ignore[arg-type]
        await client.send({"type": "hello"})
        welcome = await client.expect("welcome")
        acked = []
        for i in range(40):
            await client.send({"type": "message", "client_id": f"m{i}", "text": f"pesan nomor {i}"})
        for i in range(40):
            acked.append((await client.expect("ack", client_id=f"m{i}"))["seq"])
        await client.send({"type": "page_view", "url": "http://shop.test/", "title": "Home"})
        await client.send({"type": "ping"})
        await client.expect("pong")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert acked == list(range(1, 41))

    proc = await start_engine(config, port, config.parent / "engine.log")
    try:
        again = WsClient(await connect(url, origin=origin))  # type: ignore[arg-type]
        await again.send({"type": "hello", "token": welcome["token"]})
        back = await again.expect("welcome")
        assert back["contact"]["state"] == "queued"
        texts = [(await again.expect("message"))["text"] for _ in range(40)]
        assert texts == [f"pesan nomor {i}" for i in range(40)]
        await again.nothing("message")
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"http://127.0.0.1:{port}/api/login", json={"username": "ayu", "password": PASSWORD}
            ) as r:
                token = (await r.json())["token"]
            async with http.get(
                f"http://127.0.0.1:{port}/api/customers/{welcome['customer_id']}/history",
                headers={"Authorization": f"Bearer {token}"},
            ) as r:
                events = (await r.json())["events"]
        assert sum(e["kind"] == "message" for e in events) == 40
        assert sum(e["kind"] == "page_view" for e in events) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
