"""A private coturn TURN server on a free loopback port, sharing a secret with the engine (TURN REST)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port


@dataclass
class TurnServer:
    port: int
    secret: str
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_turn(folder: Path, secret: str = "turn-test-secret") -> TurnServer:
    """turnserver with ``use-auth-secret``; fails loudly if coturn is missing (scripts/test-services.sh)."""
    binary = shutil.which("turnserver")
    assert binary, "coturn's turnserver is needed (scripts/test-services.sh installs it)"
    port = free_port()
    args = [binary, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
            "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=contact-center.test", "--no-tls",
            "--no-dtls", "--allow-loopback-peers", "--no-cli", "--no-software-attribute", "--log-file=stdout",
            "--simple-log", f"--min-port={port + 1}", f"--max-port={port + 200}"]  # fmt: skip
    with (folder / "turn.log").open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # listening once its UDP port is taken
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return TurnServer(port, secret, process)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"turnserver did not start: {(folder / 'turn.log').read_text()[-2000:]}")
