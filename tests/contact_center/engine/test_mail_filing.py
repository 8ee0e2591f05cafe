"""Email in the engine on a manual clock and a real SQLite file: filing, threading, the
acknowledgement's rules, first responses and the SLA clock's warnings and breaches."""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels.email import MailComposer
from channels.email.inbound import read_mail
from contact_center.clock import ManualClock
from contact_center.config import Config
from contact_center.mail import Arrival, MailSource, Outbound
from contact_center.model import ContactState
from tests.conftest import EngineEnv, make_config, make_engine_env

JAKARTA = ZoneInfo("Asia/Jakarta")
FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=JAKARTA).timestamp()
MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=JAKARTA).timestamp()
_uids = itertools.count(1)


@pytest.fixture
def mail_config(tmp_path: Path) -> Config:
    box = {"name": "support", "host": "127.0.0.1", "username": "u", "password": "p", "address": "support@toko.test"}
    return make_config(
        tmp_path, email={"mailboxes": [box], "acks_per_sender": 2, "trusted_authserv_id": "mx.toko.test"}
    )


@pytest.fixture
async def mail_env(mail_config: Config) -> AsyncIterator[EngineEnv]:
    env = await _env(mail_config)
    yield env
    env.engine.stop()
    await asyncio.sleep(0)
    await env.store.close()


async def _env(config: Config, clock: ManualClock | None = None) -> EngineEnv:
    composer = MailComposer(config.email, config.sla.calendar)
    env = await make_engine_env(config, clock or ManualClock(FRIDAY_4PM), composer)
    env.listen("supervisors")
    return env


def raw(subject: str = "Paket belum sampai", sender: str = "Ana <ana@pelanggan.test>", body: str = "", **headers: str):
    lines = [f"From: {sender}", "To: support@toko.test", f"Subject: {subject}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    text = body or "Halo, paket saya belum sampai. Mohon dicek, terima kasih."
    return ("\r\n".join(lines) + "\r\n\r\n" + text + "\r\n").encode()


def arrival(env: EngineEnv, data: bytes) -> Arrival:
    box = env.config.email.mailboxes[0]
    read = read_mail(data, MailSource("support", 1, next(_uids)), box, env.config.email, env.clock.now())
    assert isinstance(read, Arrival)
    return read


async def outbox(env: EngineEnv) -> list[Outbound]:
    return await env.store.outbound_due(2e9)


async def kinds(env: EngineEnv, customer_id: str) -> list[str]:
    return [e.kind for e in await env.store.history(customer_id)]


async def tick(env: EngineEnv, seconds: float) -> None:
    env.clock.advance(seconds)
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_new_email_is_queued_and_acknowledged_with_the_ticket_and_the_working_hours_deadline(mail_env):
    """Friday 16:00 in Jakarta: one acknowledgement promising Monday 09:00, the ticket in its subject."""
    outcome = await mail_env.engine.receive_mail(arrival(mail_env, raw(Message_ID="<a1@pelanggan.test>")))
    assert (outcome.kind, outcome.acknowledged, outcome.ticket) == ("new", True, "CS-1")
    contact = mail_env.engine.contact(outcome.contact_id)
    assert contact is not None and contact.state == ContactState.QUEUED and contact.ticket == "CS-1"
    [ack] = await outbox(mail_env)
    message = email.message_from_bytes(ack.raw, policy=email.policy.default)
    assert message["Subject"] == "[CS-1] Email Anda sudah kami terima: Paket belum sampai"
    assert message["In-Reply-To"] == "<a1@pelanggan.test>" and message["Auto-Submitted"] == "auto-replied"
    assert "Senin, 30 November 2026 pukul 09.00 WIB" in message.get_content()
    assert ack.recipients == ("ana@pelanggan.test",) and ack.key == "ack:CS-1"
    assert await kinds(mail_env, contact.customer_id) == ["contact.created", "email.received", "email.acknowledged"]


async def test_an_unanswered_email_warns_at_risk_then_breaches_once_even_across_a_restart(mail_env, mail_config):
    """Monday 08:30 a warning goes to supervisors; at 09:00 one sla.breached event; a restart adds none."""
    outcome = await mail_env.engine.receive_mail(arrival(mail_env, raw()))
    await tick(mail_env, MONDAY + 8.5 * 3600 - FRIDAY_4PM - 1)
    assert mail_env.of("supervisors", "sla_at_risk") == []
    await tick(mail_env, 2)
    [warning] = mail_env.of("supervisors", "sla_at_risk")
    assert warning["contact_id"] == outcome.contact_id
    await tick(mail_env, 30 * 60)
    assert len(mail_env.of("supervisors", "sla_breached")) == 1
    contact = mail_env.engine.contact(outcome.contact_id)
    assert contact is not None and contact.breached_at is not None
    mail_env.engine.stop()
    await mail_env.store.close()

    again = await _env(mail_config, ManualClock(mail_env.clock.now()))
    try:
        await tick(again, 3600)
        customer = contact.customer_id
        assert (await kinds(again, customer)).count("sla.breached") == 1
        assert again.of("supervisors", "sla_breached") == []
    finally:
        again.engine.stop()
        await asyncio.sleep(0)
        await again.store.close()


async def test_an_answer_in_time_is_the_first_response_and_no_breach_follows(mail_env):
    """The agent's reply is recorded as the first response within the promise; the deadline passes quietly."""
    ayu = await mail_env.add_agent("ayu")
    await mail_env.online(ayu)
    outcome = await mail_env.engine.receive_mail(arrival(mail_env, raw()))
    await mail_env.settle()
    [offer] = mail_env.of(f"agent:{ayu.id}", "offer")
    await mail_env.engine.accept(ayu.id, offer["offer_id"])
    await tick(mail_env, MONDAY + 8.75 * 3600 - FRIDAY_4PM)  # Monday 08:45: at risk, not yet due
    sent = await mail_env.engine.email_reply(ayu.id, outcome.contact_id, "Baik Bu, kami cek hari ini.", "r1")
    assert sent["first_response"] is True
    again = await mail_env.engine.email_reply(ayu.id, outcome.contact_id, "Baik Bu, kami cek hari ini.", "r1")
    assert again["mail_id"] == sent["mail_id"]  # a resend queues nothing new
    await mail_env.engine.email_reply(ayu.id, outcome.contact_id, "Sudah kami kirim ulang.", "r2")
    await tick(mail_env, 3600)
    assert mail_env.of("supervisors", "sla_breached") == []
    history = await mail_env.store.history(mail_env.engine.contact(outcome.contact_id).customer_id)
    sent_events = [e.data for e in history if e.kind == "email.sent"]
    assert [d["first_response"] for d in sent_events] == [True, False]
    assert sent_events[0]["within_promise"] is True
    contact = mail_env.engine.contact(outcome.contact_id)
    assert contact is not None and contact.answered_at == MONDAY + 8.75 * 3600
    assert len([o for o in await outbox(mail_env) if o.kind == "reply"]) == 2


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, "Bot <bot@partner.test>", "Auto-Submitted"),
        ({"Precedence": "bulk"}, "News <news@partner.test>", "Precedence"),
        ({}, "MAILER-DAEMON@mx.partner.test", "machine"),
        ({}, "Support <support@toko.test>", "our own address"),
    ],
)
async def test_machines_lists_and_ourselves_get_no_acknowledgement(mail_env, headers, sender, reason):
    """The mail is queued like any other, with the reason no acknowledgement went as a history event."""
    outcome = await mail_env.engine.receive_mail(arrival(mail_env, raw(sender=sender, **headers)))
    assert outcome.kind == "new" and not outcome.acknowledged and reason in (outcome.no_ack or "")
    assert await outbox(mail_env) == []
    history = await mail_env.store.history(mail_env.engine.contact(outcome.contact_id).customer_id)
    assert reason in next(e.data["reason"] for e in history if e.kind == "email.not_acknowledged")


async def test_acknowledgements_to_one_sender_are_limited_per_window(mail_env):
    """Two per hour to one address (as configured); the third new thread is queued without one."""
    outcomes = [await mail_env.engine.receive_mail(arrival(mail_env, raw(f"Soal {n}"))) for n in range(3)]
    assert [o.acknowledged for o in outcomes] == [True, True, False]
    assert "2 acknowledgements went to ana@pelanggan.test" in (outcomes[2].no_ack or "")
    await tick(mail_env, 3601)
    later = await mail_env.engine.receive_mail(arrival(mail_env, raw("Soal baru")))
    assert later.acknowledged


async def test_replies_join_their_thread_by_headers_or_ticket_and_reopen_a_finished_one(mail_env):
    """In-Reply-To and the subject's ticket join the open contact; after it closed, the thread opens a new one."""
    first = await mail_env.engine.receive_mail(arrival(mail_env, raw(Message_ID="<t1@pelanggan.test>")))
    by_header = await mail_env.engine.receive_mail(
        arrival(mail_env, raw("Re: Paket", In_Reply_To="<t1@pelanggan.test>", Message_ID="<t2@pelanggan.test>"))
    )
    passed = "mx.toko.test; spf=pass smtp.mailfrom=ana@pelanggan.test; dmarc=pass header.from=pelanggan.test"
    by_ticket = await mail_env.engine.receive_mail(
        arrival(mail_env, raw(f"Lagi [{first.ticket}] paket", Authentication_Results=passed))
    )
    assert {by_header.contact_id, by_ticket.contact_id} == {first.contact_id}
    assert (by_header.kind, by_header.acknowledged) == ("filed", False)

    stranger = await mail_env.engine.receive_mail(
        arrival(mail_env, raw(f"[{first.ticket}] saya juga", sender="Budi <budi@pelanggan.test>"))
    )
    assert stranger.kind == "new" and stranger.ticket != first.ticket  # a typed ticket is only its customer's

    ayu = await mail_env.add_agent("ayu")
    await mail_env.online(ayu)
    await mail_env.settle()
    offer = next(o for o in mail_env.of(f"agent:{ayu.id}", "offer") if o["contact"]["id"] == first.contact_id)
    await mail_env.engine.accept(ayu.id, offer["offer_id"])
    await mail_env.engine.close(ayu.id, first.contact_id, "resolved")
    await tick(mail_env, 10)
    reopened = await mail_env.engine.receive_mail(
        arrival(mail_env, raw("Re: Paket", References="<t1@pelanggan.test> <t2@pelanggan.test>"))
    )
    assert reopened.kind == "new" and reopened.contact_id != first.contact_id
    assert reopened.ticket == first.ticket and not reopened.acknowledged
    history = await mail_env.store.history(mail_env.engine.contact(reopened.contact_id).customer_id)
    created = [e.data for e in history if e.kind == "contact.created"]
    assert created[-1]["follows"] == first.contact_id


async def test_an_agent_finds_the_customer_of_a_ticket_by_its_reference_in_any_case(mail_env):
    outcome = await mail_env.engine.receive_mail(arrival(mail_env, raw(Message_ID="<s1@pelanggan.test>")))
    contact = mail_env.engine.contact(outcome.contact_id)
    assert contact is not None
    for query in ("CS-1", "cs-1"):
        assert [c.id for c in await mail_env.engine.find_customers(query)] == [contact.customer_id]
    assert await mail_env.engine.find_customers("CS-99") == []
