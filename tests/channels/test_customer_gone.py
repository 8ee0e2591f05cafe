"""A customer who closes the tab: gone once `webchat.leave_grace_s` passes without a socket of theirs, not before."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from contact_center.config import Config
from contact_center.model import Channel, ContactState, Role
from tests.clients import desk, offered_chat, widget
from tests.conftest import Server, make_config, start_server, two_nodes

GRACE_S = 0.5


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, webchat={"leave_grace_s": GRACE_S})


async def until(check: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
    async with asyncio.timeout(within):
        while not (found := await check()):
            await asyncio.sleep(0.05)
    return found


async def chat_state(server: Server, contact_id: str) -> ContactState | None:
    contact = await server.engine.store.get_contact(contact_id)
    return None if contact is None else contact.state


async def waiting_chat(server: Server, hello: dict[str, Any] | None = None) -> tuple[Any, dict, str]:
    customer, welcome = await widget(server, hello)
    await customer.send({"type": "message", "client_id": "c-1", "text": "Halo, ada orang?"})
    ack = await customer.expect("ack", client_id="c-1")
    return customer, welcome, ack["contact_id"]


async def test_a_waiting_customer_who_closes_the_tab_is_abandoned_after_the_grace(server: Server):
    customer, _, contact_id = await waiting_chat(server)
    await customer.close()
    assert await until(lambda: _is(server, contact_id, ContactState.ABANDONED))
    history = await server.engine.store.history((await server.engine.store.get_contact(contact_id)).customer_id)
    assert "contact.abandoned" in [e.kind for e in history]
    # An agent who comes now is offered nothing: the dead chat is not in the queue.
    await server.add_agent("ayu")
    agent, welcome = await desk(server, "ayu")
    assert welcome["offers"] == []
    with pytest.raises(TimeoutError):
        await agent.expect("offer", timeout=GRACE_S * 2)


async def test_a_customer_back_within_the_grace_keeps_the_chat(server: Server):
    """Moving to the next page closes the socket; the next page's socket comes back in time: nothing ends."""
    customer, welcome, contact_id = await waiting_chat(server)
    await customer.close()
    back, hello = await widget(server, {"token": welcome["token"]})
    assert hello["contact"]["id"] == contact_id
    await asyncio.sleep(GRACE_S * 3)
    assert await chat_state(server, contact_id) == ContactState.QUEUED
    await back.send({"type": "message", "client_id": "c-2", "text": "Masih di sini"})
    assert (await back.expect("ack", client_id="c-2"))["contact_id"] == contact_id


async def test_a_second_tab_keeps_the_chat_until_it_closes_too(server: Server):
    first, welcome, contact_id = await waiting_chat(server)
    second, _ = await widget(server, {"token": welcome["token"]})
    await first.close()
    await asyncio.sleep(GRACE_S * 3)
    assert await chat_state(server, contact_id) == ContactState.QUEUED
    await second.close()
    assert await until(lambda: _is(server, contact_id, ContactState.ABANDONED))


async def test_the_agent_of_a_customer_who_closed_the_tab_is_told(server: Server):
    agent, customer, _, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    await customer.close()
    assert (await agent.expect("customer_left", timeout=GRACE_S + 5))["contact_id"] == contact_id
    assert (await agent.expect("contact_state", contact_id=contact_id))["state"] == "wrap_up"  # by itself
    contact = await server.engine.store.get_contact(contact_id)
    assert contact is not None and contact.state == ContactState.WRAP_UP and contact.left_at is not None


async def test_after_a_restart_a_chat_whose_customer_never_returns_is_abandoned(config: Config):
    """The embedded store's restart is its node dying: every chat waits for its customer to come back."""
    # Before the restart the grace is long: what ends the chat below is the start, not the shutdown.
    server = await start_server(
        dataclasses.replace(config, webchat=dataclasses.replace(config.webchat, leave_grace_s=600))
    )
    kept, kept_welcome, kept_id = await waiting_chat(server)
    dead, _, dead_id = await waiting_chat(server)
    await server.runner.cleanup()

    again = await start_server(config)
    try:
        back, hello = await widget(again, {"token": kept_welcome["token"]})  # this one reloads the page
        assert hello["contact"]["id"] == kept_id
        assert await until(lambda: _is(again, dead_id, ContactState.ABANDONED))
        assert await chat_state(again, kept_id) == ContactState.QUEUED
    finally:
        await again.runner.cleanup()


async def test_a_tab_on_another_node_claims_the_chat_back(config: Config, redis_url: str):
    a, b = await two_nodes(config, redis_url)
    try:
        on_a, welcome, contact_id = await waiting_chat(a)
        on_b, _ = await widget(b, {"token": welcome["token"]})
        await until(lambda: _held_on(a, contact_id, "b"))
        await on_a.close()  # a's last socket of the customer: a says so, and b's socket answers
        await asyncio.sleep(GRACE_S * 3)
        assert await chat_state(a, contact_id) == ContactState.QUEUED
        await on_b.close()
        assert await until(lambda: _is(a, contact_id, ContactState.ABANDONED))
    finally:
        await a.runner.cleanup()
        await b.runner.cleanup()


async def _is(server: Server, contact_id: str, state: ContactState) -> bool:
    return await chat_state(server, contact_id) == state


async def _held_on(server: Server, contact_id: str, node: str) -> bool:
    contact = await server.engine.store.get_contact(contact_id)
    return contact is not None and contact.channel is Channel.CHAT and contact.customer_node == node


async def test_waiting_customers_hear_their_place_in_the_queue_as_it_moves(server: Server):
    customers = []
    for _ in range(3):
        customer, _, contact_id = await waiting_chat(server)
        customers.append((customer, contact_id))
    for n, (customer, contact_id) in enumerate(customers, start=1):
        news = await customer.expect("queue", timeout=6, position=n)
        assert news["contact_id"] == contact_id and news["expected_wait_s"] is None  # nobody answered yet

    await server.add_agent("ayu", capacity={"chat": 1, "email": 5, "call": 1})  # one chat at a time: the rest wait
    agent, _ = await desk(server, "ayu")
    offer = await agent.expect("offer")
    assert offer["contact"]["id"] == customers[0][1]
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    assert (await customers[1][0].expect("queue", timeout=6, position=1))["contact_id"] == customers[1][1]
    assert (await customers[2][0].expect("queue", timeout=6, position=2))["contact_id"] == customers[2][1]


async def test_desks_see_the_waiting_queue_and_only_supervisors_the_agents(server: Server):
    await server.add_agent("ayu")
    await server.add_agent("lead", role=Role.SUPERVISOR)
    agent, _ = await desk(server, "ayu", available=False)
    lead, _ = await desk(server, "lead", available=False)
    _, _, contact_id = await waiting_chat(server)
    seen = await agent.expect("floor", timeout=6, waiting_total=1)
    assert [w["id"] for w in seen["waiting"]] == [contact_id] and "agents" not in seen  # the agents: supervisors
    assert seen["waiting"][0]["channel"] == "chat" and seen["waiting"][0]["breached"] is False
    told = await lead.expect("floor", timeout=6, waiting_total=1)
    assert sorted(a["name"] for a in told["agents"]) == ["ayu", "lead"]
    assert {a["status"] for a in told["agents"]} == {"away"}
