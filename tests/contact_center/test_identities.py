"""Identity claims and proofs over real sockets, tried as an attacker would (widget and desk, both stores).

The victim is a customer whose email address is proven, with a value and an open chat. The
attacker is an anonymous visitor who types the victim's address.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from contact_center.identities import identifier_hash
from contact_center.model import Role
from tests.clients import WsClient, desk, login, widget
from tests.conftest import Server, make_config, start_on, start_server
from tests.mailserver import SmtpSink

SECRET = "site-secret-0123456789abcdef"
VICTIM = "vip@example.com"


@pytest.fixture(params=["sqlite", "redis"])
async def server(request: pytest.FixtureRequest, tmp_path: Path, smtp_sink: SmtpSink) -> AsyncIterator[Server]:
    """An engine that takes identifiers signed with SECRET and mails codes to the SMTP sink."""
    config = make_config(
        tmp_path, identity={"secret": SECRET, "identifier": "email"}, email={"smtp": {"port": smtp_sink.port}}
    )
    srv = await start_on(request, config)
    yield srv
    await srv.runner.cleanup()


async def _victim(server: Server) -> tuple[WsClient, dict, str]:
    """The VIP: signed in at the shop (the site vouches), value 5000, an open chat with a message."""
    client, welcome = await widget(server)
    await client.send({"type": "identify", "identifier": VICTIM, "identifier_hash": identifier_hash(SECRET, VICTIM)})
    identified = await client.expect("identified")
    assert identified["verified"] == [["email", VICTIM]]
    await server.add_agent("lead", role=Role.SUPERVISOR)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {await login(server, 'lead')}"}) as http:
        async with http.patch(f"{server.url}/api/customers/{welcome['customer_id']}", json={"value": 5000}) as r:
            assert r.status == 200
    await client.send({"type": "message", "client_id": "v-1", "text": "My order 8812 is missing the invoice"})
    ack = await client.expect("ack", client_id="v-1")
    return client, welcome, ack["contact_id"]


async def test_typing_a_customers_email_gives_the_visitor_nothing_of_theirs(server: Server):
    """An unverified claim stays on the attacker's own customer: no merge, history, chat, value or rename."""
    victim, victim_welcome, victim_chat = await _victim(server)
    attacker, welcome = await widget(server)
    await attacker.send({"type": "identify", "email": VICTIM.upper(), "phone": "+62 812 3456 7890", "name": "Hacker"})
    identified = await attacker.expect("identified")
    assert identified["customer_id"] == welcome["customer_id"] != victim_welcome["customer_id"]
    assert identified["claimed"] == [["email", VICTIM], ["phone", "+6281234567890"]] and identified["verified"] == []

    # The attacker's token, used again, opens the attacker's own (empty) customer: not the victim's chat.
    again, back = await widget(server, {"token": welcome["token"]})
    assert back["customer_id"] == welcome["customer_id"] and back["contact"] is None
    await again.send({"type": "message", "client_id": "a-1", "text": "Please send the invoice to me"})
    ack = await again.expect("ack", client_id="a-1")
    assert ack["contact_id"] != victim_chat
    await again.nothing("message", wait=0.3)  # none of the victim's messages

    engine = server.engine
    assert engine.contact(ack["contact_id"]).value == 0.0  # the victim's 5000 is not inherited
    store = engine.store
    victim_customer = await store.get_customer(victim_welcome["customer_id"])
    assert victim_customer.name == "" and victim_customer.value == 5000  # not renamed
    attacker_customer = await store.get_customer(welcome["customer_id"])
    assert attacker_customer.name == "Hacker"
    assert [kind for kind, _ in attacker_customer.identities] == ["visitor"]
    assert attacker_customer.claims == [("email", VICTIM), ("phone", "+6281234567890")]
    history = await engine.history(welcome["customer_id"])
    assert all(e.contact_id != victim_chat for e in history)
    assert any(e.kind == "identity.claimed" and e.data["known_customer"] for e in history)

    # The victim's conversation goes on unseen by the attacker.
    await victim.send({"type": "message", "client_id": "v-2", "text": "Still waiting"})
    await victim.expect("ack", client_id="v-2")
    await again.nothing("message", wait=0.3)


async def test_the_desk_shows_a_claim_as_unverified_and_the_agent_may_link_it(server: Server):
    """The agent sees 'says they are ...' apart from proven identities; confirming it joins the two customers."""
    _, victim_welcome, _ = await _victim(server)
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    waiting = await agent.expect("offer")  # the victim's chat, waiting already: not this agent's to take
    assert waiting["contact"]["customer_id"] == victim_welcome["customer_id"]
    await agent.send({"type": "reject", "offer_id": waiting["offer_id"]})
    attacker, welcome = await widget(server)
    await attacker.send({"type": "identify", "email": VICTIM})
    await attacker.expect("identified")
    await attacker.send({"type": "message", "client_id": "a-1", "text": "It is me, the VIP"})
    await attacker.expect("ack")
    offer = await agent.expect("offer", timeout=10)
    assert offer["contact"]["customer_id"] == welcome["customer_id"]
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    assert assigned["customer"]["claims"] == [["email", VICTIM]]
    assert ["email", VICTIM] not in assigned["customer"]["identities"]
    contact_id = assigned["contact"]["id"]

    # The agent may not link what the customer never said, nor a contact it does not hold.
    await agent.send({"type": "link_identity", "contact_id": contact_id, "kind": "email", "value": "other@x.com"})
    assert (await agent.expect("error"))["code"] == "forbidden"
    await agent.send({"type": "link_identity", "contact_id": "not-mine", "kind": "email", "value": VICTIM})
    assert (await agent.expect("error"))["code"] == "not_held"

    await agent.send({"type": "link_identity", "contact_id": contact_id, "kind": "email", "value": VICTIM})
    linked = await agent.expect("linked")
    assert linked["customer_id"] == victim_welcome["customer_id"]
    refreshed = await agent.expect("assigned")
    assert ["email", VICTIM] in refreshed["customer"]["identities"] and refreshed["customer"]["claims"] == []
    assert (await attacker.expect("identified"))["customer_id"] == victim_welcome["customer_id"]
    history = await server.engine.history(victim_welcome["customer_id"])
    merged = [e for e in history if e.kind == "identity.merged"]
    assert merged and merged[0].actor.startswith("agent:")


async def test_only_the_sites_signature_vouches_for_an_identifier(server: Server):
    """A wrong identifier_hash changes nothing; the right one (the victim's second device) joins the victim."""
    _, victim_welcome, victim_chat = await _victim(server)
    attacker, welcome = await widget(server)
    forged = identifier_hash("guessed-secret-000000000", VICTIM)
    await attacker.send({"type": "identify", "identifier": VICTIM, "identifier_hash": forged, "name": "Eve"})
    error = await attacker.expect("error")
    assert error["code"] == "identity_unverified" and "identifier_hash" in error["message"]
    await attacker.send({"type": "identify", "identifier": VICTIM, "identifier_hash": forged[:-1] + "0"})
    assert (await attacker.expect("error"))["code"] == "identity_unverified"
    attacker_customer = await server.engine.store.get_customer(welcome["customer_id"])
    assert attacker_customer.name == "" and attacker_customer.claims == []  # nothing half-recorded

    phone, phone_welcome = await widget(server)
    await phone.send({"type": "identify", "identifier": VICTIM, "identifier_hash": identifier_hash(SECRET, VICTIM)})
    assert (await phone.expect("identified"))["customer_id"] == victim_welcome["customer_id"]
    resumed, back = await widget(server, {"token": phone_welcome["token"]})
    assert back["customer_id"] == victim_welcome["customer_id"] and back["contact"]["id"] == victim_chat


async def _code_in(sink: SmtpSink, count: int) -> str:
    mail = (await sink.wait_for(count))[count - 1]
    found = re.search(r"\b(\d{6})\b", mail.get_content())
    assert found is not None, mail.get_content()
    return found.group(1)


async def test_a_code_mailed_to_the_address_proves_it(server: Server, smtp_sink: SmtpSink):
    """The code goes only to the address; wrong codes count down and void it; the right one joins the customer."""
    _, victim_welcome, victim_chat = await _victim(server)
    visitor, welcome = await widget(server, {"language": "id"})
    await visitor.send({"type": "verify_email", "email": VICTIM})
    sent = await visitor.expect("code_sent")
    assert sent["email"] == VICTIM
    code = await _code_in(smtp_sink, 1)
    (mail_from, to, message) = smtp_sink.received[0]
    assert to == [VICTIM] and "Kode verifikasi" in message["Subject"] and message["Auto-Submitted"] == "auto-replied"
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        await visitor.send({"type": "verify_code", "code": wrong})
        error = await visitor.expect("error")
        assert error["code"] == "code_wrong" and f"{left} tr" in error["message"]
    await visitor.send({"type": "verify_code", "code": wrong})
    assert (await visitor.expect("error"))["code"] == "code_expired"
    await visitor.send({"type": "verify_code", "code": code})  # too late: the code is void
    assert (await visitor.expect("error"))["code"] == "code_expired"

    await visitor.send({"type": "verify_email", "email": VICTIM})
    await visitor.expect("code_sent")
    fresh = await _code_in(smtp_sink, 2)
    await visitor.send({"type": "verify_code", "code": fresh})
    identified = await visitor.expect("identified")
    assert identified["customer_id"] == victim_welcome["customer_id"] and identified["verified"] == [["email", VICTIM]]
    _, back = await widget(server, {"token": welcome["token"]})
    assert back["contact"]["id"] == victim_chat


async def test_codes_are_limited_per_visitor_and_per_address(server: Server, smtp_sink: SmtpSink):
    """More than identity.codes_per_hour codes for one visitor, or to one address, are refused."""
    visitor, _ = await widget(server)
    for i in range(3):
        await visitor.send({"type": "verify_email", "email": f"someone{i}@example.com"})
        await visitor.expect("code_sent")
    await visitor.send({"type": "verify_email", "email": "someone9@example.com"})
    assert (await visitor.expect("error"))["code"] == "rate_limited"
    others = [await widget(server) for _ in range(4)]
    for client, _ in others[:3]:
        await client.send({"type": "verify_email", "email": "target@example.com"})
        await client.expect("code_sent")
    await others[3][0].send({"type": "verify_email", "email": "target@example.com"})
    assert (await others[3][0].expect("error"))["code"] == "rate_limited"
    await smtp_sink.wait_for(6)
    assert len(smtp_sink.received) == 6


async def test_identity_verification_off_and_a_bad_address_are_named(tmp_path: Path):
    """Without identity.secret an identifier is refused by name; a malformed email claim is invalid_field."""
    srv = await start_server(make_config(tmp_path))
    try:
        client, welcome = await widget(srv)
        await client.send({"type": "identify", "identifier": VICTIM, "identifier_hash": "00"})
        assert (await client.expect("error"))["code"] == "verification_unavailable"
        await client.send({"type": "identify", "email": "not an address"})
        error = await client.expect("error")
        assert error["code"] == "invalid_field" and error["message"].startswith("email:")
        customer = await srv.engine.store.get_customer(welcome["customer_id"])
        assert customer.claims == []
    finally:
        await srv.runner.cleanup()


def test_new_visitors_are_counted_per_minute_and_forgotten_after(tmp_path: Path):
    """The node's own count: the allowance is back a minute after an address's first visitor; nothing kept longer."""
    from contact_center.clock import ManualClock
    from contact_center.identities import Identities, Throttled

    clock = ManualClock()
    config = make_config(tmp_path, webchat={"new_visitors_per_min": 2})
    identities = Identities(engine=None, store=None, clock=clock, config=config)  # type: ignore[arg-type]
    identities.admit_visitor("10.0.0.1")
    clock.advance(30)
    identities.admit_visitor("10.0.0.1")
    identities.admit_visitor("10.0.0.2")  # another address has its own allowance
    with pytest.raises(Throttled, match="more than 2 new chats"):
        identities.admit_visitor("10.0.0.1")
    clock.advance(30)  # a minute after 10.0.0.1's first visitor
    identities.admit_visitor("10.0.0.1")
    identities.admit_visitor("10.0.0.1")
    with pytest.raises(Throttled):
        identities.admit_visitor("10.0.0.1")
    clock.advance(61)
    identities.admit_visitor("10.0.0.3")
    assert list(identities._visitors) == ["10.0.0.3"]  # every ended minute is dropped
