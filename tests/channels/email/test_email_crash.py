"""SIGKILL the engine while it files several hundred emails: after a restart each is filed once,
and each thread has exactly one acknowledgement."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import time
from collections import defaultdict
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import free_port, start_engine
from tests.mailserver import Mailbox, SmtpSink, deliver

pytestmark = pytest.mark.timeout(180)

MESSAGES = 300


def write_config(tmp_path: Path, port: int, box: Mailbox, sink: SmtpSink) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[server]
port = {port}
[store]
data_dir = "data"
[email]
poll_s = 1
acks_per_sender = 1000
acks_per_domain = 1000
retry_first_s = 1
[email.smtp]
port = {sink.port}
{box.toml()}
[logging]
format = "json"
"""
    )
    return path


def mail(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"Pelanggan {n % 40} <pelanggan{n % 40}@contoh.test>"
    msg["To"] = "support@shop.test"
    msg["Subject"] = f"Pertanyaan nomor {n}"
    msg["Message-ID"] = f"<crash-{n}@contoh.test>"
    msg.set_content(f"Halo, ini pertanyaan nomor {n}. Terima kasih.")
    return msg


def filed(db: Path) -> dict[str, int]:
    """Message-ID -> how many email.received history events name a mail with it."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT m.message_id, COUNT(*) FROM events e JOIN mails m ON m.id = json_extract(e.data, '$.mail_id')"
            " WHERE e.kind = 'email.received' GROUP BY m.message_id"
        ).fetchall()
    return dict(rows)


def count_filed(db: Path) -> int:
    try:
        return sum(filed(db).values())
    except sqlite3.Error:  # not created yet
        return 0


async def test_sigkill_while_filing_files_each_mail_once_and_acknowledges_each_thread_once(
    tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Killed part-way through 300 mails and started again: 300 filed once each, 300 threads acknowledged once."""
    await deliver(mailbox, *(mail(n) for n in range(MESSAGES)))
    port = free_port()
    config = write_config(tmp_path, port, mailbox, smtp_sink)
    db = tmp_path / "data" / "contact-center.sqlite3"
    log = tmp_path / "engine.log"

    proc = await start_engine(config, port, log)
    deadline = time.monotonic() + 60
    while count_filed(db) < MESSAGES // 5:
        assert time.monotonic() < deadline, "the engine filed nothing"
        await asyncio.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = count_filed(db)
    assert at_kill < MESSAGES, "the kill came too late to test anything"

    proc = await start_engine(config, port, log)
    try:
        deadline = time.monotonic() + 90
        while count_filed(db) < MESSAGES:
            assert time.monotonic() < deadline, f"only {count_filed(db)} of {MESSAGES} filed"
            await asyncio.sleep(0.1)
        await smtp_sink.wait_for(MESSAGES, timeout=60)
        await asyncio.sleep(1.0)  # anything sent twice would arrive now
    finally:
        proc.terminate()
        proc.wait()

    counts = filed(db)
    assert len(counts) == MESSAGES and set(counts.values()) == {1}
    assert set(counts) == {f"<crash-{n}@contoh.test>" for n in range(MESSAGES)}
    acks: dict[str, set[str]] = defaultdict(set)
    for _, _, message in smtp_sink.received:
        ticket = re.match(r"\[(CS-\d+)\]", message["Subject"])
        assert ticket is not None, message["Subject"]
        acks[ticket.group(1)].add(message["Message-ID"])
    # A mail whose SMTP transaction the kill cut short goes again with the same Message-ID: shown once.
    assert len(acks) == MESSAGES and all(len(ids) == 1 for ids in acks.values())
    answered = {m["In-Reply-To"] for _, _, m in smtp_sink.received}
    assert answered == set(counts)
