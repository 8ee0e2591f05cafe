"""A SIP gateway and a phone on loopback, from Debian's packages, for dialling from the desk.

Kamailio (its websocket and auth_ephemeral modules) takes the desk softphone's SIP over a WebSocket,
checks the engine's ephemeral credentials and the caller ID, and sends each call to a "+number" to
the phone network; rtpengine (userspace) bridges the browser's WebRTC media to plain RTP; baresip is
the customer's phone: it answers by itself, plays a tone into the call and records what it hears
(sndfile), and logs its calls. Each is started on free loopback ports with a config of the test's
own, and fails loudly if its package is missing (scripts/test-services.sh installs them).
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import free_port

CONFIG = Path(__file__).parent / "sip" / "kamailio.cfg"
MODULES = next(iter(sorted(Path("/usr/lib").glob("*/kamailio/modules"))), Path("/usr/lib/kamailio/modules"))
CALLER_ID = "+622150000"
DOMAIN = "gateway.test"


def _binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    assert found, f"{name} is needed (scripts/test-services.sh installs it)"
    return found


def _udp_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _tcp_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Gateway:
    folder: Path
    secret: str
    ws_port: int
    phone_port: int
    control_port: int  # baresip's ctrl_tcp: the phone's own buttons
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    def phone_log(self) -> str:
        return (self.folder / "baresip.log").read_text(errors="replace")

    def gateway_log(self) -> str:
        return (self.folder / "kamailio.log").read_text(errors="replace")

    def recordings(self) -> list[Path]:
        return sorted((self.folder / "heard").glob("*.wav"))

    def press(self, command: str) -> str:
        """A command to the phone (baresip's ctrl_tcp, a JSON netstring): ``hangup``, say; its response."""
        body = json.dumps({"command": command, "params": "", "token": "test"}).encode()
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as conn:
            conn.sendall(str(len(body)).encode() + b":" + body + b",")
            said = b""
            while True:  # events come on the same connection: read up to the command's response
                said += conn.recv(65536)
                while b":" in said:
                    size, rest = said.split(b":", 1)
                    if len(rest) < int(size) + 1:
                        break
                    message, said = json.loads(rest[: int(size)]), rest[int(size) + 1 :]
                    if message.get("response"):
                        return json.dumps(message)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def _spawn(gateway: Gateway, args: list[str], log: str) -> subprocess.Popen[bytes]:
    with (gateway.folder / log).open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=gateway.folder)
    gateway.processes.append(process)
    return process


def _wait(ready, what: str, gateway: Gateway, log: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if ready():
            return
        if gateway.processes[-1].poll() is not None:
            break
        time.sleep(0.05)
    gateway.stop()
    raise AssertionError(f"{what} did not start: {(gateway.folder / log).read_text(errors='replace')[-3000:]}")


def start_gateway(folder: Path, number: str = "+6281234567890", secret: str = "sip-test-secret") -> Gateway:
    """rtpengine, Kamailio and baresip (the phone of ``number``), ready for calls."""
    folder.mkdir(parents=True, exist_ok=True)
    ng, sip, ws, phone = free_port(), free_port(), free_port(), free_port()
    media = free_port()
    gateway = Gateway(folder, secret, ws, phone, free_port())
    _spawn(gateway, [_binary("rtpengine"), "--interface=127.0.0.1", f"--listen-ng=127.0.0.1:{ng}",
                     f"--port-min={media + 2}", f"--port-max={media + 200}", "--table=-1", "--foreground",
                     "--log-stderr", "--log-level=6", "--delete-delay=0"],
           "rtpengine.log")  # fmt: skip
    _wait(lambda: _udp_taken(ng), "rtpengine", gateway, "rtpengine.log")
    text = CONFIG.read_text()
    for key, value in {"SIP_PORT": sip, "WS_PORT": ws, "NG_PORT": ng, "SECRET": secret, "CALLER_ID": CALLER_ID,
                       "PHONE_PORT": phone}.items():  # fmt: skip
        text = text.replace(f"@{key}@", str(value))
    (folder / "kamailio.cfg").write_text(text)
    _spawn(gateway, [_binary("kamailio"), "-DD", "-E", "-f", str(folder / "kamailio.cfg"), "-L", str(MODULES),
                     "-P", str(folder / "kamailio.pid"), "-Y", str(folder)], "kamailio.log")  # fmt: skip
    _wait(lambda: _tcp_open(ws), "kamailio", gateway, "kamailio.log")
    _baresip_config(folder, phone, number, gateway.control_port)
    _spawn(gateway, [_binary("baresip"), "-f", str(folder / "baresip"), "-v"], "baresip.log")
    _wait(lambda: "baresip is ready" in gateway.phone_log(), "baresip", gateway, "baresip.log")
    return gateway


def _tone(path: Path, seconds: int = 30) -> None:
    """What the phone says into the call: a 440 Hz tone, 8 kHz 16-bit mono (the phone's codec's rate)."""
    rate = 8000
    samples = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(rate * seconds))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))


def _baresip_config(folder: Path, port: int, number: str, control: int) -> None:
    _tone(folder / "tone.wav")
    conf = folder / "baresip"
    conf.mkdir(exist_ok=True)
    (folder / "heard").mkdir(exist_ok=True)
    (conf / "config").write_text(
        "\n".join([
            "poll_method epoll", f"sip_listen 127.0.0.1:{port}", "sip_transports udp", "net_interface 127.0.0.1",
            "audio_player aubridge,none", f"audio_source aufile,{folder / 'tone.wav'}", "audio_alert aubridge,none",
            "module_path /usr/lib/baresip/modules", "module g711.so", "module aufile.so", "module aubridge.so",
            "module sndfile.so", "module account.so", "module_app menu.so", "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{control}", f"snd_path {folder / 'heard'}",
            "rtp_stats yes", "",
        ])
    )  # fmt: skip
    (conf / "accounts").write_text(f"<sip:{number}@127.0.0.1:{port}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n")
