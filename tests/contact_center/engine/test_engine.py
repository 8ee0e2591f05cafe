"""The engine on a manual clock and a real SQLite file: queue, offers, timeouts, wrap-up, restart."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from channels.registry import channel_kinds
from channels.wire import Wire
from contact_center.exceptions import BadMessage, ClientError, NotHeld
from contact_center.model import AgentStatus, ContactState
from tests.conftest import EngineEnv, make_engine_env


async def chat(env: EngineEnv, text: str = "Halo, saya perlu bantuan", client_id: str = "m1", **kw):
    customer = await env.engine.new_visitor()
    env.listen(f"customer:{customer.id}")
    contact, event = await env.engine.customer_message(customer.id, text, client_id, **kw)
    return customer, contact


async def test_first_message_queues_a_chat_and_the_agent_gets_an_offer(env: EngineEnv):
    """A customer's first message opens a chat contact; an available agent is offered it."""
    ayu = await env.add_agent("ayu")
    await env.online(ayu)
    customer, contact = await chat(env)
    await env.settle()
    offers = env.of(f"agent:{ayu.id}", "offer")
    assert [o["contact"]["id"] for o in offers] == [contact.id]
    assert offers[0]["timeout_s"] == 20
    assert env.engine.contact(contact.id).state == ContactState.OFFERED


async def test_accept_reply_and_history(env: EngineEnv):
    """After accept, the agent's reply reaches the customer and everything is in history."""
    ayu = await env.add_agent("ayu")
    await env.online(ayu)
    customer, contact = await chat(env)
    await env.settle()
    offer_id = env.of(f"agent:{ayu.id}", "offer")[0]["offer_id"]
    await env.engine.accept(ayu.id, offer_id)
    await env.engine.agent_reply(ayu.id, contact.id, "Selamat siang, ada yang bisa dibantu?", "r1")
    to_customer = env.of(f"customer:{customer.id}", "message")
    assert [(m["seq"], m["from"]) for m in to_customer] == [(1, "customer"), (2, f"agent:{ayu.id}")]
    assert env.of(f"customer:{customer.id}", "agent_joined")[0]["agent"] == "ayu"
    kinds = [e.kind for e in await env.engine.history(customer.id)]
    assert kinds == ["contact.created", "message", "contact.offered", "contact.assigned", "message"]


async def test_a_resent_message_is_recorded_once(env: EngineEnv):
    """The same client_id twice gives one message, one sequence number; the repeat is told again, the same.

    Its first telling may have died with its node: receivers give each number once (test_delivery).
    """
    customer, contact = await chat(env, client_id="dup")
    again_contact, again = await env.engine.customer_message(customer.id, "Halo, saya perlu bantuan", "dup")
    assert again_contact.id == contact.id and again.seq == 1
    assert [m.seq for m in await env.store.messages(contact.id)] == [1]
    first, repeat = env.of(f"customer:{customer.id}", "message")
    assert first == repeat and first["seq"] == 1


async def test_offer_times_out_goes_to_next_agent_and_keeps_its_place(env: EngineEnv):
    """Unanswered for 20 s: the contact goes to the next agent, keeps its original place, first agent away."""
    first = await env.add_agent("first", skills={"general": 5, "lang_en": 3})
    second = await env.add_agent("second", skills={"general": 2, "lang_en": 3})
    await env.online(first)
    await env.online(second)
    customer, contact = await chat(env, language="en")
    enqueued = contact.enqueued_at
    await env.settle()
    assert env.of(f"agent:{first.id}", "offer")
    env.clock.advance(19.9)
    await env.settle()
    assert not env.of(f"agent:{second.id}", "offer")
    env.clock.advance(0.2)
    await env.settle()
    assert env.of(f"agent:{first.id}", "offer_closed")[0]["reason"] == "timed_out"
    assert env.engine.agent(first.id).status == AgentStatus.AWAY
    assert [o["contact"]["id"] for o in env.of(f"agent:{second.id}", "offer")] == [contact.id]
    assert env.engine.contact(contact.id).enqueued_at == enqueued


async def test_reject_goes_to_next_agent_never_back_to_the_rejecter(env: EngineEnv):
    """A rejected contact is offered to another agent, not again to the one who rejected it."""
    first = await env.add_agent("first", skills={"general": 5, "lang_en": 3})
    second = await env.add_agent("second", skills={"general": 1, "lang_en": 3})
    await env.online(first)
    await env.online(second)
    _, contact = await chat(env, language="en")
    await env.settle()
    await env.engine.reject(first.id, env.of(f"agent:{first.id}", "offer")[0]["offer_id"])
    await env.settle()
    assert len(env.of(f"agent:{first.id}", "offer")) == 1
    assert env.of(f"agent:{second.id}", "offer")[0]["contact"]["id"] == contact.id


async def test_returned_contact_keeps_its_place_ahead_of_later_ones(env: EngineEnv):
    """An offer taken back puts the contact first in the queue again, ahead of contacts that came later."""
    a = await env.add_agent("a", capacity={"chat": 1})
    await env.online(a)
    _, early = await chat(env, client_id="e")
    await env.settle()
    env.clock.advance(5)
    _, late = await chat(env, client_id="l")
    await env.engine.set_status(a.id, "away")
    assert env.of(f"agent:{a.id}", "offer_closed")[0]["reason"] == "agent_unavailable"
    assert env.engine.waiting() == [early.id, late.id]


async def test_disconnect_returns_offers_at_once(env: EngineEnv):
    """An agent's desk dropping returns its pending offers to the queue immediately."""
    a = await env.add_agent("a")
    await env.online(a)
    _, contact = await chat(env)
    await env.settle()
    await env.engine.agent_disconnected(a.id)
    assert env.engine.contact(contact.id).state == ContactState.QUEUED
    assert env.of(f"agent:{a.id}", "offer_closed")[0]["reason"] == "agent_disconnected"


async def test_held_chat_survives_a_quick_reconnect_but_not_a_long_absence(env: EngineEnv):
    """Within the grace period the agent keeps its chat; after it the chat goes back to the queue."""
    a = await env.add_agent("a")
    await env.online(a)
    customer, contact = await chat(env)
    await env.settle()
    await env.engine.accept(a.id, env.of(f"agent:{a.id}", "offer")[0]["offer_id"])
    await env.engine.agent_disconnected(a.id)
    env.clock.advance(10)
    view = Wire(env.config, channel_kinds(env.config)).desk_view(await env.engine.agent_connected(a.id))
    assert view["contacts"] == [contact.id]
    await env.engine.agent_disconnected(a.id)
    env.clock.advance(31)
    await env.settle()
    assert env.engine.contact(contact.id).state == ContactState.QUEUED
    assert env.engine.agent(a.id).status == AgentStatus.OFFLINE
    assert env.of(f"customer:{customer.id}", "agent_left")


async def test_close_with_disposition_then_wrap_up_frees_the_slot(env: EngineEnv):
    """Closing puts the contact in wrap-up; after the wrap-up time it is closed and the slot is free."""
    a = await env.add_agent("a", capacity={"chat": 1}, wrap_up_s=5.0)
    await env.online(a)
    c1, contact = await chat(env, client_id="1")
    await env.settle()
    await env.engine.accept(a.id, env.of(f"agent:{a.id}", "offer")[0]["offer_id"])
    _, second = await chat(env, client_id="2")
    await env.settle()
    assert len(env.of(f"agent:{a.id}", "offer")) == 1
    with pytest.raises(ClientError, match="disposition"):
        await env.engine.close(a.id, contact.id, "whatever")
    await env.engine.close(a.id, contact.id, "resolved")
    assert env.engine.contact(contact.id).state == ContactState.WRAP_UP
    assert env.of(f"customer:{c1.id}", "ended")[0]["by"] == "agent"
    await env.settle()
    assert len(env.of(f"agent:{a.id}", "offer")) == 1
    env.clock.advance(5)
    await env.settle()
    assert env.engine.contact(contact.id) is None
    assert [o["contact"]["id"] for o in env.of(f"agent:{a.id}", "offer")][1] == second.id
    closed = await env.store.get_contact(contact.id)
    assert closed.state == ContactState.CLOSED and closed.disposition == "resolved"


async def test_out_of_order_actions_are_refused_and_record_nothing(env: EngineEnv):
    """Replying to, closing or accepting what you do not hold is refused; history is unchanged."""
    a = await env.add_agent("a")
    b = await env.add_agent("b")
    await env.online(a)
    customer, contact = await chat(env)
    await env.settle()
    offer_id = env.of(f"agent:{a.id}", "offer")[0]["offer_id"]
    before = len(await env.engine.history(customer.id))
    with pytest.raises(NotHeld):
        await env.engine.agent_reply(a.id, contact.id, "not yet accepted", "x")
    with pytest.raises(NotHeld):
        await env.engine.accept(b.id, offer_id)
    with pytest.raises(NotHeld):
        await env.engine.close(b.id, contact.id, "resolved")
    with pytest.raises(NotHeld):
        await env.engine.reject(a.id, "no-such-offer")
    assert len(await env.engine.history(customer.id)) == before
    await env.engine.accept(a.id, offer_id)
    with pytest.raises(NotHeld):
        await env.engine.accept(a.id, offer_id)


async def test_abandoned_while_waiting(env: EngineEnv):
    """A customer who leaves before an agent accepts abandons the contact; the offer is taken back."""
    a = await env.add_agent("a")
    await env.online(a)
    customer, contact = await chat(env)
    await env.settle()
    await env.engine.customer_left(customer.id)
    assert env.of(f"agent:{a.id}", "offer_closed")[0]["reason"] == "abandoned"
    assert (await env.store.get_contact(contact.id)).state == ContactState.ABANDONED


async def test_bad_fields_are_named(env: EngineEnv):
    """Empty text, an unknown topic or language, and a bad status each name the field."""
    customer = await env.engine.new_visitor()
    with pytest.raises(BadMessage, match="text: must not be empty"):
        await env.engine.customer_message(customer.id, "   ", "c")
    with pytest.raises(ClientError, match="topic: unknown topic 'sales'"):
        await env.engine.customer_message(customer.id, "hi", "c", topic="sales")
    with pytest.raises(ClientError, match="language: unknown language 'fr'"):
        await env.engine.customer_message(customer.id, "hi", "c", language="fr")
    a = await env.add_agent("a")
    with pytest.raises(ClientError, match="status: must be one of"):
        await env.engine.set_status(a.id, "offline")
    assert await env.engine.history(customer.id) == []


async def test_a_proven_identity_joins_the_history(env: EngineEnv):
    """A visitor who proves an email already known becomes that customer, history included."""
    from contact_center.identities import Identities
    from contact_center.model import IdentityKind

    identities = Identities(env.engine, env.store, env.clock, env.config)
    known = await env.engine.new_visitor()
    await identities.verified(known.id, IdentityKind.EMAIL, "sari@example.com", "code")
    visitor, contact = await chat(env)
    merged = await identities.verified(visitor.id, IdentityKind.EMAIL, "sari@example.com", "code")
    assert merged == known.id
    assert env.of(f"customer:{visitor.id}", "merged")[0]["customer_id"] == known.id
    history = await env.engine.history(known.id)
    assert {e.kind for e in history} >= {"identity.verified", "contact.created", "message", "identity.merged"}
    assert env.engine.contact(contact.id).customer_id == known.id


async def test_higher_value_customer_is_offered_first(env: EngineEnv):
    """With one slot free, the VIP who wrote second is offered before the ordinary customer."""
    plain, plain_contact = await chat(env, client_id="p")
    env.clock.advance(3)
    vip, vip_contact = await chat(env, client_id="v")
    await env.engine.set_customer_value(vip.id, 5000)
    a = await env.add_agent("a", capacity={"chat": 1})
    await env.online(a)
    await env.settle()
    assert [o["contact"]["id"] for o in env.of(f"agent:{a.id}", "offer")] == [vip_contact.id]


async def test_restart_keeps_queue_and_requeues_offers(env: EngineEnv, config):
    """A new engine on the same store finds queued and offered contacts waiting, in their order."""
    a = await env.add_agent("a", capacity={"chat": 1})
    await env.online(a)
    _, first = await chat(env, client_id="1")
    await env.settle()
    env.clock.advance(1)
    _, second = await chat(env, client_id="2")
    env.engine.stop()
    again = await make_engine_env(config, env.clock)
    try:
        assert again.engine.waiting() == [first.id, second.id]
        assert again.engine.agent(a.id).status == AgentStatus.OFFLINE
        assert [m.seq for m in await again.store.messages(first.id)] == [1]
    finally:
        again.engine.stop()
        await again.store.close()


async def test_finished_contacts_leave_nothing_behind(env: EngineEnv):
    """A closed or abandoned chat leaves no per-customer state in the engine (no growth over days)."""
    a = await env.add_agent("a", wrap_up_s=0.0)
    await env.online(a)
    customer, contact = await chat(env, client_id="1")
    await env.settle()
    await env.engine.accept(a.id, env.of(f"agent:{a.id}", "offer")[0]["offer_id"])
    await env.engine.close(a.id, contact.id, "resolved")
    env.clock.advance(0.1)
    await env.settle()
    gone, _ = await chat(env, client_id="2")
    await env.engine.customer_left(gone.id)
    await env.settle()
    engine = env.engine
    for customer_id in (customer.id, gone.id):
        assert customer_id not in engine.replica.chat_of
    assert engine.replica.contacts == {} and len(engine.replica.queue) == 0 and engine.waiting() == []
    assert engine.replica.offers == {} and not any(k.startswith(("offer:", "wrap:")) for k in engine.timers)
    assert +engine.replica.agents[a.id].load == Counter() and engine.replica.agents[a.id].held == set()


async def test_a_chat_arriving_while_a_pass_commits_is_offered_right_after_it(env: EngineEnv):
    """A routing pass waiting for its commit does not make a chat that arrives meanwhile wait for the next tick."""
    ayu = await env.add_agent("ayu")
    await env.online(ayu)
    gate = asyncio.Event()
    commit = env.store.commit

    async def after_gate(durable):  # this pass's commit is slow to come back
        await gate.wait()
        return await durable

    env.store.commit = lambda changes: asyncio.ensure_future(after_gate(commit(changes)))  # type: ignore[method-assign]
    _, first = await chat(env)
    for _ in range(5):
        await asyncio.sleep(0)  # the pass for the first chat is under way, its commit held at the gate
    _, second = await chat(env, client_id="m2")
    gate.set()
    async with asyncio.timeout(0.5):  # well inside the engine's one-second routing tick
        while len(env.of(f"agent:{ayu.id}", "offer")) < 2:
            await asyncio.sleep(0.01)
    assert [o["contact"]["id"] for o in env.of(f"agent:{ayu.id}", "offer")] == [first.id, second.id]


async def test_alone_on_its_store_the_engine_keeps_no_versions_of_finished_contacts(env: EngineEnv):
    """No other node announces anything, so nothing late can revive a finished contact: of 30 chats that came and
    went it remembers the versions of none (nodes sharing a store keep 50,000)."""
    for n in range(30):
        customer, contact = await chat(env, client_id=f"m{n}")
        await env.engine.customer_left(customer.id)
        assert env.engine.contact(contact.id) is None
    assert not env.engine.shared
    assert len(env.engine.replica._known) <= len(env.engine.replica.contacts) + len(env.engine.replica.agents)
