"""A closed socket is freed by reference counting: nothing of its session waits for the cyclic collector, whose
full passes a long-running engine makes rarely (``serve``'s settings) and which pause the loop when it does."""

from __future__ import annotations

import asyncio
import gc
import weakref

from contact_center.model import Role
from contact_center.web.keys import DESK, SOCKETS, WEBCHAT
from tests.clients import desk, widget
from tests.conftest import Server


async def test_closed_widget_and_desk_sessions_are_freed_without_the_collector(server: Server):
    """With the collector off, a customer chats with an agent while a supervisor listens in; all three close. Their
    sessions (with what they followed), their JSON sockets and aiohttp's websocket responses are gone once the
    handlers return."""
    await server.add_agent("ayu", capacity={"chat": 2})
    await server.add_agent("sari", role=Role.SUPERVISOR)
    gc.collect()
    gc.disable()
    try:
        customer, _ = await widget(server, {"topic": "general", "language": "id"})
        await customer.send({"type": "message", "client_id": "c-1", "text": "Halo, paket saya belum sampai"})
        await customer.expect("ack")
        agent, _ = await desk(server, "ayu")
        offer = await agent.expect("offer")
        await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
        await agent.expect("assigned")
        sup, _ = await desk(server, "sari", available=False)
        await sup.send({"type": "monitor", "contact_id": offer["contact"]["id"]})
        await sup.expect("monitoring")
        await agent.send({"type": "reply", "contact_id": offer["contact"]["id"], "text": "Baik", "client_id": "a1"})
        await customer.expect("message", text="Baik")

        sessions = [*server.app[WEBCHAT].sessions, *server.app[DESK].sessions]
        assert len(sessions) == 3
        watched = [weakref.ref(x) for s in sessions for x in (s, s.sock, s.sock.ws)]
        watched += [weakref.ref(s.supervision) for s in server.app[DESK].sessions]
        del sessions
        for client in (customer, agent, sup):
            await client.conn.close()
        async with asyncio.timeout(5):
            while server.app[SOCKETS] or server.app[WEBCHAT].sessions or server.app[DESK].sessions:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # the handlers' last steps after the sockets left the registry
        alive = [type(ref()).__name__ for ref in watched if ref() is not None]
        assert alive == []
    finally:
        gc.enable()
