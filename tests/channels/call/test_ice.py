"""The ICE servers a call is given, and the TURN credentials a real coturn (use-auth-secret) takes: made
now, they allocate a relay and carry packets; a wrong password or an expired name is refused."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from contact_center.config import CallConfig
from contact_center.ice import ice_servers, turn_credentials
from tests.turn import start_turn


def test_stun_and_turn_servers_with_credentials_that_expire():
    config = CallConfig(stun_urls=("stun:127.0.0.1:3478",), turn_urls=("turn:127.0.0.1:3478",), turn_secret="s",
                        turn_ttl_s=600)  # fmt: skip
    stun, turn = ice_servers(config, "agent-7", 1_764_000_000.0)
    assert stun == {"urls": ["stun:127.0.0.1:3478"]}
    assert turn["urls"] == ["turn:127.0.0.1:3478"] and turn["username"] == "1764000600:agent-7"
    assert turn["credential"] != turn_credentials("other", "agent-7", 1_764_000_000.0, 600)[1]
    assert ice_servers(CallConfig(), "x", 0.0) == []


def _allocates(port: int, username: str, password: str) -> bool:
    client = shutil.which("turnutils_uclient")
    assert client, "coturn's turnutils_uclient is needed (scripts/test-services.sh installs it)"
    run = subprocess.run([client, "-p", str(port), "-u", username, "-w", password, "-n", "3", "-m", "1", "-y",
                          "-e", "127.0.0.1", "127.0.0.1"], capture_output=True, text=True, timeout=30)  # fmt: skip
    said = run.stdout + run.stderr
    return "Total lost packets 0" in said and "Cannot complete Allocation" not in said


def test_a_real_turn_server_takes_the_credentials_made_now_and_refuses_wrong_or_expired_ones(tmp_path: Path):
    turn = start_turn(tmp_path)
    try:
        now = time.time()
        username, password = turn_credentials(turn.secret, "customer-c1", now, 600)
        assert _allocates(turn.port, username, password)
        assert not _allocates(turn.port, username, password[:-4] + "AAA=")
        old_name, old_password = turn_credentials(turn.secret, "customer-c1", now - 7200, 600)
        assert not _allocates(turn.port, old_name, old_password)
    finally:
        turn.stop()
