"""The engine on the Redis store while its Redis goes away and comes back.

Redis here keeps an append-only file fsynced on every write, the setting the README names for
losing nothing acknowledged, so its restart finds everything it had acknowledged.
"""

from __future__ import annotations

from pathlib import Path

from tests.clients import WsClient, desk, offered_chat, send_until_acked, widget
from tests.conftest import RedisServer, Server, make_config, start_server


async def test_redis_away_and_back_loses_nothing_and_tells_clients(tmp_path: Path):
    """While Redis is down, a message gets store_unavailable (to its sender only) and is not recorded, other
    requests are still answered; once Redis is back, the resent message is recorded and delivered once."""
    redis = RedisServer(tmp_path, aof=True)
    redis.start()
    config = make_config(tmp_path, store={"backend": "redis", "redis_url": redis.url})
    server: Server = await start_server(config)
    try:
        agent, customer, welcome, assigned = await offered_chat(server)
        contact_id = assigned["contact"]["id"]

        redis.stop()
        lost = {"type": "message", "client_id": "c-2", "text": "Masih di sana?", "ref": "while-down"}
        await customer.send(lost)
        error = await customer.expect("error", ref="while-down")
        assert error["code"] == "store_unavailable" and "nothing was recorded" in error["message"]
        await customer.send({"type": "ping"})
        await customer.expect("pong")  # the engine goes on answering what needs no store
        newcomer, _ = await widget_refused(server)
        await agent.nothing("message", contact_id=contact_id, seq=2)
        await agent.nothing("error")  # the failure went to its sender alone

        redis.start()  # same port, same directory: the append-only file is read back
        # The engine may have missed events meanwhile: having read everything again, it asks each
        # client to reconnect and resume (1012), which the widget and the desk do by themselves.
        assert await customer.closed_by_server() == 1012
        assert await agent.closed_by_server() == 1012
        customer, _ = await widget(server, {"token": welcome["token"], "contact_id": contact_id, "last_seq": 1})
        agent, _ = await desk(server, "ayu", available=False)
        ack = await send_until_acked(customer, {k: v for k, v in lost.items() if k != "ref"})
        assert ack["seq"] == 2
        got = await agent.expect("message", contact_id=contact_id, seq=2)
        assert got["text"] == "Masih di sana?"
        await agent.nothing("message", contact_id=contact_id, seq=2)  # once, however often it was sent
        # A returning visitor (another tab) is recognised, and its conversation replayed from what Redis kept.
        again, welcome2 = await widget(server, {"token": welcome["token"], "language": "id"})
        assert welcome2["customer_id"] == welcome["customer_id"]
        replayed = [await again.expect("message") for _ in range(2)]
        assert [(m["seq"], m["text"]) for m in replayed] == [
            (1, "Halo, pesanan saya belum sampai"),
            (2, "Masih di sana?"),
        ]
        await newcomer.close()
    finally:
        await server.runner.cleanup()
        redis.stop()


async def widget_refused(server: Server) -> tuple[WsClient, dict]:
    """A new visitor says hello while Redis is down: it is told why it cannot start, and its socket stays."""
    from websockets.asyncio.client import connect

    client = WsClient(await connect(f"{server.ws_url}/ws/chat", origin=server.url))
    await client.send({"type": "hello"})
    error = await client.expect("error")
    assert error["code"] == "store_unavailable"
    return client, error
