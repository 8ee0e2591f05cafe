"""The real mail servers the email tests run against answer as a deployment's would."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from aioimaplib import aioimaplib

from tests.mailserver import Mailbox, SmtpSink, deliver, log_out


async def test_dovecot_keeps_what_is_delivered_with_uids_and_offers_idle(mailbox: Mailbox):
    """Delivered mail is fetched back byte for byte with its UID under a UIDVALIDITY; the server offers IDLE."""
    raw = b"From: Budi <budi@example.co.id>\r\nTo: support@shop.test\r\nSubject: halo\r\nMessage-ID: <t1@x>\r\n"
    raw += b"\r\nPesanan?\r\n"
    await deliver(mailbox, raw)
    client = aioimaplib.IMAP4(host=mailbox.host, port=mailbox.port, timeout=10)
    await client.wait_hello_from_server()
    await client.login(mailbox.user, mailbox.password)
    selected = await client.select("INBOX")
    assert any(b"UIDVALIDITY" in line for line in selected.lines)
    fetched = await client.uid("fetch", "1:*", "(UID BODY.PEEK[])")
    assert fetched.result == "OK" and bytes(fetched.lines[1]) == raw and b"UID 1 " in fetched.lines[0]
    assert client.has_capability("IDLE") and client.has_capability("UIDPLUS")
    await log_out(client)


async def test_the_smtp_sink_receives_and_can_defer(smtp_sink: SmtpSink):
    """A sent message arrives whole; while deferring, the sender is told 451 and nothing is kept."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "support@shop.test", "budi@example.co.id", "Re: halo"
    msg.set_content("Baik, kami cek.")
    await aiosmtplib.send(msg, hostname="127.0.0.1", port=smtp_sink.port)
    (got,) = await smtp_sink.wait_for(1)
    assert got["Subject"] == "Re: halo" and got.get_content().strip() == "Baik, kami cek."
    smtp_sink.refuse = True
    try:
        await aiosmtplib.send(msg, hostname="127.0.0.1", port=smtp_sink.port)
    except aiosmtplib.SMTPResponseException as exc:
        assert exc.code == 451
    else:
        raise AssertionError("a deferring server accepted the message")
    assert len(smtp_sink.received) == 1
