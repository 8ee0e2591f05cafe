"""Who reads a customer's record and history: the agent working with them, supervisors, nobody else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from contact_center.model import Role
from tests.clients import desk, login, offered_chat
from tests.conftest import Server, make_config, start_server


async def read(server: Server, path: str, token: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(f"{server.url}{path}") as r:
            return r.status, await r.json()


async def test_another_agent_cannot_read_a_customers_history(server: Server):
    """The agent holding the chat reads it (REST and desk); another agent gets 403 on both paths; a supervisor reads."""
    holder, _, welcome, assigned = await offered_chat(server)
    customer_id = welcome["customer_id"]
    await server.add_agent("budi")
    await server.add_agent("lead", role=Role.SUPERVISOR)
    other, _ = await desk(server, "budi")
    for path in (f"/api/customers/{customer_id}/history", f"/api/customers/{customer_id}"):
        status, body = await read(server, path, await login(server, "budi"))
        assert status == 403 and body["error"] == "forbidden"
        assert (await read(server, path, await login(server, "ayu")))[0] == 200
        assert (await read(server, path, await login(server, "lead")))[0] == 200
    await other.send({"type": "history", "customer_id": customer_id})
    error = await other.expect("error")
    assert error["code"] == "forbidden"
    await other.nothing("history")
    await holder.send({"type": "history", "customer_id": customer_id})
    history = await holder.expect("history")
    assert any(e["kind"] == "message" for e in history["events"])


async def test_after_the_chat_ends_the_agent_reads_it_only_if_config_allows(tmp_path: Path):
    """With desk.history_of_handled the agent still reads a customer it handled; without it, not once closed."""
    for allowed in (False, True):
        srv = await start_server(make_config(tmp_path / str(allowed), desk={"history_of_handled": allowed}))
        try:
            agent, _, welcome, assigned = await offered_chat(srv)
            await agent.send({"type": "close", "contact_id": assigned["contact"]["id"], "disposition": "resolved"})
            await agent.expect("contact_state", state="closed", timeout=5)
            status, _ = await read(srv, f"/api/customers/{welcome['customer_id']}/history", await login(srv, "ayu"))
            assert status == (200 if allowed else 403)
        finally:
            await srv.runner.cleanup()
