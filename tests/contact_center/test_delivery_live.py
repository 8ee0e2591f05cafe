"""Live delivery across two nodes when the bus loses or delays what a node published (injected at its bus).

A node that records a message and dies before its publish leaves is a publish that only its own
listeners heard; a busy path between nodes is a publish that arrives late. Both are made here by
wrapping one node's ``bus.publish``; everything else (engines, Redis, sockets) is real.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from contact_center.bus import Bus
from contact_center.events import Event, MessagePosted
from contact_center.web.app import BUS
from tests.clients import WsClient, desk, widget
from tests.conftest import Server, make_config, two_nodes

pytestmark = pytest.mark.timeout(60)

Match = Callable[[str, Event], bool]


@pytest.fixture
async def nodes(tmp_path: Path, redis_url: str) -> AsyncIterator[tuple[Server, Server]]:
    a, b = await two_nodes(make_config(tmp_path, webchat={"gap_wait_s": 0.3, "delivery_check_s": 0.5}), redis_url)
    yield a, b
    for node in (a, b):
        await node.runner.cleanup()


def lose(node: Server, match: Match) -> list[Event]:
    """From now on, what ``match``es is told to this node's own listeners only: it never leaves the node."""
    bus = node.app[BUS]
    publish, lost = bus.publish, []

    def lossy(topic: str, message: Event) -> None:
        if match(topic, message):
            lost.append(message)
            Bus.publish(bus, topic, message)
        else:
            publish(topic, message)

    bus.publish = lossy  # type: ignore[method-assign]
    return lost


def delay(node: Server, match: Match, seconds: float) -> None:
    """From now on, what ``match``es is published ``seconds`` late (everywhere)."""
    bus = node.app[BUS]
    publish, loop = bus.publish, asyncio.get_running_loop()

    def slow(topic: str, message: Event) -> None:
        if match(topic, message):
            loop.call_later(seconds, publish, topic, message)
        else:
            publish(topic, message)

    bus.publish = slow  # type: ignore[method-assign]


def message_of(client_id: str) -> Match:
    return lambda topic, m: isinstance(m, MessagePosted) and m.message.client_id == client_id


async def chatting(customer_node: Server, agent_node: Server) -> tuple[WsClient, WsClient, str, dict]:
    """A customer on one node, talking to ayu, whose desk is on the other."""
    await agent_node.add_agent("ayu")
    agent, _ = await desk(agent_node, "ayu")
    customer, welcome = await widget(customer_node, {"topic": "general", "language": "id"})
    await customer.send({"type": "message", "client_id": "c-1", "text": "Halo"})
    contact_id = (await customer.expect("ack", client_id="c-1"))["contact_id"]
    offer = await agent.expect("offer", timeout=10)
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    await customer.expect("agent_joined")
    return customer, agent, contact_id, welcome


async def test_a_message_whose_publish_never_left_its_node_reaches_the_other_node_from_the_record(nodes):
    """Recorded, acknowledged, then its node 'died' before publishing: both sides still get it, within seconds."""
    a, b = nodes
    customer, agent, contact_id, _ = await chatting(a, b)
    lost = lose(a, message_of("c-2"))
    await customer.send({"type": "message", "client_id": "c-2", "text": "Nomor pesanan 8812"})
    seq = (await customer.expect("ack", client_id="c-2"))["seq"]
    started = time.monotonic()
    got = await agent.expect("message", timeout=3, client_id="c-2")
    assert got["seq"] == seq and got["contact_id"] == contact_id and lost
    assert time.monotonic() - started < 2.5

    lose(b, message_of("r-1"))  # and the other way: the agent's reply, from node b
    await agent.send({"type": "reply", "contact_id": contact_id, "client_id": "r-1", "text": "Sebentar saya cek"})
    reply_seq = (await agent.expect("ack", client_id="r-1"))["seq"]
    got = await customer.expect("message", timeout=3, client_id="r-1")
    assert got["seq"] == reply_seq == seq + 1 and got["from"] == "agent"
    await customer.nothing("message", wait=1.2)  # and only once
    await agent.nothing("message", wait=0.1, client_id="c-2")


async def test_a_resend_acknowledged_as_a_repeat_is_told_to_the_other_side_at_once(tmp_path: Path, redis_url: str):
    """The customer never saw its ack (its node died) and sends again on another node: the agent gets it then."""
    config = make_config(tmp_path, webchat={"gap_wait_s": 30, "delivery_check_s": 30})  # no fill from the record
    a, b = await two_nodes(config, redis_url)
    try:
        customer, agent, contact_id, welcome = await chatting(a, b)
        lose(a, message_of("c-2"))
        await customer.send({"type": "message", "client_id": "c-2", "text": "Masih di sana?"})
        seq = (await customer.expect("ack", client_id="c-2"))["seq"]
        await agent.nothing("message", wait=0.3, client_id="c-2")
        await customer.close()  # as if its ack had died with node a
        again, _ = await widget(b, {"token": welcome["token"], "contact_id": contact_id, "last_seq": seq - 1})
        await again.send({"type": "message", "client_id": "c-2", "text": "Masih di sana?"})
        assert (await again.expect("ack", client_id="c-2"))["seq"] == seq
        got = await agent.expect("message", timeout=1, client_id="c-2")
        assert got["seq"] == seq
    finally:
        for node in (a, b):
            await node.runner.cleanup()


async def test_the_customers_own_ack_does_not_hide_the_agents_replies_still_on_their_way(nodes):
    """The agent's replies are slow to cross; the customer's message, sent after them, is acked first."""
    a, b = nodes
    customer, agent, contact_id, _ = await chatting(a, b)
    delay(b, lambda topic, m: isinstance(m, MessagePosted) and topic.startswith("customer:"), 0.4)
    for i in range(1, 4):
        await agent.send({"type": "reply", "contact_id": contact_id, "client_id": f"r-{i}", "text": f"balasan {i}"})
        await agent.expect("ack", client_id=f"r-{i}")
    await customer.send({"type": "message", "client_id": "c-2", "text": "Halo?"})
    own = await customer.expect("ack", client_id="c-2")
    assert own["seq"] == 5, "after the three replies"
    replies = [await customer.expect("message", timeout=3) for _ in range(3)]
    assert [(m["seq"], m["text"]) for m in replies] == [(2, "balasan 1"), (3, "balasan 2"), (4, "balasan 3")]
    await customer.nothing("message", wait=0.8)  # no copy of its own, nor a second copy of the replies


async def test_the_desk_gets_crossing_messages_in_order_with_its_own_replies_once(nodes):
    """One customer message is slow to cross; the next overtakes it: the desk still sees them in order."""
    a, b = nodes
    customer, agent, contact_id, _ = await chatting(a, b)
    delay(a, message_of("c-2"), 0.2)
    await customer.send({"type": "message", "client_id": "c-2", "text": "pertama"})
    await customer.expect("ack", client_id="c-2")
    await customer.send({"type": "message", "client_id": "c-3", "text": "kedua"})
    await customer.expect("ack", client_id="c-3")
    await agent.send({"type": "reply", "contact_id": contact_id, "client_id": "r-1", "text": "Baik"})
    await agent.expect("ack", client_id="r-1")
    seen = [await agent.expect("message", timeout=3) for _ in range(3)]
    assert [(m["seq"], m["client_id"]) for m in seen] == [(2, "c-2"), (3, "c-3"), (4, "r-1")]
    await agent.nothing("message", wait=0.6)
