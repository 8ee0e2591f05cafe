"""The shipped logrotate file (deploy/logrotate/contact-center), run by Debian's logrotate on a running engine
whose standard error is appended to a file, as the file's comment says to start it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port, start_engine

pytestmark = pytest.mark.timeout(90)

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "logrotate" / "contact-center"


async def test_the_engines_log_is_rotated_and_it_goes_on_logging(tmp_path: Path):
    """Past its size the log is moved aside whole, the engine's file starts again empty, and what the engine logs
    next is at its start (not after a hole the size of the old log)."""
    logrotate = shutil.which("logrotate")
    assert logrotate, "logrotate is missing: scripts/system-packages.sh installs it"
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\nport = {port}\n[store]\ndata_dir = "data"\n[logging]\nformat = "json"\n')
    log = tmp_path / "engine.log"
    rules = tmp_path / "logrotate.conf"
    rules.write_text(SHIPPED.read_text().replace("/var/log/contact-center/engine.log", str(log)).replace("100M", "1k"))
    proc = await start_engine(config, port, log)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(20):  # failed logins: a log line each
                async with http.post(f"http://127.0.0.1:{port}/api/login", json={"username": "x", "password": "y"}):
                    pass
        before = log.read_text()
        assert log.stat().st_size > 1024 and "engine.listening" in before
        subprocess.run([logrotate, "--state", str(tmp_path / "state"), str(rules)], check=True)
        assert (tmp_path / "engine.log.1").read_text().startswith(before[:200])  # moved aside whole
        assert log.stat().st_size < 1024
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/api/after-rotation"):
                pass
        for _ in range(50):
            if b"/api/after-rotation" in log.read_bytes():
                break
            await asyncio.sleep(0.1)
        text = log.read_bytes()
        assert b"/api/after-rotation" in text and text.startswith(b"{")  # at the start of the emptied file, no hole
    finally:
        proc.terminate()
        proc.wait(timeout=30)
