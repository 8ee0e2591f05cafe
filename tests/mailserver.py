"""Real mail servers for the tests: Debian's Dovecot (IMAP) and aiosmtpd (SMTP), on loopback ports.

Dovecot runs as its own process with a config written here: plain logins over loopback, one
maildir per user under a folder the ``dovecot`` user owns, and one password for every user name
(a static passdb): a test's fresh user exists the moment it logs in, with an empty INBOX, so one
server serves a whole run. The SMTP sink keeps every message it is sent and can be stopped and started again
on the same port, as a mail server going down and coming back.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

__all__ = ["Dovecot", "Mailbox", "SmtpSink"]

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:{root}/mail/%u
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """One user's mailbox on the test Dovecot."""

    host: str
    port: int
    user: str
    password: str

    @property
    def address(self) -> str:
        return self.user

    def toml(self, name: str = "support") -> str:
        """This mailbox as an engine's ``[[email.mailboxes]]`` table (plain IMAP on loopback)."""
        return (
            f'[[email.mailboxes]]\nname = "{name}"\nhost = "{self.host}"\nport = {self.port}\n'
            f'username = "{self.user}"\npassword = "{self.password}"\naddress = "{self.address}"\ntls = false\n'
        )


@dataclass
class Dovecot:
    """A private Dovecot on a free loopback port, in a folder of its own."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cc-dovecot-")))
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None
    password: str = field(default_factory=lambda: uuid.uuid4().hex)  # every user's, on this private server

    def start(self) -> None:
        binary = shutil.which("dovecot")
        if binary is None:
            pytest.fail("dovecot is not installed (scripts/test-services.sh installs Debian's dovecot-imapd)")
        account = pwd.getpwnam("dovecot")
        self.root.chmod(0o755)  # the dovecot user must reach its maildirs
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        (self.root / "mail").chmod(0o755)
        os.chown(self.root / "mail", account.pw_uid, account.pw_gid)
        (self.root / "dovecot.conf").write_text(_CONFIG.format(root=self.root, port=self.port, password=self.password))
        self.proc = subprocess.Popen(
            [binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start on port {self.port}: {log[-2000:]}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                return conn.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def mailbox(self, name: str | None = None) -> Mailbox:
        """A new user with an empty INBOX."""
        user = f"{name or 'support'}-{uuid.uuid4().hex[:8]}@shop.test"
        return Mailbox("127.0.0.1", self.port, user, self.password)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


async def deliver(box: Mailbox, *messages: bytes | EmailMessage, folder: str = "INBOX") -> None:
    """Put messages into a mailbox as a mail server would (IMAP APPEND), in order."""
    from aioimaplib import aioimaplib

    client = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=10)
    await client.wait_hello_from_server()
    await client.login(box.user, box.password)
    for message in messages:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        result = await client.append(raw, mailbox=folder)
        assert result.result == "OK", result
    await log_out(client)


async def log_out(client: Any) -> None:
    """LOGOUT, then close our side at once: waiting for the server's close could outlast the test's loop,
    leaving the socket to the garbage collector (a ResourceWarning in whichever test runs then)."""
    try:
        await client.logout()
    finally:
        transport = getattr(client.protocol, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.close()


class _Keep:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.reject:
            return "550 5.1.1 no such mailbox here"
        if self.sink.refuse:
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.sink.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


@dataclass
class SmtpSink:
    """aiosmtpd on a loopback port, keeping what it is sent: ``(mail from, recipients, message)``."""

    port: int = field(default_factory=_free_port)
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse: bool = False  # answer 451 to every message (a server that defers)
    reject: bool = False  # answer 550 to every message (refused for good)
    _controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            with contextlib.suppress(Exception):
                self._controller.stop()
            self._controller = None

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Until ``count`` messages are in (the server runs on a thread of its own); the messages."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                await asyncio.sleep(0.02)
        return [m for _, _, m in self.received]
