"""The email channel end to end: a real Dovecot mailbox in, the engine's queue and desk, aiosmtpd out.

Each test runs a real engine server on both stores, reading a fresh Dovecot mailbox and sending
to an aiosmtpd sink; agents work through the real desk websocket.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
from aioimaplib import aioimaplib

from contact_center.config import Config
from contact_center.model import Channel, Role
from contact_center.web import EMAIL
from tests.clients import desk, login
from tests.conftest import Server, make_config, start_server
from tests.mailserver import Mailbox, SmtpSink, deliver, log_out

CUSTOMER = "ana@pelanggan.test"


def customer_mail(subject: str = "Paket belum sampai", text: str = "", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", f"Ana Lestari <{CUSTOMER}>")
    msg["To"] = headers.pop("To", "support@shop.test")
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("Message_ID", f"<{uuid.uuid4().hex}@pelanggan.test>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text or "Halo, paket saya belum sampai. Mohon dicek ya, terima kasih.")
    return msg


def email_config(tmp_path: Path, boxes: list[Mailbox], sink: SmtpSink, idle: bool = True, **email: Any) -> Config:
    mailboxes = [
        {"name": f"box{i}", "host": b.host, "port": b.port, "username": b.user, "password": b.password,
         "address": b.address, "tls": False, "idle": idle}
        for i, b in enumerate(boxes)
    ]  # fmt: skip
    settings = {"mailboxes": mailboxes, "smtp": {"port": sink.port}, "poll_s": 5, "retry_first_s": 0.2} | email
    return make_config(tmp_path, email=settings)


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Until ``check()`` (awaited if it gives an awaitable) is truthy; its value."""
    async with asyncio.timeout(timeout):
        while True:
            found = check()
            if inspect.isawaitable(found):
                found = await found
            if found:
                return found
            await asyncio.sleep(0.05)


def email_contacts(server: Server) -> list[Any]:
    return [c for cid in server.engine.waiting() if (c := server.engine.contact(cid)) and c.channel == Channel.EMAIL]


async def seen_flags(box: Mailbox) -> dict[int, bool]:
    client = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=10)
    await client.wait_hello_from_server()
    await client.login(box.user, box.password)
    await client.select("INBOX")
    found = await client.uid("fetch", "1:*", "(UID FLAGS)")
    await log_out(client)
    flags = {}
    for line in found.lines:
        text = bytes(line).decode(errors="replace")
        if "FETCH" in text and "UID " in text:
            uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
            flags[uid] = "\\Seen" in text
    return flags


async def test_an_email_is_queued_acknowledged_answered_and_the_customers_reply_joins_it(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Mail in (woken by IDLE) -> contact + one acknowledgement -> agent's reply threaded -> customer's answer joins."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    first = customer_mail()
    await deliver(mailbox, first)

    offer = await agent.expect("offer", timeout=15)  # no wake: the server's IDLE push brought it
    assert offer["contact"]["channel"] == "email"
    (ack,) = await smtp_sink.wait_for(1)
    ticket = ack["Subject"].split("]")[0].lstrip("[")
    assert ack["To"] == CUSTOMER and ack["In-Reply-To"] == first["Message-ID"]
    assert ack["Subject"] == f"[{ticket}] Email Anda sudah kami terima: Paket belum sampai"
    assert ack["Auto-Submitted"] == "auto-replied" and "WIB" in ack.get_content()
    assert ticket in ack.get_content()

    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    [mail, acknowledgement] = assigned["mails"]
    assert mail["subject"] == "Paket belum sampai" and "paket saya belum sampai" in mail["text"]
    assert acknowledgement["kind"] == "ack" and acknowledgement["direction"] == "out"

    contact_id = assigned["contact"]["id"]
    reply = {"type": "email_reply", "contact_id": contact_id, "client_id": "r-1", "text": "Baik Bu Ana, kami cek."}
    await agent.send(reply)
    queued = await agent.expect("email_queued", client_id="r-1")
    assert queued["first_response"] is True
    await agent.send(reply)  # a resend (the desk lost the answer): nothing new is sent
    await agent.expect("email_queued", client_id="r-1")
    _, answer = await smtp_sink.wait_for(2)
    assert answer["In-Reply-To"] == first["Message-ID"] and first["Message-ID"] in answer["References"]
    assert answer["Subject"] == f"Re: [{ticket}] Paket belum sampai" and "kami cek" in answer.get_content()
    assert "Auto-Submitted" not in answer

    back = customer_mail("Re: " + answer["Subject"], "Terima kasih, saya tunggu.", In_Reply_To=answer["Message-ID"])
    await deliver(mailbox, back)
    pushed = await agent.expect("email", timeout=15)
    assert pushed["contact_id"] == contact_id
    await asyncio.sleep(0.5)
    assert len(smtp_sink.received) == 2  # one acknowledgement per thread, and the reply: no more
    history = await server.engine.store.history(offer["contact"]["customer_id"])
    kinds = [e.kind for e in history if e.contact_id == contact_id]
    assert kinds.count("email.received") == 2 and kinds.count("email.acknowledged") == 1
    assert kinds.count("email.sent") == 1
    assert await until(lambda: seen_flags(mailbox)) and all((await seen_flags(mailbox)).values())
    contact = await server.engine.store.get_contact(contact_id)
    assert contact is not None and contact.answered_at is not None and contact.ticket == ticket
    await agent.close()


async def test_unreadable_mail_is_quarantined_and_the_mail_behind_it_is_filed(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Binary junk and a mail with no sender are kept with the reason; the good mail after them is queued."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    junk = b"\x00\x01\x02" * 200
    no_sender = b"To: support@shop.test\r\nSubject: siapa?\r\n\r\nisi\r\n"
    await deliver(mailbox, junk, no_sender, customer_mail("Tolong bantu"))
    server.app[EMAIL].wake()
    await until(lambda: email_contacts(server))
    quarantined = await server.engine.store.quarantined()
    reasons = sorted(m.quarantine or "" for m in quarantined)
    assert len(reasons) == 2 and all("From" in r for r in reasons)
    assert all(m.raw for m in quarantined)  # kept as the server gave them (Dovecot turns NUL into 0x80)
    await smtp_sink.wait_for(1)  # the good one is acknowledged; the others are not
    await asyncio.sleep(0.3)
    assert len(smtp_sink.received) == 1


async def test_the_same_mail_twice_files_once_and_a_reused_message_id_files_its_own(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Identical bytes under two UIDs: one contact, one history entry. Same Message-ID, other mail: its own contact."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    original = customer_mail("Refund", Message_ID="<same@pelanggan.test>")
    other = customer_mail("Lain hal", "Pertanyaan lain sama sekali.", Message_ID="<same@pelanggan.test>",
                          From="Budi <budi@pelanggan.test>")  # fmt: skip
    await deliver(mailbox, original, original, other)
    server.app[EMAIL].wake()
    contacts = await until(lambda: len(email_contacts(server)) == 2 and email_contacts(server))
    await asyncio.sleep(0.3)
    assert len(email_contacts(server)) == 2
    by_subject = {c.subject: c for c in contacts}
    ana = await server.engine.store.history(by_subject["Refund"].customer_id)
    assert [e.kind for e in ana].count("email.received") == 1
    [kept] = [m for m in await server.engine.store.mails_of(by_subject["Lain hal"].id) if m.direction.value == "in"]
    assert kept.message_id != "<same@pelanggan.test>"
    assert any("reused" in p for p in kept.summary["problems"])


async def test_a_restarted_engine_fetches_only_what_is_new(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Mail filed before a restart is not filed again; mail that came meanwhile is."""
    config = email_config(tmp_path, [mailbox], smtp_sink)
    server: Server = await engines(config)
    await deliver(mailbox, customer_mail("Satu"), customer_mail("Dua"))
    server.app[EMAIL].wake()
    await until(lambda: len(email_contacts(server)) == 2)
    await server.runner.cleanup()
    await deliver(mailbox, customer_mail("Tiga"))
    again: Server = await engines(dataclasses.replace(config, store=server.engine.config.store))
    again.app[EMAIL].wake()
    subjects = await until(lambda: len(email_contacts(again)) == 3 and sorted(c.subject for c in email_contacts(again)))
    await asyncio.sleep(0.5)
    assert subjects == ["Dua", "Satu", "Tiga"] and len(email_contacts(again)) == 3
    await smtp_sink.wait_for(3)
    assert len(smtp_sink.received) == 3  # one acknowledgement each, none again after the restart


async def test_a_deferring_smtp_server_gets_the_reply_once_it_is_back(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """451 while the server defers: the acknowledgement waits in the outbox, then goes exactly once."""
    smtp_sink.refuse = True
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    await deliver(mailbox, customer_mail())
    server.app[EMAIL].wake()
    await until(lambda: email_contacts(server))
    sender = server.app[EMAIL].sender
    outbound = await until(lambda: _attempted(server))
    assert outbound.last_error.startswith("451")
    smtp_sink.refuse = False
    await smtp_sink.wait_for(1, timeout=15)
    await asyncio.sleep(0.5)
    assert len(smtp_sink.received) == 1 and sender.sent == 1


async def test_a_mail_refused_for_good_fails_at_once_and_the_contact_shows_it(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """550: no retry (nothing is left due in the outbox); the contact's history has email.failed with the answer."""
    smtp_sink.reject = True
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    await deliver(mailbox, customer_mail())
    server.app[EMAIL].wake()
    [contact] = await until(lambda: email_contacts(server))

    async def failed() -> Any:
        history = await server.engine.store.history(contact.customer_id)
        return next((e for e in history if e.kind == "email.failed"), None)

    event = await until(failed)
    assert event.data["error"].startswith("550") and event.data["kind"] == "ack" and event.data["attempts"] == 1
    assert await server.engine.store.outbound_due(2e9) == []


async def _attempted(server: Server) -> Any:
    for o in await server.engine.store.outbound_due(2e9):
        if o.attempts and o.last_error:  # the attempt and its outcome, both recorded
            return o
    return None


async def test_two_auto_responders_never_write_to_each_other(
    engines: Callable[[Config], Any], tmp_path: Path, dovecot: Any, smtp_sink: SmtpSink
):
    """Engine A acknowledges a mail from engine B's address; B files A's acknowledgement and stays quiet."""
    box_a, box_b = dovecot.mailbox("a"), dovecot.mailbox("b")
    a: Server = await engines(email_config(tmp_path / "a", [box_a], smtp_sink))
    b: Server = await engines(email_config(tmp_path / "b", [box_b], smtp_sink))
    boxes = {box_a.address: box_a, box_b.address: box_b}
    relayed = 0

    async def relay() -> None:  # the mail system between them: what is sent to a mailbox lands in it
        nonlocal relayed
        while True:
            while relayed < len(smtp_sink.received):
                _, rcpts, message = smtp_sink.received[relayed]
                relayed += 1
                for rcpt in rcpts:
                    if rcpt in boxes:
                        await deliver(boxes[rcpt], message.as_bytes())
                        (a if rcpt == box_a.address else b).app[EMAIL].wake()
            await asyncio.sleep(0.05)

    running = asyncio.get_running_loop().create_task(relay())
    try:
        await deliver(box_a, customer_mail("Kerja sama", From=f"Tim B <{box_b.address}>", To=box_a.address))
        a.app[EMAIL].wake()
        await until(lambda: email_contacts(b), timeout=15)  # A's acknowledgement reached B and was filed
        await asyncio.sleep(1.0)
        assert len(smtp_sink.received) == 1  # A's acknowledgement, nothing from B, nothing back
        [filed] = email_contacts(b)
        kinds = [e.kind for e in await b.engine.store.history(filed.customer_id)]
        assert "email.not_acknowledged" in kinds and "email.acknowledged" not in kinds
    finally:
        running.cancel()


async def test_attachments_quarantine_and_the_report_over_rest(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """The holder gets a photo inline and an HTML file only as a download; others get 403; supervisors see
    the quarantine, raw mail and the month's attainment."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    await server.add_agent("ayu")
    await server.add_agent("budi")
    await server.add_agent("sari", role=Role.SUPERVISOR)
    msg = customer_mail("Foto paket rusak")
    msg.add_attachment(b"\x89PNG\r\n\x1a\nfake", maintype="image", subtype="png", filename="rusak.png")
    msg.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="nota.html")
    await deliver(mailbox, msg, b"\x00junk\x00")
    agent, _ = await desk(server, "ayu")
    server.app[EMAIL].wake()
    offer = await agent.expect("offer", timeout=15)
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    [mail, _ack] = (await agent.expect("assigned"))["mails"]
    photo, page = mail["attachments"]

    async def get(token: str, path: str) -> tuple[int, dict[str, str], bytes]:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            async with http.get(f"{server.url}{path}") as r:
                return r.status, dict(r.headers), await r.read()

    ayu, budi, supervisor = [await login(server, name) for name in ("ayu", "budi", "sari")]
    status, headers, body = await get(ayu, photo["url"])
    assert status == 200 and headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")
    assert headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in headers["Content-Security-Policy"]
    status, headers, body = await get(ayu, page["url"])
    assert headers["Content-Type"] == "application/octet-stream" and headers["Content-Disposition"].startswith(
        "attachment"
    )
    status, _, _ = await get(budi, photo["url"])
    assert status == 403
    status, _, body = await get(supervisor, "/api/quarantine")
    [junk] = json.loads(body)["mails"]
    assert "From" in junk["reason"] and junk["mailbox"] == "box0"
    status, headers, body = await get(supervisor, junk["raw_url"])
    assert status == 200 and headers["Content-Type"] == "message/rfc822" and b"junk" in body
    status, _, body = await get(supervisor, "/api/reports/email?period=month")
    report = json.loads(body)
    assert status == 200 and report["target"] == 0.9
    assert sum(p["arrived"] for p in report["periods"]) == 1
    status, _, body = await get(supervisor, "/api/reports/email?period=fortnight")
    assert status == 400 and b"period" in body
    status, _, _ = await get(ayu, "/api/reports/email")
    assert status == 403
    await agent.close()


async def test_on_redis_one_node_reads_the_mailbox_and_a_survivor_takes_over(
    tmp_path: Path, redis_url: str, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Two nodes share Redis: one reads the mailbox and sends; it stops, the other goes on. Each mail once."""
    base = email_config(tmp_path, [mailbox], smtp_sink)
    store = dataclasses.replace(
        base.store, backend="redis", redis_url=redis_url, redis_prefix=f"test:{uuid.uuid4().hex[:12]}:", lease_s=1.0
    )
    nodes = [await start_server(dataclasses.replace(base, store=dataclasses.replace(store, node_id=n))) for n in "ab"]
    try:
        await deliver(mailbox, *(customer_mail(f"Soal {i}", From=f"p{i}@pelanggan.test") for i in range(8)))
        for node in nodes:
            node.app[EMAIL].wake()
        await until(lambda: len(email_contacts(nodes[0])) == 8 and len(email_contacts(nodes[1])) == 8)
        [leader] = [n for n in nodes if n.engine.leading()]
        [survivor] = [n for n in nodes if n is not leader]
        await leader.runner.cleanup()
        nodes.remove(leader)
        await deliver(mailbox, *(customer_mail(f"Soal {i}", From=f"p{i}@pelanggan.test") for i in range(8, 12)))
        await until(lambda: len(email_contacts(survivor)) == 12, timeout=15)
        await smtp_sink.wait_for(12)
        await asyncio.sleep(1.0)
        assert len(smtp_sink.received) == 12 and len({m["In-Reply-To"] for _, _, m in smtp_sink.received}) == 12
        subjects = sorted(c.subject for c in email_contacts(survivor))
        assert subjects == sorted(f"Soal {i}" for i in range(12))
    finally:
        for node in nodes:
            await node.runner.cleanup()


async def test_without_idle_the_mailbox_is_polled(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """With IDLE off (a server without it), new mail is found by polling every poll_s, unwoken."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink, idle=False, poll_s=0.3))
    await until(lambda: server.app[EMAIL].pollers[0].sweeps >= 1)  # the first sweep, of an empty mailbox
    await deliver(mailbox, customer_mail("Lewat polling"))
    [contact] = await until(lambda: email_contacts(server), timeout=5)
    assert contact.subject == "Lewat polling"
    # Its acknowledgement reaches the sink before the test ends: the sink stops first at teardown, and an
    # acknowledgement caught half-sent would hold the engine's shutdown for the SMTP timeout.
    await smtp_sink.wait_for(1)


async def test_a_rebuilt_mailbox_files_only_the_mail_it_had_not_seen(
    engines: Callable[[Config], Any], tmp_path: Path, dovecot: Any, smtp_sink: SmtpSink
):
    """A new UIDVALIDITY fetches everything again: the mails filed before are recognised; the new one is filed."""
    old, rebuilt = dovecot.mailbox(), dovecot.mailbox()
    mails = [customer_mail(f"Soal {i}", From=f"p{i}@pelanggan.test").as_bytes() for i in range(3)]
    await deliver(old, *mails)
    config = email_config(tmp_path, [old], smtp_sink)
    first: Server = await engines(config)
    first.app[EMAIL].wake()
    await until(lambda: len(email_contacts(first)) == 3)
    await smtp_sink.wait_for(3)
    await first.runner.cleanup()

    # The same mailbox, restored elsewhere: the same messages under new UIDs, and one more.
    await deliver(rebuilt, *mails, customer_mail("Soal baru", From="baru@pelanggan.test").as_bytes())
    moved = dataclasses.replace(config.email.mailboxes[0], host=rebuilt.host, port=rebuilt.port, username=rebuilt.user)
    again: Server = await engines(
        dataclasses.replace(
            config, store=first.engine.config.store, email=dataclasses.replace(config.email, mailboxes=(moved,))
        )
    )
    again.app[EMAIL].wake()
    await until(lambda: len(email_contacts(again)) == 4)
    await asyncio.sleep(0.5)
    assert len(email_contacts(again)) == 4
    await smtp_sink.wait_for(4)
    await asyncio.sleep(0.3)
    assert len(smtp_sink.received) == 4  # the new mail's acknowledgement only
    cursor = await again.engine.store.mailbox_cursor("box0")
    assert cursor is not None and cursor[1] == 4


async def test_an_emails_suggestions_answer_what_its_latest_mail_says_not_only_its_subject(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    await deliver(mailbox, customer_mail("Pertanyaan", "Halo, kartu debit saya hilang tadi pagi, mohon diblokir."))
    offer = await agent.expect("offer", timeout=15)
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    await agent.send({"type": "suggest", "contact_id": offer["contact"]["id"]})
    suggested = await agent.expect("suggestions")
    assert suggested["language"] == "id" and suggested["replies"][0]["id"] == "card-blocked"
    assert suggested["replies"][0]["text"].startswith("Halo Ana Lestari,")
    await agent.close()
