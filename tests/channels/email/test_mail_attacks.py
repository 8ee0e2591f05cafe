"""Forged mail tried as an attacker would, through a real Dovecot mailbox and a real SMTP server, on both stores.

The victim, ana@pelanggan.test, has an open ticket. The attacker knows her address and can guess
ticket numbers (they are sequential), writes any From, Reply-To or Authentication-Results he
likes, but cannot read her mail, so never learns a Message-ID the engine or she wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contact_center.config import Config
from contact_center.mail import Direction
from contact_center.web import EMAIL
from tests.channels.email.test_email_channel import CUSTOMER, customer_mail, email_config, email_contacts, until
from tests.clients import WsClient, desk
from tests.conftest import Server
from tests.mailserver import Mailbox, SmtpSink, deliver

MX = "mx.shop.test"  # the mail server the engine trusts
PASS = (
    f"{MX}; spf=pass smtp.mailfrom={CUSTOMER}; dkim=pass header.d=pelanggan.test; dmarc=pass header.from=pelanggan.test"
)
FAIL = f"{MX}; spf=fail smtp.mailfrom=evil.test; dkim=none; dmarc=fail header.from=pelanggan.test"


async def _victims_thread(server: Server, mailbox: Mailbox, sink: SmtpSink) -> tuple[WsClient, dict[str, Any], str]:
    """Ana writes; agent ayu accepts her contact. Returns the desk, what it was assigned, and the ticket."""
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    first = customer_mail("Refund pesanan 1234")
    await deliver(mailbox, first)
    server.app[EMAIL].wake()
    offer = await agent.expect("offer", timeout=15)
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    (ack,) = await sink.wait_for(1)
    return agent, assigned, assigned["contact"]["ticket"]


async def _others(server: Server, but: str) -> list[Any]:
    """The open email contacts other than ``but`` (queued, offered or held), once there is one."""

    async def found() -> list[Any]:
        return [c for c in await server.engine.store.open_contacts() if c.channel.value == "email" and c.id != but]

    return list(await until(found))


async def test_a_forged_from_with_a_guessed_ticket_opens_its_own_contact_and_redirects_nothing(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """From: the victim, Reply-To: the attacker, [CS-n] in the subject, no trusted authentication: not her thread."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink, trusted_authserv_id=MX))
    agent, assigned, ticket = await _victims_thread(server, mailbox, smtp_sink)
    victim_contact = assigned["contact"]["id"]
    forged = (
        f"Authentication-Results: {FAIL}\r\n"  # what our mail server found, on top
        f"Received: from evil.test by {MX}; Tue, 1 Dec 2026 10:00:00 +0700\r\n"
        f"From: Ana Lestari <{CUSTOMER}>\r\nTo: support@shop.test\r\n"
        f"Subject: Re: [{ticket}] Refund pesanan 1234\r\nReply-To: Ana <ana.refunds@evil.test>\r\n"
        "Message-ID: <forged-1@evil.test>\r\n"
        f"Authentication-Results: {MX}; dmarc=pass header.from=pelanggan.test\r\n"  # the attacker's own
        "\r\nPlease send the refund to my new account 998877 instead.\r\n"
    ).encode()
    await deliver(mailbox, forged)
    server.app[EMAIL].wake()
    others = await _others(server, victim_contact)
    assert len(others) == 1 and others[0].ticket != ticket  # a contact of its own, with its own ticket
    victims_mails = await server.engine.store.mails_of(victim_contact)
    assert [m.direction for m in victims_mails] == [Direction.IN, Direction.OUT]  # nothing joined hers
    [intruder] = [m for m in await server.engine.store.mails_of(others[0].id) if m.direction == Direction.IN]
    assert intruder.summary["thread_refused"]["ticket"] == ticket
    assert "not authenticated" in intruder.summary["thread_refused"]["reason"]
    assert intruder.summary["sender_authenticated"] is False
    history = await server.engine.store.history(others[0].customer_id)
    created = [e.data for e in history if e.kind == "contact.created" and e.contact_id == others[0].id]
    assert created[0]["linked_ticket"] == ticket and created[0]["unverified_sender"] is True
    await smtp_sink.wait_for(2)
    await asyncio.sleep(0.3)
    assert [to for _, to, _ in smtp_sink.received] == [[CUSTOMER], [CUSTOMER]]  # acks to From only, never Reply-To

    # The agent answers the victim's contact: it goes to her, not to the attacker's Reply-To.
    reply = {"type": "email_reply", "contact_id": victim_contact, "client_id": "r1", "text": "Refund is on its way."}
    await agent.send(reply)
    await agent.expect("email_queued", client_id="r1")
    await smtp_sink.wait_for(3)
    assert smtp_sink.received[2][1] == [CUSTOMER]


async def test_an_authenticated_mail_from_the_customer_joins_by_ticket(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """DMARC passed at the trusted server, From the thread's customer, the ticket in the subject: it joins."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink, trusted_authserv_id=MX))
    agent, assigned, ticket = await _victims_thread(server, mailbox, smtp_sink)
    await deliver(
        mailbox, customer_mail(f"[{ticket}] tambahan", "Ini nomor rekening saya.", Authentication_Results=PASS)
    )
    server.app[EMAIL].wake()
    pushed = await agent.expect("email", timeout=15)
    assert pushed["contact_id"] == assigned["contact"]["id"]
    # The same from an authserv-id the engine does not trust counts for nothing.
    other = PASS.replace(MX, "mx.evil.test")
    await deliver(mailbox, customer_mail(f"[{ticket}] lagi", "Dan ini juga.", Authentication_Results=other))
    server.app[EMAIL].wake()
    assert len(await _others(server, assigned["contact"]["id"])) == 1


async def test_a_stranger_quoting_the_customers_message_id_does_not_join(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """In-Reply-To names the victim's mail but From is someone else: its own contact, linked to the ticket."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    agent, assigned, ticket = await _victims_thread(server, mailbox, smtp_sink)
    victim_mail = assigned["mails"][0]
    message_id = (await server.engine.store.mail(victim_mail["id"])).message_id
    stranger = customer_mail("Re: Refund", "Kirim ke saya saja.", From="Budi <budi@lain.test>", In_Reply_To=message_id)
    await deliver(mailbox, stranger)
    server.app[EMAIL].wake()
    [other] = await _others(server, assigned["contact"]["id"])
    [mail] = [m for m in await server.engine.store.mails_of(other.id) if m.direction == Direction.IN]
    assert (
        mail.summary["thread_refused"]["ticket"] == ticket
        and "another address" in mail.summary["thread_refused"]["reason"]
    )
    # Ana herself answering by Message-ID (no authentication needed) joins her thread.
    await deliver(mailbox, customer_mail("Re: Refund", "Terima kasih.", In_Reply_To=message_id))
    server.app[EMAIL].wake()
    assert (await agent.expect("email", timeout=15))["contact_id"] == assigned["contact"]["id"]


async def test_an_address_the_agent_copied_may_answer_in_the_thread(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """The agent's reply copies Ana's colleague; his answer to it joins the thread."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    agent, assigned, ticket = await _victims_thread(server, mailbox, smtp_sink)
    contact_id = assigned["contact"]["id"]
    await agent.send(
        {
            "type": "email_reply",
            "contact_id": contact_id,
            "client_id": "r1",
            "text": "Baik.",
            "cc": ["Rudi@Kantor.test"],
        }
    )
    await agent.expect("email_queued", client_id="r1")
    await smtp_sink.wait_for(2)
    _, recipients, sent = smtp_sink.received[1]
    assert recipients == [CUSTOMER, "rudi@kantor.test"] and sent["Cc"] == "rudi@kantor.test"
    answer = customer_mail(
        "Re: Refund", "Saya rekan Ana.", From="Rudi <rudi@kantor.test>", In_Reply_To=sent["Message-ID"]
    )
    await deliver(mailbox, answer)
    server.app[EMAIL].wake()
    assert (await agent.expect("email", timeout=15))["contact_id"] == contact_id
    await agent.send({"type": "email_reply", "contact_id": contact_id, "client_id": "r2", "text": "x", "cc": "a@b.c"})
    assert (await agent.expect("error"))["code"] == "invalid_field"


async def test_a_reply_to_elsewhere_is_offered_and_used_only_when_the_agent_confirms(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """The desk sees the Reply-To apart from the recipient; a reply goes there only when asked, never elsewhere."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    await deliver(mailbox, customer_mail("Refund", Reply_To="ana.kantor@pelanggan.test"))
    server.app[EMAIL].wake()
    offer = await agent.expect("offer", timeout=15)
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    assert assigned["reply"] == {"to": CUSTOMER, "reply_to_offered": ["ana.kantor@pelanggan.test"]}
    assert assigned["mails"][0]["reply_to"] == ["ana.kantor@pelanggan.test"]
    contact_id = assigned["contact"]["id"]
    send = {"type": "email_reply", "contact_id": contact_id, "text": "Baik."}
    await agent.send({**send, "client_id": "r0", "reply_to": "someone@else.test"})
    error = await agent.expect("error")
    assert error["code"] == "invalid_field" and "not a Reply-To" in error["message"]
    await agent.send({**send, "client_id": "r1"})
    await agent.expect("email_queued", client_id="r1")
    await agent.send({**send, "client_id": "r2", "reply_to": "ana.kantor@pelanggan.test"})
    await agent.expect("email_queued", client_id="r2")
    await smtp_sink.wait_for(3)
    assert [to for _, to, _ in smtp_sink.received] == [[CUSTOMER], [CUSTOMER], ["ana.kantor@pelanggan.test"]]


async def test_acknowledgements_are_limited_per_address_and_per_domain(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Forged senders at one domain with a Reply-To elsewhere: acks go to From only, and stop at acks_per_domain."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink, acks_per_domain=3))
    mails = [
        customer_mail(f"Halo {i}", From=f"Orang {i} <orang{i}@korban.test>", Reply_To="victim@target.test")
        for i in range(5)
    ]
    await deliver(mailbox, *mails)
    server.app[EMAIL].wake()
    await until(lambda: len(email_contacts(server)) == 5)
    await smtp_sink.wait_for(3)
    await asyncio.sleep(0.5)
    assert sorted(to[0] for _, to, _ in smtp_sink.received) == [f"orang{i}@korban.test" for i in range(3)]
    reasons = [
        e.data["reason"]
        for c in email_contacts(server)
        for e in await server.engine.store.history(c.customer_id)
        if e.kind == "email.not_acknowledged"
    ]
    assert len(reasons) == 2 and all("korban.test" in r for r in reasons)


async def test_machines_and_junk_are_never_answered_and_junk_is_quarantined(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """A bounce without Return-Path, a list's -request address, a report: filed, unanswered; binary: quarantined."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    bounce = customer_mail("Undelivered Mail Returned to Sender", From="Mail Delivery Subsystem <bounce@mx.test>")
    listcmd = customer_mail("subscribe", From="news-request@lists.test")
    report = (
        b"From: reports@mx.test\r\nTo: support@shop.test\r\nSubject: Delivery Status Notification\r\n"
        b"Message-ID: <r1@mx.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.0.0\r\n--b--\r\n"
    )
    junk = b"From: Ana <ana@pelanggan.test>\r\nSubject: x\r\nMessage-ID: <j1@p.test>\r\n\r\n" + bytes(range(1, 9)) * 400
    await deliver(mailbox, bounce, listcmd, report, junk, customer_mail("Manusia"))
    server.app[EMAIL].wake()
    await until(lambda: len(email_contacts(server)) == 4)
    await smtp_sink.wait_for(1)
    await asyncio.sleep(0.5)
    assert [m["Subject"].endswith("Manusia") for _, _, m in smtp_sink.received] == [True]
    [kept] = await server.engine.store.quarantined()
    assert "binary" in (kept.quarantine or "") and "control characters" in (kept.quarantine or "")
