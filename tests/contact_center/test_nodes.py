"""Several engine nodes on one Redis: real processes on loopback, one queue between them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients import WsClient, desk, send_until_acked, widget
from tests.conftest import RedisServer
from tests.nodes import LEASE_S, OFFER_TIMEOUT_S, WRAP_UP_S, Cluster, Node, drain, waiting

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def cluster(tmp_path: Path, redis_url: str) -> AsyncIterator[Cluster]:
    nodes = Cluster(tmp_path, redis_url)
    yield nodes
    for node in nodes.nodes:
        node.stop()


async def test_a_chat_arriving_on_one_node_is_answered_from_another(cluster: Cluster):
    """The customer is on node A, the agent on node B: the offer crosses, and so do the messages."""
    cluster.add_agent("ayu")
    a, b = await cluster.start("a"), await cluster.start("b")
    agent, _ = await desk(b, "ayu")  # type: ignore[arg-type]
    customer, _ = await widget(a, {"topic": "general", "language": "id"})  # type: ignore[arg-type]
    await customer.send({"type": "message", "client_id": "c-1", "text": "Halo, pesanan saya belum sampai"})
    ack = await customer.expect("ack", client_id="c-1")
    offer = await agent.expect("offer")
    assert offer["contact"]["id"] == ack["contact_id"]
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    await customer.expect("agent_joined")
    await agent.send({"type": "reply", "contact_id": ack["contact_id"], "client_id": "a-1", "text": "Baik, saya cek"})
    got = await customer.expect("message", client_id="a-1")
    assert got["text"] == "Baik, saya cek" and got["seq"] == 2
    await customer.send({"type": "message", "client_id": "c-2", "text": "Terima kasih"})
    assert (await agent.expect("message", client_id="c-2"))["seq"] == 3
    assert await waiting(a) == [] and await waiting(b) == []


async def test_one_node_routes_for_all_and_another_takes_over_when_it_dies(cluster: Cluster):
    """Offers for chats arriving on every node come from the leader alone; killed, a survivor routes in its place."""
    cluster.add_agent("ayu", chats=10)
    nodes = [await cluster.start(name) for name in ("a", "b", "c")]
    leaders = [n for n in nodes if n.events("lease.leading")]
    assert len(leaders) == 1, [n.name for n in leaders]
    leader = leaders[0]
    survivors = [n for n in nodes if n is not leader]
    agent, _ = await desk(survivors[1], "ayu")  # type: ignore[arg-type]
    for i, node in enumerate(nodes):
        customer, _ = await widget(node, {"topic": "general", "language": "en"})  # type: ignore[arg-type]
        await customer.send({"type": "message", "client_id": "m", "text": f"hello from {node.name}"})
        contact_id = (await customer.expect("ack", client_id="m"))["contact_id"]
        assert (await agent.expect("offer"))["contact"]["id"] == contact_id, i
    assert [len(n.events("offer.made")) for n in nodes] == [3 if n is leader else 0 for n in nodes]

    leader.kill()
    customer, _ = await widget(survivors[0], {"topic": "general", "language": "en"})  # type: ignore[arg-type]
    await customer.send({"type": "message", "client_id": "m", "text": "anyone there?"})
    contact_id = (await customer.expect("ack", client_id="m"))["contact_id"]
    # The routing lease lapses within a lease; a survivor takes it at its next renewal and routes.
    offer = await agent.expect("offer", timeout=3 * LEASE_S + 2)
    assert offer["contact"]["id"] == contact_id
    assert sum(len(n.events("lease.leading")) for n in survivors) == 1


async def open_offers(desks: dict[str, list[WsClient]], within: float = 10.0) -> dict[str, set[str]]:
    """Each agent's open offers, as its desks heard them, once every agent has one (or ``within`` is up).

    A busy machine may take longer than a moment to route: this waits for the offers, not a set time.
    """
    heard: dict[str, list[dict[str, Any]]] = {name: [] for name in desks}
    deadline = asyncio.get_running_loop().time() + within
    while True:
        offered: dict[str, set[str]] = {}
        for name, clients in desks.items():
            for client in clients[1:]:  # every desk is drained; one suffices to read
                await drain(client, quiet=0.05)
            heard[name] += await drain(clients[0])
            opened = {m["contact"]["id"] for m in heard[name] if m["type"] == "offer"}
            closed = {m["contact_id"] for m in heard[name] if m["type"] == "offer_closed"}
            offered[name] = opened - closed
        if all(offered.values()) or asyncio.get_running_loop().time() > deadline:
            return offered


async def queues_agreed(nodes: list[Node], within: float = 10.0) -> list[list[str]]:
    """The queue as each node shows it, once they agree (or ``within`` is up): news between nodes takes a moment."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        queued = [await waiting(node) for node in nodes]
        if all(q == queued[0] for q in queued) or asyncio.get_running_loop().time() > deadline:
            return queued
        await asyncio.sleep(0.05)


async def test_racing_nodes_never_give_a_contact_twice_nor_an_agent_more_than_its_room(cluster: Cluster):
    """Three nodes that all route (no leader) race for the same arrivals, round after round: one chat per agent."""
    cluster.leader = False
    cluster.offer_timeout_s = 120  # no offer lapses while a round is looked at, however slow the machine
    cluster.add_agent("ayu", chats=1)
    cluster.add_agent("budi", chats=1)
    nodes = [await cluster.start(name) for name in ("a", "b", "c")]
    desks: dict[str, list[WsClient]] = {"ayu": [], "budi": []}
    for name in desks:
        for node in nodes:  # every node has both agents on its floor
            client, welcome = await desk(node, name, available=not desks[name])  # type: ignore[arg-type]
            assert welcome["agent"]["status"] == "available" or not desks[name]
            desks[name].append(client)
    for round_no in range(12):
        customers = []
        for node in nodes:
            for _ in range(2):
                client, _ = await widget(node, {"topic": "general", "language": "en"})  # type: ignore[arg-type]
                customers.append(client)
        await asyncio.gather(
            *(c.send({"type": "message", "client_id": "m", "text": f"round {round_no}"}) for c in customers)
        )
        contact_ids = {(await c.expect("ack", client_id="m"))["contact_id"] for c in customers}
        assert len(contact_ids) == 6
        await asyncio.sleep(0.6)  # every node has heard of every arrival and had its go
        offered = await open_offers(desks)
        # Each free agent holds exactly one offer (its room), and no chat is offered to both.
        assert all(len(ids) == 1 for ids in offered.values()), offered
        assert not offered["ayu"] & offered["budi"]
        queued = await queues_agreed(nodes)
        assert queued[0] == queued[1] == queued[2], "every node shows one queue"
        assert set(queued[0]) == contact_ids - offered["ayu"] - offered["budi"]
        for c in customers:
            await c.send({"type": "leave"})
            await c.expect("ended")
            await c.close()
        await asyncio.sleep(0.3)
        assert [await waiting(node) for node in nodes] == [[], [], []]
        for clients in desks.values():  # offers made and taken back while the customers left
            for client in clients:
                await drain(client)
    refused = sum(len(node.events("routing.stale")) + len(node.events("unit.stale")) for node in nodes)
    assert refused > 0, "the nodes never raced: the test proved nothing"


async def test_a_killed_node_leaves_no_contact_stuck(cluster: Cluster):
    """SIGKILL node A mid-work: its desks' offers go back in place, its clients resume on B, its timers run on B."""
    cluster.add_agent("ayu", chats=1, languages=("en",))  # so the test knows who is offered what
    cluster.add_agent("budi", chats=2, languages=("id",))
    a, b = await cluster.start("a"), await cluster.start("b")

    # budi (desk on B) holds a chat whose customer is on A, and will close another one on A's clock.
    budi, _ = await desk(b, "budi")  # type: ignore[arg-type]
    talking, hello = await widget(a, {"topic": "general", "language": "id"})  # type: ignore[arg-type]
    await talking.send({"type": "message", "client_id": "t-1", "text": "Halo"})
    talk_id = (await talking.expect("ack", client_id="t-1"))["contact_id"]
    offer = await budi.expect("offer")
    await budi.send({"type": "accept", "offer_id": offer["offer_id"]})
    await budi.expect("assigned")
    for i in range(2, 6):
        await talking.send({"type": "message", "client_id": f"t-{i}", "text": f"pesan {i}"})
        await talking.expect("ack", client_id=f"t-{i}")

    # ayu's desk is on A, offered a chat from a customer on B; ayu's offer is A's, and so is its timer.
    ayu, _ = await desk(a, "ayu")  # type: ignore[arg-type]
    waiting_customer, _ = await widget(b, {"topic": "general", "language": "en"})  # type: ignore[arg-type]
    await waiting_customer.send({"type": "message", "client_id": "w-1", "text": "Hello?"})
    waiting_id = (await waiting_customer.expect("ack", client_id="w-1"))["contact_id"]
    ayu_offer = await ayu.expect("offer")
    assert ayu_offer["contact"]["id"] == waiting_id

    # One more chat arrives on A, which offers it to budi (on B): that offer's timer is A's.
    late, _ = await widget(a, {"topic": "general", "language": "id"})  # type: ignore[arg-type]
    await late.send({"type": "message", "client_id": "l-1", "text": "Anyone?"})
    late_id = (await late.expect("ack", client_id="l-1"))["contact_id"]
    late_offer = await budi.expect("offer")
    assert late_offer["contact"]["id"] == late_id

    a.kill()

    # B strikes A's desks off within a lease or two: ayu's offer goes back, the chat waits in its place.
    async with asyncio.timeout(5 * LEASE_S + 3):
        while waiting_id not in await waiting(b):
            await asyncio.sleep(0.1)
    # A's offer to budi lapses on B's clock, once past its time and A's lease: taken over, not stuck.
    closed = await budi.expect("offer_closed", timeout=OFFER_TIMEOUT_S + 4 * LEASE_S, offer_id=late_offer["offer_id"])
    assert closed["reason"] == "timed_out"
    # B ran it: taken over, or re-armed as B's own when B marked A's customers away (their sockets died with A).
    taken = any(e["timer"] == f"offer:{late_id}" for e in b.events("timer.taken_over"))
    assert taken or any(late_id in e["contacts"] for e in b.events("chat.customers_away"))
    assert await waiting(b) == [waiting_id, late_id], "both back in their places, in arrival order"

    # ayu's desk comes back on B and is offered the same chat again.
    ayu, _ = await desk(b, "ayu")  # type: ignore[arg-type]
    again = await ayu.expect("offer", timeout=5)
    assert again["contact"]["id"] == waiting_id and again["offer_id"] != ayu_offer["offer_id"]

    # The customer who was on A resumes on B: every message once, in order, and the chat goes on.
    budi_reply = {"type": "reply", "contact_id": talk_id, "client_id": "b-1", "text": "Sebentar ya"}
    await budi.send(budi_reply)  # while the customer has no socket
    await budi.expect("ack", client_id="b-1")
    resumed, back = await widget(b, {"token": hello["token"], "contact_id": talk_id, "last_seq": 3})  # type: ignore[arg-type]
    assert back["contact"] == {"id": talk_id, "state": "assigned"}
    seqs = [(await resumed.expect("message"))["seq"] for _ in range(3)]
    assert seqs == [4, 5, 6]
    await resumed.nothing("message")
    await resumed.send({"type": "message", "client_id": "t-3", "text": "pesan 3"})  # a resend: recorded before
    assert (await resumed.expect("ack", client_id="t-3"))["seq"] == 3
    await resumed.send({"type": "message", "client_id": "t-6", "text": "masih di sini"})
    assert (await resumed.expect("ack", client_id="t-6"))["seq"] == 7
    assert (await budi.expect("message", client_id="t-6"))["seq"] == 7

    budi_close = {"type": "close", "contact_id": talk_id, "disposition": "resolved"}
    await budi.send(budi_close)
    await budi.expect("contact_state", state="wrap_up")
    await budi.expect("contact_state", state="closed", timeout=WRAP_UP_S + 5)
    assert b.events("engine.nodes_gone"), "B never noticed A was gone"


async def test_redis_away_and_back_loses_nothing_and_no_node_is_taken_for_dead(tmp_path: Path):
    """Redis (append-only, fsync always) stops for three leases under two nodes, then comes back: clients
    were told what could not be done, the resent messages cross the nodes once, the desk that left in the
    dark counts as gone, and neither node struck the other off."""
    redis = RedisServer(tmp_path, aof=True)
    redis.start()
    cluster = Cluster(tmp_path, redis.url)
    try:
        cluster.add_agent("ayu", chats=1)
        cluster.add_agent("budi", chats=1)
        a, b = await cluster.start("a"), await cluster.start("b")
        ayu, _ = await desk(b, "ayu")  # type: ignore[arg-type]
        customer, hello = await widget(a, {"topic": "general", "language": "id"})  # type: ignore[arg-type]
        await customer.send({"type": "message", "client_id": "c-1", "text": "Halo"})
        contact_id = (await customer.expect("ack", client_id="c-1"))["contact_id"]
        await ayu.send({"type": "accept", "offer_id": (await ayu.expect("offer"))["offer_id"]})
        await ayu.expect("assigned")
        await customer.expect("agent_joined")
        budi, _ = await desk(a, "budi")  # type: ignore[arg-type]

        redis.stop()
        await customer.send({"type": "message", "client_id": "c-2", "text": "Masih di sana?", "ref": "down"})
        assert (await customer.expect("error", ref="down"))["code"] == "store_unavailable"
        reply = {"type": "reply", "contact_id": contact_id, "client_id": "r-1", "text": "Ya, sebentar"}
        await ayu.send({**reply, "ref": "down"})
        assert (await ayu.expect("error", ref="down"))["code"] == "store_unavailable"
        await ayu.send({"type": "ping"})
        await ayu.expect("pong")  # what needs no store is still answered
        await budi.close()  # budi's desk goes while nothing can be recorded
        await asyncio.sleep(3 * LEASE_S)  # every lease lapses in the dark
        redis.start()  # same port and directory: the append-only file is read back

        # Each node missed events while cut off: once it has read everything again, its clients are
        # asked to reconnect and resume (1012), as the widget and the desk do by themselves.
        assert await customer.closed_by_server() == 1012
        assert await ayu.closed_by_server() == 1012
        customer, back = await widget(a, {"token": hello["token"], "contact_id": contact_id, "last_seq": 1})  # type: ignore[arg-type]
        assert back["contact"] == {"id": contact_id, "state": "assigned"}
        ayu, welcome = await desk(b, "ayu", available=False)  # type: ignore[arg-type]
        assert [m["seq"] for m in welcome["contacts"][0]["messages"]] == [1]

        assert (await send_until_acked(customer, {"type": "message", "client_id": "c-2", "text": "Masih di sana?"}))[
            "seq"
        ] == 2
        assert (await ayu.expect("message", client_id="c-2", timeout=5))["text"] == "Masih di sana?"
        await ayu.nothing("message", client_id="c-2")  # once, however often it was sent
        assert (await send_until_acked(ayu, reply))["seq"] == 3
        assert (await customer.expect("message", client_id="r-1", timeout=5))["text"] == "Ya, sebentar"

        # budi left while Redis was away; once it is back, no chat is offered to his empty desk.
        newcomer, _ = await widget(b, {"topic": "general", "language": "en"})  # type: ignore[arg-type]
        await newcomer.send({"type": "message", "client_id": "n-1", "text": "Hello?"})
        new_id = (await newcomer.expect("ack", client_id="n-1"))["contact_id"]
        await asyncio.sleep(1.0)
        assert await waiting(a) == [new_id] and await waiting(b) == [new_id]
        for node in (a, b):
            assert node.events("engine.resynced"), f"{node.name} never read the records again"
            assert not node.events("engine.nodes_gone"), f"{node.name} took a live node for dead"
    finally:
        for node in cluster.nodes:
            node.stop()
        redis.stop()
