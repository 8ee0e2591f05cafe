"""The call-me button over HTTP, as a customer's page and an attacker use it, and the agent's desk recording
how the call went; on both stores. Two nodes racing for the last place of a slot, or for one number, make
one callback."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from tests.clients import WsClient, desk, widget
from tests.conftest import Server, two_nodes

SHOP = "http://shop.test"


async def call(server: Server, method: str, path: str, token: str | None = None, **kw: Any) -> tuple[int, Any, Any]:
    headers = kw.pop("headers", {}) | ({"Authorization": f"Bearer {token}"} if token else {})
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.request(method, f"{server.url}{path}", **kw) as r:
            body = await r.json() if r.content_type == "application/json" else await r.read()
            return r.status, body, r.headers


async def first_slot(server: Server) -> dict[str, Any]:
    status, body, _ = await call(server, "GET", "/api/callbacks/slots")
    assert status == 200 and body["time_zone"] == "Asia/Jakarta" and body["slots"]
    return body["slots"][0]


async def test_a_page_without_the_chat_asks_for_a_call_and_gets_a_token_a_number_and_its_place(server: Server):
    status, body, headers = await call(server, "POST", "/api/callbacks", json={"phone": "0812-3456-7890"},
                                       headers={"Origin": SHOP})  # fmt: skip
    assert status == 201 and headers["Access-Control-Allow-Origin"] == SHOP
    made, token = body["callback"], body["token"]
    assert (made["phone"], made["state"], made["place"], made["queue_number"][:2]) == ("+6281234567890", "queued",
                                                                                      1, "C-")  # fmt: skip
    status, seen, _ = await call(server, "GET", f"/api/callbacks/{made['contact_id']}", token)
    assert status == 200 and seen["callback"]["queue_number"] == made["queue_number"]
    status, again, _ = await call(server, "POST", "/api/callbacks", token, json={"phone": "+62 812 3456 7890"})
    assert status == 200 and again["callback"]["merged"] and "token" not in again
    _, other, _ = await call(server, "POST", "/api/callbacks", json={"phone": "0813 1111 2222"})
    status, refused, _ = await call(server, "GET", f"/api/callbacks/{made['contact_id']}", other["token"])
    assert status == 404 and refused["error"] == "not_found"  # a stranger learns nothing of it
    status, refused, _ = await call(server, "POST", "/api/callbacks", other["token"], json={"phone": "081234567890"})
    assert (status, refused["error"], refused["field"]) == (409, "callback_exists", "phone")
    assert "place" not in refused and "queue_number" not in str(refused)


async def test_bad_numbers_and_hours_are_refused_by_name_and_nothing_is_queued(server: Server):
    _, body, _ = await call(server, "POST", "/api/callbacks", json={"phone": "0812 3456 7890"})
    token, waiting = body["token"], server.engine.waiting()
    cases = [
        ({"phone": "call me!"}, "phone", "not_a_number"),
        ({"phone": "12"}, "phone", "invalid_number"),
        ({"phone": "+62 812"}, "phone", "invalid_number"),
        ({"phone": "+1 202 555 0123"}, "phone", "country_not_served"),
        ({"phone": ["0812"]}, "phone", None),
        ({"phone": "081311112222", "at": 1.0}, "at", "too_soon"),
        ({"phone": "081311112222", "at": "soon"}, "at", "not_a_slot"),
        ({"phone": "081311112222", "language": "fr"}, None, None),
    ]
    for sent, field, problem in cases:
        status, refused, _ = await call(server, "POST", "/api/callbacks", token, json=sent)
        assert status == 400, (sent, refused)
        assert refused.get("field") == field or field is None, (sent, refused)
        assert refused.get("problem") == problem or problem is None, (sent, refused)
    status, refused, _ = await call(server, "POST", "/api/callbacks", token, data=b"{not json")
    assert (status, refused["error"]) == (400, "bad_json")
    status, _, _ = await call(server, "POST", "/api/callbacks", json={"phone": "081311112222"},
                              headers={"Origin": "http://evil.test"})  # fmt: skip
    assert status == 403
    assert server.engine.waiting() == waiting


async def test_a_booked_call_is_moved_and_cancelled_by_its_links_once_each(server: Server):
    slot = await first_slot(server)
    status, body, _ = await call(server, "POST", "/api/callbacks", json={"phone": "081234567890", "at": slot["start"]})
    assert status == 201 and body["callback"]["state"] == "scheduled" and body["callback"]["slot"] == slot["start"]
    links = body["callback"]["links"]
    status, refused, _ = await call(server, "POST", "/api/callbacks/cancel", json={"token": links["reschedule"]})
    assert (status, refused["error"]) == (403, "forbidden")
    later = (await call(server, "GET", "/api/callbacks/slots"))[1]["slots"][1]["start"]
    status, moved, _ = await call(server, "POST", "/api/callbacks/reschedule",
                                  json={"token": links["reschedule"], "at": later})  # fmt: skip
    assert status == 200 and moved["callback"]["slot"] == later
    for token in (links["reschedule"], links["cancel"]):
        status, _, _ = await call(server, "POST", "/api/callbacks/reschedule", json={"token": token, "at": later})
        assert status == 403
    status, over, _ = await call(server, "POST", "/api/callbacks/cancel",
                                 json={"token": moved["callback"]["links"]["cancel"]})  # fmt: skip
    assert status == 200 and over["callback"]["state"] == "closed" and over["callback"]["links"] == {}
    assert server.engine.floor().scheduled_total == 0


async def test_the_agent_sees_the_number_dials_and_records_that_nobody_answered(server: Server):
    await server.add_agent("sari", capacity={"callback": 1})
    agent, _ = await desk(server, "sari")
    _, body, _ = await call(server, "POST", "/api/callbacks", json={"phone": "0812 3456 7890", "language": "id"})
    offer = await agent.expect("offer")
    assert offer["contact"]["channel"] == "callback"
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    assert (assigned["contact"]["phone"], assigned["contact"]["tel"]) == ("+6281234567890", "tel:+6281234567890")
    await agent.send({"type": "callback_outcome", "contact_id": assigned["contact"]["id"], "outcome": "ringing"})
    assert (await agent.expect("error"))["field"] == "outcome"
    await agent.send({"type": "callback_outcome", "contact_id": assigned["contact"]["id"], "outcome": "no_answer"})
    recorded = await agent.expect("callback_outcome")
    assert recorded["state"] == "scheduled" and recorded["due_at"] > 0
    assert (await agent.expect("contact_state"))["state"] == "scheduled"
    status, seen, _ = await call(server, "GET", f"/api/callbacks/{body['callback']['contact_id']}", body["token"])
    assert seen["callback"]["state"] == "scheduled" and seen["callback"]["place"] is None
    customer, _ = await widget(server, {"token": body["token"]})  # the same customer in the chat widget
    await customer.close()
    await agent.close()


async def test_two_nodes_racing_for_the_last_place_of_a_slot_or_for_one_number_make_one_callback(config, redis_url):
    a, b = await two_nodes(config, redis_url)
    try:
        slot = await first_slot(a)
        assert slot["free"] == 2  # one agent on callbacks, two calls each slot
        await call(a, "POST", "/api/callbacks", json={"phone": "081200000001", "at": slot["start"]})
        raced = await asyncio.gather(
            call(a, "POST", "/api/callbacks", json={"phone": "081200000002", "at": slot["start"]}),
            call(b, "POST", "/api/callbacks", json={"phone": "081200000003", "at": slot["start"]}),
        )
        assert sorted(status for status, _, _ in raced) == [201, 400]
        assert next(body for status, body, _ in raced if status == 400)["problem"] == "full"
        same = await asyncio.gather(
            call(a, "POST", "/api/callbacks", json={"phone": "081299999999"}),
            call(b, "POST", "/api/callbacks", json={"phone": "+6281299999999"}),
        )
        assert sorted(status for status, _, _ in same) == [201, 409]
    finally:
        await a.runner.cleanup()
        await b.runner.cleanup()


async def rung_twice(server: Server) -> tuple[WsClient, WsClient, dict[str, Any]]:
    """A callback asked for: agent sari is offered it; budi, at his desk but away, is not."""
    await server.add_agent("sari", capacity={"callback": 1})
    await server.add_agent("budi", capacity={"callback": 1})
    agent, _ = await desk(server, "sari")
    other, _ = await desk(server, "budi", available=False)
    await call(server, "POST", "/api/callbacks", json={"phone": "0812 3456 7890"})
    return agent, other, await agent.expect("offer")


async def test_the_desk_is_told_how_to_dial_and_only_the_agent_calling_gets_gateway_credentials(tmp_path):
    import base64
    import hashlib
    import hmac

    from tests.conftest import make_config, start_server

    gateway = {"ws_url": "wss://sip.example.com:8443", "domain": "sip.example.com", "caller_id": "+622150000",
               "secret": "shared"}  # fmt: skip
    server = await start_server(make_config(tmp_path, gateway=gateway))
    try:
        agent, other, offer = await rung_twice(server)
        await other.send({"type": "dial_setup", "contact_id": offer["contact"]["id"]})  # not theirs: nothing
        assert (await other.expect("error"))["code"] == "not_held"
        await agent.send({"type": "dial_setup", "contact_id": offer["contact"]["id"]})  # offered, not taken yet
        assert (await agent.expect("error"))["code"] == "not_held"
        await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
        await agent.expect("assigned")
        await agent.send({"type": "dial_setup", "contact_id": offer["contact"]["id"]})
        setup = (await agent.expect("dial_setup"))["gateway"]
        assert setup["target"] == "sip:+6281234567890@sip.example.com"
        assert setup["uri"] == "sip:+622150000@sip.example.com" and setup["ws_url"] == gateway["ws_url"]
        expiry, label = setup["username"].split(":", 1)
        assert label.startswith("agent-") and int(expiry) > time.time()
        digest = hmac.new(b"shared", setup["username"].encode(), hashlib.sha1).digest()
        assert setup["password"] == base64.b64encode(digest).decode()  # what the gateway's auth_ephemeral checks
        status, body, headers = await call(server, "GET", "/desk")
        assert "connect-src 'self' wss://sip.example.com:8443" in headers["Content-Security-Policy"]
    finally:
        await server.runner.cleanup()


async def test_without_a_gateway_the_desk_dials_on_the_agents_own_phone(server: Server):
    await server.add_agent("sari", capacity={"callback": 1})
    agent, _ = await desk(server, "sari")
    await call(server, "POST", "/api/callbacks", json={"phone": "0812 3456 7890"})
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    await agent.send({"type": "dial_setup", "contact_id": offer["contact"]["id"]})
    setup = await agent.expect("dial_setup")
    assert setup["gateway"] is None and setup["tel"] == "tel:+6281234567890"


async def test_how_a_dialled_call_went_is_recorded_for_the_agent_calling_and_bad_figures_are_named(server: Server):
    agent, other, offer = await rung_twice(server)
    cid = offer["contact"]["id"]
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    for bad, field in (({"by": "robot"}, "by"), ({"duration_s": -1}, "duration_s"), ({"rtt_ms": "fast"}, "rtt_ms")):
        await agent.send({"type": "callback_dialled", "contact_id": cid, "by": "agent", **bad})
        assert (await agent.expect("error"))["field"] == field
    await other.send({"type": "callback_dialled", "contact_id": cid, "by": "agent", "duration_s": 3})
    assert (await other.expect("error"))["code"] == "not_held"
    await agent.send({"type": "callback_dialled", "contact_id": cid, "by": "customer", "cause": "BYE",
                      "duration_s": 42.5, "rtt_ms": 3.2, "packets_received": 2100})  # fmt: skip
    await agent.send({"type": "ping"})
    await agent.expect("pong")
    kinds = [e for e in await server.engine.history(assigned["customer"]["id"]) if e.kind == "callback.dialled"]
    assert len(kinds) == 1 and kinds[0].data["duration_s"] == 42.5 and kinds[0].data["by"] == "customer"
