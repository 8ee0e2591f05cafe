"""Web chat end to end over real loopback websockets: widget, desk, resume, and bad input."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from websockets.exceptions import InvalidStatus

from contact_center.identities import Identities
from contact_center.model import ContactState, IdentityKind, Role
from contact_center.sla import Period, period_start
from tests.clients import desk, login, offered_chat, widget
from tests.conftest import Server


async def test_customer_and_agent_talk(server: Server):
    """Widget to desk and back: offer, accept, transcript, reply, typing, close."""
    agent, customer, welcome, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    assert [m["text"] for m in assigned["messages"]] == ["Halo, pesanan saya belum sampai"]
    assert (await customer.expect("agent_joined"))["agent"] == "ayu"
    await customer.send({"type": "typing"})
    assert (await agent.expect("typing"))["contact_id"] == contact_id
    await agent.send({"type": "reply", "contact_id": contact_id, "client_id": "a-1", "text": "Baik, saya cek dulu."})
    assert (await agent.expect("ack", client_id="a-1"))["seq"] == 2
    got = await customer.expect("message", seq=2)
    assert got["from"] == "agent" and got["text"] == "Baik, saya cek dulu."
    await agent.send({"type": "close", "contact_id": contact_id, "disposition": "resolved"})
    assert (await customer.expect("ended"))["by"] == "agent"
    assert (await agent.expect("contact_state", state="closed"))["contact_id"] == contact_id


async def test_after_leaving_the_next_message_opens_a_new_chat_while_the_agent_wraps_up_the_old(server: Server):
    """`ended` after `leave` means ended: the old chat goes to wrap-up by itself; a new one opens."""
    agent, customer, welcome, assigned = await offered_chat(server)
    old = assigned["contact"]["id"]
    await customer.send({"type": "leave"})
    assert (await customer.expect("ended"))["by"] == "customer"
    assert (await agent.expect("customer_left"))["contact_id"] == old
    assert (await agent.expect("contact_state", contact_id=old))["state"] == "wrap_up"
    await customer.send({"type": "message", "client_id": "c-2", "text": "Satu lagi pertanyaan"})
    ack = await customer.expect("ack", client_id="c-2")
    assert ack["contact_id"] != old and ack["seq"] == 1
    offer = await agent.expect("offer")  # the new chat, queued like any other
    assert offer["contact"]["id"] == ack["contact_id"]

    await agent.send({"type": "reply", "contact_id": old, "client_id": "a-1", "text": "Terima kasih", "ref": "r"})
    refused = await agent.expect("error", ref="r")
    assert refused["code"] == "not_held" and refused["state"] == "wrap_up" and refused["contact_id"] == old
    await customer.nothing("message", client_id="a-1")
    await agent.send({"type": "close", "contact_id": old, "disposition": "resolved"})  # the disposition, and done
    await agent.expect("contact_state", state="closed", contact_id=old)
    await customer.send({"type": "message", "client_id": "c-3", "text": "Halo?"})
    assert (await customer.expect("ack", client_id="c-3")) == {
        "type": "ack",
        "client_id": "c-3",
        "contact_id": ack["contact_id"],
        "seq": 2,
    }, "still the new chat, whatever the old one goes through"
    back, hello = await widget(server, {"token": welcome["token"]})
    assert hello["contact"]["id"] == ack["contact_id"]


async def test_history_over_rest_holds_the_transcript(server: Server):
    """GET /api/customers/{id}/history shows the conversation in order, with page views."""
    agent, customer, welcome, assigned = await offered_chat(server)
    await customer.send({"type": "page_view", "url": "http://shop.test/billing", "title": "Billing"})
    await agent.send({"type": "reply", "contact_id": assigned["contact"]["id"], "client_id": "a", "text": "Hi!"})
    await customer.expect("message", seq=2)
    token = await login(server, "ayu")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(f"{server.url}/api/customers/{welcome['customer_id']}/history") as r:
            body = await r.json()
    events = body["events"]
    texts = [e["data"]["text"] for e in events if e["kind"] == "message"]
    assert texts == ["Halo, pesanan saya belum sampai", "Hi!"]
    assert any(e["kind"] == "page_view" and e["data"]["url"] == "http://shop.test/billing" for e in events)


async def test_dropped_socket_resumes_without_loss_or_repeat(server: Server):
    """The customer's socket drops; replies sent meanwhile arrive once; a resent message is recorded once."""
    agent, customer, welcome, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    await customer.close()
    for i in range(3):
        await agent.send({"type": "reply", "contact_id": contact_id, "client_id": f"a{i}", "text": f"reply {i}"})
        await agent.expect("ack", client_id=f"a{i}")
    again, welcome2 = await widget(
        server, {"token": welcome["token"], "contact_id": contact_id, "last_seq": 1, "language": "id"}
    )
    assert welcome2["customer_id"] == welcome["customer_id"]
    seqs = [(await again.expect("message"))["seq"] for _ in range(3)]
    assert seqs == [2, 3, 4]
    # The first message's ack was lost with the socket: the widget resends it, same client_id.
    await again.send({"type": "message", "client_id": "c-1", "text": "Halo, pesanan saya belum sampai"})
    assert (await again.expect("ack", client_id="c-1"))["seq"] == 1
    await again.nothing("message")
    await agent.nothing("message", seq=1)


async def test_a_returning_visitor_sees_only_its_own_conversation(server: Server):
    """Two customers: each token opens its own conversation, never the other's."""
    agent, customer, welcome, assigned = await offered_chat(server)
    other, other_welcome = await widget(server)
    assert other_welcome["contact"] is None
    await other.send({"type": "message", "client_id": "o-1", "text": "Another person here"})
    await other.expect("ack")
    back, back_welcome = await widget(server, {"token": welcome["token"], "language": "id"})
    replay = [await back.expect("message")]
    assert [m["text"] for m in replay] == ["Halo, pesanan saya belum sampai"]
    await back.nothing("message")


async def test_widget_origin_must_be_allowed(server: Server):
    """A page whose Origin is not on the allow-list cannot open a chat socket."""
    with pytest.raises(InvalidStatus) as info:
        await widget(server, origin="http://evil.test")
    assert info.value.response.status_code == 403


async def test_bad_frames_get_errors_and_the_session_goes_on(server: Server):
    """Malformed JSON, unknown types, oversized and binary frames: an error each, then normal service."""
    customer, _ = await widget(server)
    bystander, _ = await widget(server)
    await customer.send("{not json")
    assert (await customer.expect("error"))["code"] == "bad_json"
    await customer.send({"type": "launch_rockets"})
    assert (await customer.expect("error"))["code"] == "unknown_type"
    await customer.send(json.dumps({"type": "message", "client_id": "big", "text": "x" * 5000}))
    assert (await customer.expect("error"))["code"] == "frame_too_large"
    await customer.conn.send(b"\x00\x01")
    assert (await customer.expect("error"))["code"] == "bad_message"
    await customer.send({"type": "message", "client_id": "c", "text": ""})
    error = await customer.expect("error")
    assert error["code"] == "invalid_field" and "text" in error["message"]
    await customer.send({"type": "message", "client_id": "ok", "text": "still here"})
    assert (await customer.expect("ack", client_id="ok"))["seq"] == 1
    await bystander.send({"type": "ping"})
    await bystander.expect("pong")
    await bystander.nothing("error")


async def test_hello_first_and_bad_token(server: Server):
    """Anything before hello is refused; an unknown token is refused with a clear message."""
    from websockets.asyncio.client import connect

    from tests.clients import WsClient

    client = WsClient(await connect(f"{server.ws_url}/ws/chat", origin=server.url))
    await client.send({"type": "message", "client_id": "x", "text": "hi"})
    assert (await client.expect("error"))["code"] == "hello_required"
    await client.send({"type": "hello", "token": "forged"})
    error = await client.expect("error")
    assert error["code"] == "unauthorized" and "start again without a token" in error["message"]


async def test_desk_refuses_actions_on_what_it_does_not_hold(server: Server):
    """Replying to another agent's chat or accepting a stale offer gets not_held; nothing is recorded."""
    agent, customer, welcome, assigned = await offered_chat(server)
    await server.add_agent("budi")
    intruder, _ = await desk(server, "budi")
    await intruder.send({"type": "reply", "contact_id": assigned["contact"]["id"], "client_id": "i", "text": "hi"})
    assert (await intruder.expect("error"))["code"] == "not_held"
    await intruder.send({"type": "accept", "offer_id": "0000", "ref": 7})
    error = await intruder.expect("error")
    assert error["code"] == "not_held" and error["ref"] == 7
    await customer.nothing("message", seq=2)
    messages = await server.engine.store.messages(assigned["contact"]["id"])
    assert [m.seq for m in messages] == [1]


async def test_customer_tokens_are_refused_on_agent_endpoints(server: Server):
    """A chat visitor's token opens neither the desk nor the agent REST API."""
    customer, welcome = await widget(server)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {welcome['token']}"}) as http:
        async with http.get(f"{server.url}/api/customers/{welcome['customer_id']}/history") as r:
            assert r.status == 403
            assert (await r.json())["error"] == "forbidden"
        async with http.get(f"{server.url}/api/queue") as r:
            assert r.status == 403
    from websockets.asyncio.client import connect

    from tests.clients import WsClient

    deskc = WsClient(await connect(f"{server.ws_url}/ws/desk"))
    await deskc.send({"type": "hello", "token": welcome["token"]})
    assert (await deskc.expect("error"))["code"] == "forbidden"


async def test_a_second_desk_tab_follows_an_accept_made_in_the_first(server: Server):
    """Two tabs of one agent: when one accepts, the other drops the offer and can open the contact."""
    await server.add_agent("ayu")
    first, _ = await desk(server, "ayu")
    second, _ = await desk(server, "ayu", available=False)
    customer, _ = await widget(server)
    await customer.send({"type": "message", "client_id": "1", "text": "Halo"})
    offer = await first.expect("offer")
    assert (await second.expect("offer"))["offer_id"] == offer["offer_id"]
    await first.send({"type": "accept", "offer_id": offer["offer_id"]})
    await first.expect("assigned")
    closed = await second.expect("offer_closed")
    assert closed["reason"] == "accepted"
    await second.send({"type": "open", "contact_id": closed["contact_id"]})
    opened = await second.expect("assigned")
    assert [m["text"] for m in opened["messages"]] == ["Halo"]
    other_customer, _ = await widget(server)
    await other_customer.send({"type": "message", "client_id": "x", "text": "Saya juga"})
    await other_customer.expect("ack")
    await second.send({"type": "open", "contact_id": "someone-elses"})
    assert (await second.expect("error"))["code"] == "not_held"


async def test_a_flooding_client_is_slowed_and_others_are_not(tmp_path):
    """Over the per-socket frame rate a client gets rate_limited (once a second), others are served."""
    from tests.conftest import make_config, start_server

    srv = await start_server(make_config(tmp_path, webchat={"max_frames_per_s": 5, "frame_burst": 10}))
    try:
        flood, _ = await widget(srv)
        calm, _ = await widget(srv)
        for _ in range(60):
            await flood.send({"type": "ping"})
        error = await flood.expect("error")
        assert error["code"] == "rate_limited" and "5 frames a second" in error["message"]
        await calm.send({"type": "ping"})
        await calm.expect("pong")
        pongs = sum(1 for m in flood.received if m["type"] == "pong")
        while True:
            try:
                message = await flood.expect("pong", timeout=0.3)
            except TimeoutError:
                break
            pongs += message["type"] == "pong"
        assert 9 <= pongs <= 30  # the burst, plus what the rate refilled meanwhile; not all 60
        errors = [m for m in flood.received if m["type"] == "error"]
        assert len(errors) <= 1  # not one error per dropped frame
    finally:
        await srv.runner.cleanup()


async def test_messages_in_flight_are_acked_in_order_once_each(server: Server):
    """A customer writes many messages without waiting: each is acked in order, a bad one is named by its
    ref, a resend in flight gets the same number, and the agent sees each message once, in order."""
    agent, customer, welcome, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    burst = [{"type": "message", "client_id": f"b{i}", "text": f"pesan ke-{i}"} for i in range(30)]
    burst.insert(10, {"type": "message", "client_id": "bad", "text": "", "ref": "empty-one"})
    burst.insert(20, {"type": "message", "client_id": "b3", "text": "pesan ke-3"})  # a resend while in flight
    for message in burst:
        await customer.send(message)
    acks = [await customer.expect("ack", client_id=f"b{i}") for i in range(30)]
    assert [a["seq"] for a in acks] == list(range(2, 32))
    assert (await customer.expect("ack", client_id="b3"))["seq"] == 5  # the resend: same number, once
    error = await customer.expect("error", ref="empty-one")
    assert error["code"] == "invalid_field" and "text" in error["message"]
    seen = [await agent.expect("message", contact_id=contact_id) for _ in range(30)]
    assert [(m["seq"], m["text"]) for m in seen] == [(i + 2, f"pesan ke-{i}") for i in range(30)]
    await agent.nothing("message")
    await customer.nothing("message")  # a customer's own messages come back as acks only


async def test_a_failed_write_is_told_to_its_sender_only(server: Server, monkeypatch: pytest.MonkeyPatch):
    """When the store cannot write a message, its sender gets an error for that message and can go on."""
    agent, customer, welcome, assigned = await offered_chat(server)
    store = server.engine.store
    real_post = store.post_message

    def post_message(contact, actor, text, client_id, at, then):
        if text == "boom":  # the store's answer when the disk refuses the write
            asyncio.get_running_loop().call_soon(then, OSError("disk I/O error"))
            return
        real_post(contact, actor, text, client_id, at, then)

    monkeypatch.setattr(store, "post_message", post_message)
    await customer.send({"type": "message", "client_id": "x", "text": "boom", "ref": "r-boom"})
    await customer.send({"type": "message", "client_id": "y", "text": "masih bisa?"})
    error = await customer.expect("error", ref="r-boom")
    assert error["code"] == "error" and "not carried out" in error["message"]
    assert (await customer.expect("ack", client_id="y"))["seq"] == 2
    assert (await agent.expect("message", seq=2))["text"] == "masih bisa?"
    await agent.nothing("error")


async def test_an_internal_note_is_for_agents_only_and_in_the_contacts_history(server: Server):
    agent, customer, _, assigned = await offered_chat(server)
    contact = assigned["contact"]
    await agent.send({"type": "note", "contact_id": contact["id"], "text": "VIP, pernah komplain"})
    added = await agent.expect("note_added")
    assert added["contact_id"] == contact["id"] and added["text"] == "VIP, pernah komplain"
    await customer.nothing("message", wait=0.5)
    await customer.nothing("note_added", wait=0.1)
    history = await server.engine.store.history(contact["customer_id"])
    [note] = [e for e in history if e.kind == "note"]
    assert note.contact_id == contact["id"] and note.data == {"text": "VIP, pernah komplain"} and note.seq is None
    await agent.send({"type": "note", "contact_id": "not-mine", "text": "x", "ref": "n"})
    assert (await agent.expect("error", ref="n"))["code"] == "not_held"


async def test_a_transfer_to_a_colleague_offers_them_the_chat_and_one_to_the_queue_keeps_its_place(server: Server):
    agent, customer, _, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    await server.add_agent("budi")
    budi, _ = await desk(server, "budi", available=False)
    # budi is away: not someone to hand a chat to.
    await agent.send({"type": "transfer", "contact_id": contact_id, "agent_id": budi_id(server), "ref": "t1"})
    refused = await agent.expect("error", ref="t1")
    assert refused["code"] == "invalid_field" and refused["problem"] == "not_available"

    await agent.send({"type": "colleagues", "contact_id": contact_id})
    assert (await agent.expect("colleagues"))["agents"] == []  # nobody could take it now
    await budi.send({"type": "set_status", "status": "available"})
    await budi.expect("status", status="available")
    await agent.send({"type": "colleagues", "contact_id": contact_id})
    assert (await agent.expect("colleagues"))["agents"] == [{"id": budi_id(server), "name": "budi"}]
    await agent.send({"type": "transfer", "contact_id": contact_id, "agent_id": budi_id(server)})
    assert (await agent.expect("contact_state", contact_id=contact_id))["state"] == "transferred"
    assert (await customer.expect("agent_left"))["contact_id"] == contact_id
    offer = await budi.expect("offer")
    assert offer["contact"]["id"] == contact_id
    await budi.send({"type": "accept", "offer_id": offer["offer_id"]})
    taken = await budi.expect("assigned")
    assert [m["text"] for m in taken["messages"]] == ["Halo, pesanan saya belum sampai"]  # the conversation goes along
    assert (await customer.expect("agent_joined", agent="budi"))["contact_id"] == contact_id

    # budi hands it back to the queue for a skill: it keeps its place, and neither of them is offered it again.
    await budi.send({"type": "transfer", "contact_id": contact_id, "skill": "general"})
    await budi.expect("contact_state", contact_id=contact_id, state="transferred")
    contact = server.engine.contact(contact_id)
    assert contact is not None and contact.state.value == "queued"
    assert contact.skills == [("general", 1), ("lang_id", 1)]  # the skill asked for; a chat keeps its language
    assert len(set(contact.declined)) == 2  # ayu and budi both handed it on
    await agent.nothing("offer", wait=0.5)
    await budi.nothing("offer", wait=0.1)
    await budi.send({"type": "transfer", "contact_id": contact_id, "skill": "general", "ref": "t2"})
    assert (await budi.expect("error", ref="t2"))["code"] == "not_held"  # not budi's any more
    await agent.send({"type": "transfer", "contact_id": contact_id, "skill": "astrology", "ref": "t3"})
    unknown = await agent.expect("error", ref="t3")
    assert unknown["code"] == "invalid_field" and unknown["field"] == "skill"


def budi_id(server: Server) -> str:
    return next(rt.agent.id for rt in server.engine.replica.agents.values() if rt.agent.username == "budi")


async def test_the_customer_rates_a_chat_once_it_ended_and_only_their_own(server: Server):
    agent, customer, _, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    await customer.send({"type": "rate", "contact_id": contact_id, "score": 5, "ref": "early"})
    assert (await customer.expect("error", ref="early"))["code"] == "invalid_transition"  # not ended yet
    await agent.send({"type": "close", "contact_id": contact_id, "disposition": "resolved"})
    await customer.expect("ended")
    for score in (0, 6, "5", True):
        await customer.send({"type": "rate", "contact_id": contact_id, "score": score, "ref": f"s{score}"})
        bad = await customer.expect("error", ref=f"s{score}")
        assert bad["code"] == "invalid_field" and bad["field"] == "score"
    stranger, _ = await widget(server)
    await stranger.send({"type": "rate", "contact_id": contact_id, "score": 1, "ref": "x"})
    assert (await stranger.expect("error", ref="x"))["code"] == "forbidden"

    await customer.send({"type": "rate", "contact_id": contact_id, "score": 4, "comment": "Cepat, terima kasih"})
    assert (await customer.expect("rated")) == {"type": "rated", "contact_id": contact_id, "score": 4}
    await customer.send({"type": "rate", "contact_id": contact_id, "score": 1, "ref": "again"})
    assert (await customer.expect("error", ref="again"))["code"] == "conflict"  # once
    stored = await server.engine.store.get_contact(contact_id)
    assert stored is not None and stored.rating == 4
    history = await server.engine.store.history(stored.customer_id)
    [rating] = [e for e in history if e.kind == "rating"]
    assert rating.contact_id == contact_id and rating.data == {"score": 4, "comment": "Cepat, terima kasih"}


async def test_ratings_are_reported_per_month_quarter_half_and_year_to_supervisors(server: Server):
    """Two chats rated 5 and 2: one period each time, their mean, the share of 4s and 5s, the count of each score;
    the service report counts them too (JSON and CSV), for supervisors only."""
    agent, first, _, assigned = await offered_chat(server)
    chats = [(first, assigned["contact"]["id"])]
    second, _ = await widget(server, {"topic": "general", "language": "en"})
    await second.send({"type": "message", "client_id": "c-1", "text": "My card is blocked"})
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    chats.append((second, offer["contact"]["id"]))
    await agent.expect("assigned")
    for (customer, contact_id), score in zip(chats, (5, 2), strict=True):
        await agent.send({"type": "close", "contact_id": contact_id, "disposition": "resolved"})
        await customer.expect("ended")
        await customer.send({"type": "rate", "contact_id": contact_id, "score": score})
        await customer.expect("rated")
    async with asyncio.timeout(5):  # handled: once the agent's wrap-up (0.2 s) is over
        for _, contact_id in chats:
            while (await server.engine.store.get_contact(contact_id)).state != ContactState.CLOSED:
                await asyncio.sleep(0.05)
    await server.add_agent("sari", role=Role.SUPERVISOR)
    supervisor, ayu = await login(server, "sari"), await login(server, "ayu")
    today = server.engine.config.sla.calendar.local_date(time.time())
    async with aiohttp.ClientSession() as http:
        for period in ("month", "quarter", "half", "year"):
            url = f"{server.url}/api/reports/ratings?period={period}"
            async with http.get(url, headers={"Authorization": f"Bearer {supervisor}"}) as r:
                assert r.status == 200
                report = await r.json()
            assert report["periods"] == [
                {
                    "start": period_start(today, Period(period)).isoformat(),
                    "rated": 2,
                    "mean": 3.5,
                    "satisfied": 0.5,
                    "scores": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
                }
            ]
        async with http.get(f"{server.url}/api/reports/ratings", headers={"Authorization": f"Bearer {ayu}"}) as r:
            assert r.status == 403, "agents do not read reports"
        url = f"{server.url}/api/reports/ratings?period=fortnight"
        async with http.get(url, headers={"Authorization": f"Bearer {supervisor}"}) as r:
            assert r.status == 400 and "period" in (await r.json())["message"]
        # The same two chats in the service report: answered, handled, rated; as JSON and as CSV.
        url = f"{server.url}/api/reports/service?period=week"
        async with http.get(url, headers={"Authorization": f"Bearer {supervisor}"}) as r:
            assert r.status == 200
            service = await r.json()
        [chat] = [t for t in service["totals"] if t["channel"] == "chat"]
        assert (chat["arrived"], chat["answered"], chat["handled"], chat["abandoned"]) == (2, 2, 2, 0)
        assert service["rules"]["thresholds_s"]["chat"] == server.engine.config.webchat.service_level_s
        async with http.get(f"{url}&format=csv", headers={"Authorization": f"Bearer {supervisor}"}) as r:
            assert r.status == 200 and r.content_type == "text/csv"
            assert "attachment" in r.headers["Content-Disposition"]
            header, line = (await r.text()).splitlines()
        assert header.startswith("period_start,channel,arrived") and ",chat,2,2,2," in line
        async with http.get(f"{url}&format=png&lang=id", headers={"Authorization": f"Bearer {supervisor}"}) as r:
            assert r.status == 200 and r.content_type == "image/png"
            assert (await r.read())[:4] == b"\x89PNG"
        for refused in ("", "&format=csv", "&format=png"):
            async with http.get(f"{url}{refused}", headers={"Authorization": f"Bearer {ayu}"}) as r:
                assert r.status == 403, "agents do not read the service report"
        async with http.get(f"{url}&format=xml", headers={"Authorization": f"Bearer {supervisor}"}) as r:
            assert r.status == 400 and "format" in (await r.json())["message"]


async def test_the_agent_is_told_of_the_customers_other_contacts_as_they_happen(server: Server):
    """A message the customer leaves while the agent has their chat: its contact joins the history live, once."""
    agent, customer, welcome, assigned = await offered_chat(server)
    chat_id = assigned["contact"]["id"]
    await customer.send({"type": "page_view", "url": "http://shop.test/kartu", "title": "Kartu"})
    page = await agent.expect("history_added")
    assert page["event"]["kind"] == "page_view" and page["event"]["data"]["title"] == "Kartu"
    await customer.send({"type": "leave_message", "client_id": "l-1", "name": "Ani", "email": "ani@contoh.test",
                         "text": "Tolong kirim salinan tagihan lewat email"})  # fmt: skip
    left = await customer.expect("message_left")
    created = await agent.expect("history_added")
    received = await agent.expect("history_added")
    assert [created["event"]["kind"], received["event"]["kind"]] == ["contact.created", "email.received"]
    assert {created["event"]["contact_id"], received["event"]["channel"]} == {left["contact_id"], "email"}
    assert created["event"]["customer_id"] == welcome["customer_id"]
    await agent.send({"type": "reply", "contact_id": chat_id, "client_id": "a-1", "text": "Baik"})
    await agent.expect("ack", client_id="a-1")
    await agent.send({"type": "close", "contact_id": chat_id, "disposition": "resolved"})
    await agent.expect("contact_state", contact_id=chat_id, state="wrap_up")
    await asyncio.sleep(0.3)
    told = [m["event"] for m in agent.received if m["type"] == "history_added"]
    assert {e["contact_id"] for e in told} <= {left["contact_id"]}, "its own chat's events are not told as history"


async def test_an_agent_searches_customers_by_name_address_and_phone(server: Server):
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu", available=False)
    sari, welcome = await widget(server)
    await sari.send({"type": "identify", "name": "Sari Wulandari"})
    await sari.expect("identified")
    known = await server.engine.new_visitor()
    identities = Identities(server.engine, server.engine.store, server.engine.clock, server.engine.config)
    await identities.verified(known.id, IdentityKind.EMAIL, "dewi@contoh.co.id", "code")
    await identities.verified(known.id, IdentityKind.PHONE, "+6281234567890", "code")

    async def found(query: str) -> list[str]:
        await agent.send({"type": "search", "query": query})
        return [c["id"] for c in (await agent.expect("search_results", query=query))["customers"]]

    assert await found("wulan") == [welcome["customer_id"]]
    assert await found("Sari W") == [welcome["customer_id"]]
    assert await found("DEWI@contoh.co.id") == [known.id]
    assert await found("+62 812-3456-7890") == [known.id]
    assert await found("nobody") == []
    await sari.send({"type": "identify", "email": "sari@contoh.co.id"})  # a claim, not proof: finds nobody
    await sari.expect("identified")
    assert await found("sari@contoh.co.id") == []
    await agent.send({"type": "search", "query": "a", "ref": "q"})
    short = await agent.expect("error", ref="q")
    assert short["code"] == "invalid_field" and short["problem"] == "too_short"


async def test_a_read_mark_reaches_the_agent_and_only_for_the_customers_own_open_chat(server: Server):
    agent, customer, _, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    await customer.send({"type": "read", "contact_id": contact_id, "seq": 1})
    assert (await agent.expect("read")) == {"type": "read", "contact_id": contact_id, "seq": 1}
    for bad, code in (
        ({"contact_id": "other", "seq": 1}, "forbidden"),
        ({"contact_id": contact_id, "seq": 9}, "invalid_field"),
    ):
        await customer.send({"type": "read", **bad, "ref": code})
        assert (await customer.expect("error", ref=code))["code"] == code
