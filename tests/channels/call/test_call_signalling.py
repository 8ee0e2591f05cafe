"""Click-to-call over the engine's sockets, as the customer's widget, the agent's desk and an attacker speak
it: a call placed, rung, answered, its signalling carried both ways (and garbage refused, to its sender only),
held, hung up, and what each step left in the customer's history; a call abandoned while it waits or when its
page closes; one customer on one node and the agent on another. On both stores."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.clients import WsClient, desk, widget
from tests.conftest import Server, make_config, start_server, two_nodes

SDP = "\r\n".join(
    ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "m=audio 9 UDP/TLS/RTP/SAVPF 111",
     "c=IN IP4 0.0.0.0", "a=rtpmap:111 opus/48000/2", "a=mid:0", ""]
)  # fmt: skip
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


async def placed(
    server: Server, agent: WsClient, customer: WsClient | None = None
) -> tuple[WsClient, dict[str, Any], dict[str, Any]]:
    """A customer places a call; the agent is offered it (it rings) and answers."""
    if customer is None:
        customer, _ = await widget(server, {"topic": "general", "language": "en"})
    await customer.send({"type": "call_place"})
    call = await customer.expect("call_placed")
    assert call["phase"] == "waiting" and call["ice_servers"] == []  # queued, or offered already
    offer = await agent.expect("offer")
    assert offer["contact"]["channel"] == "call" and offer["contact"]["phase"] == "waiting"
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    assert (await customer.expect("agent_joined"))["contact_id"] == call["contact_id"]
    return customer, call, assigned


async def history(server: Server, customer_id: str) -> list[str]:
    return [e.kind for e in await server.engine.history(customer_id)]


async def test_a_call_is_rung_answered_signalled_both_ways_held_and_hung_up_and_its_steps_are_history(server: Server):
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    customer, call, assigned = await placed(server, agent)
    cid = call["contact_id"]
    await agent.send({"type": "call_ice", "contact_id": cid})
    assert (await agent.expect("call_ice"))["ice_servers"] == []
    await customer.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "offer", "sdp": SDP}})
    relayed = await agent.expect("call_signal")
    assert relayed["signal"] == {"type": "offer", "sdp": SDP}
    await agent.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "answer", "sdp": SDP}})
    assert (await customer.expect("call_signal"))["signal"]["type"] == "answer"
    await customer.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "candidate", **CANDIDATE}})
    assert (await agent.expect("call_signal"))["signal"]["candidate"] == CANDIDATE["candidate"]
    await agent.send({"type": "call_connected", "contact_id": cid})
    await customer.send({"type": "call_connected", "contact_id": cid})  # both sides say so: recorded once
    await agent.send({"type": "call_hold", "contact_id": cid, "on": True})
    assert (await customer.expect("call_held"))["on"] is True
    await agent.send({"type": "call_hold", "contact_id": cid, "on": False})
    assert (await customer.expect("call_held"))["on"] is False
    await customer.send({"type": "call_stats", "contact_id": cid, "rtt_ms": 12.5, "jitter_ms": 3, "packets_lost": 0,
                         "packets_received": 400, "signals": 6})  # fmt: skip
    await customer.send({"type": "call_hangup", "contact_id": cid})
    ended = await customer.expect("call_ended")
    assert ended["by"] == "customer" and ended["duration_s"] >= 0
    told = await agent.expect("call_ended")
    assert told["by"] == "customer" and told["reason"] == "hung_up"
    assert (await agent.expect("contact_state"))["state"] == "wrap_up"
    await agent.send({"type": "call_stats", "contact_id": cid, "rtt_ms": 11, "jitter_ms": 2, "packets_lost": 1})
    await agent.send({"type": "close", "contact_id": cid, "disposition": "resolved"})
    await agent.expect("contact_state", state="closed")
    kinds = await history(server, assigned["customer"]["id"])
    for kind in ("contact.created", "contact.offered", "contact.assigned", "call.connected", "call.held",
                 "call.resumed", "call.quality", "call.ended", "contact.disposition"):  # fmt: skip
        assert kind in kinds, (kind, kinds)
    assert kinds.count("call.connected") == 1 and kinds.count("call.quality") == 2


async def test_an_agent_on_a_call_is_offered_no_chat_until_the_call_is_over(server: Server):
    await server.add_agent("ayu", capacity={"chat": 3, "call": 1}, wrap_up_s=0.2)
    agent, _ = await desk(server, "ayu")
    customer, call, _ = await placed(server, agent)
    writer, _ = await widget(server, {"topic": "general", "language": "en"})
    await writer.send({"type": "message", "client_id": "w-1", "text": "Halo, kartu saya hilang"})
    await writer.expect("ack")
    await agent.nothing("offer", wait=1.0)  # a call excludes other work
    await customer.send({"type": "call_hangup", "contact_id": call["contact_id"]})
    await agent.expect("contact_state", state="wrap_up")
    await agent.send({"type": "close", "contact_id": call["contact_id"], "disposition": "resolved"})
    offer = await agent.expect("offer", timeout=10)
    assert offer["contact"]["channel"] == "chat"


async def test_garbage_signalling_is_refused_to_its_sender_by_name_and_the_other_side_sees_none(server: Server):
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    customer, call, _ = await placed(server, agent)
    cid = call["contact_id"]
    bad: list[tuple[Any, str]] = [
        ("v=0", "not_signal"),
        ({"type": "answer", "sdp": SDP}, "wrong_signal"),  # the customer's side offers; it does not answer
        ({"type": "offer", "sdp": "hello"}, "not_sdp"),
        ({"type": "offer", "sdp": "v=0\r\nm=video 9 RTP/AVP 96\r\n"}, "no_audio"),
        ({"type": "offer", "sdp": SDP + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"}, "not_audio_only"),
        ({"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 5000}, "too_long"),
        ({"type": "offer", "sdp": SDP.replace("s=-", "s=\x00")}, "not_sdp"),
        ({"type": "candidate", "candidate": "<script>alert(1)</script>"}, "not_candidate"),
        ({"type": "candidate", **CANDIDATE, "sdpMLineIndex": 99}, "not_candidate"),
    ]
    for signal, problem in bad:
        await customer.send({"type": "call_signal", "contact_id": cid, "signal": signal})
        error = await customer.expect("error")
        assert (error["code"], error["field"], error["problem"]) == ("invalid_field", "signal", problem), error
    await agent.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "offer", "sdp": SDP}})
    assert (await agent.expect("error"))["problem"] == "wrong_signal"
    await customer.send({"type": "call_stats", "contact_id": cid, "rtt_ms": -4})
    assert (await customer.expect("error"))["field"] == "rtt_ms"
    await agent.nothing("call_signal")
    # Someone else's page, and a forged contact id, reach nothing.
    other, _ = await widget(server, {"topic": "general", "language": "en"})
    await other.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "offer", "sdp": SDP}})
    assert (await other.expect("error"))["code"] == "forbidden"
    await other.send({"type": "call_hangup", "contact_id": cid})
    assert (await other.expect("error"))["code"] == "forbidden"
    await agent.nothing("call_signal")
    await agent.nothing("call_ended")
    # The call goes on: the real offer still gets through.
    await customer.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "offer", "sdp": SDP}})
    assert (await agent.expect("call_signal"))["signal"]["type"] == "offer"


async def test_a_customer_who_hangs_up_while_waiting_or_closes_the_page_abandons_the_call(server: Server):
    customer, _ = await widget(server, {"topic": "general", "language": "id"})
    await customer.send({"type": "call_place"})
    call = await customer.expect("call_placed")
    await customer.send({"type": "call_place"})  # pressed twice: the same call
    assert (await customer.expect("call_placed"))["contact_id"] == call["contact_id"]
    await customer.send({"type": "call_hangup", "contact_id": call["contact_id"]})
    assert (await customer.expect("call_ended"))["reason"] == "hung_up"
    assert server.engine.contact(call["contact_id"]) is None  # abandoned: no longer open
    await customer.send({"type": "call_place"})
    again = await customer.expect("call_placed")
    assert again["contact_id"] != call["contact_id"]
    await customer.close()  # the page that holds the sound is gone (and does not come back)
    for _ in range(100):
        if server.engine.contact(again["contact_id"]) is None:
            break
        await _pause()
    assert server.engine.contact(again["contact_id"]) is None


async def test_a_hang_up_that_ends_the_media_offers_the_customer_a_callback_and_a_second_is_a_no_op(server: Server):
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    customer, call, _ = await placed(server, agent)
    cid = call["contact_id"]
    await agent.send({"type": "call_hangup", "contact_id": cid, "reason": "no_media"})
    assert (await agent.expect("call_ended"))["reason"] == "no_media"
    told = await customer.expect("call_ended")
    assert (told["by"], told["reason"]) == ("agent", "no_media")
    await customer.send({"type": "call_hangup", "contact_id": cid, "reason": "media_failed"})
    assert (await customer.expect("call_ended"))["reason"] == "no_media"  # as it ended first
    await customer.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "offer", "sdp": SDP}})
    assert (await customer.expect("error"))["code"] == "call_not_live"
    await agent.send({"type": "call_hangup", "contact_id": cid, "reason": "because"})
    assert (await agent.expect("error"))["field"] == "reason"


async def test_a_page_whose_socket_dropped_takes_its_call_back_and_the_sound_goes_on(server: Server):
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    customer, welcome = await widget(server, {"topic": "general", "language": "en"})
    customer, call, _ = await placed(server, agent, customer)
    cid = call["contact_id"]
    await customer.close()  # the connection dropped; the page reconnects at once
    again, _ = await widget(server, {"token": welcome["token"]})
    await again.send({"type": "call_resume", "contact_id": cid})
    assert (await again.expect("call_status"))["state"] == "assigned"
    await _pause(10)  # past the grace: the call is still on
    await again.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "offer", "sdp": SDP}})
    assert (await agent.expect("call_signal"))["signal"]["type"] == "offer"
    stranger, _ = await widget(server, {"topic": "general", "language": "en"})
    await stranger.send({"type": "call_resume", "contact_id": cid})  # another customer cannot take it
    assert (await stranger.expect("error"))["code"] == "forbidden"


async def test_a_call_transferred_to_a_colleague_is_offered_again_by_the_customers_browser(server: Server):
    await server.add_agent("ayu")
    budi = await server.add_agent("budi")
    first, _ = await desk(server, "ayu")
    second, _ = await desk(server, "budi")
    customer, call, _ = await placed(server, first)
    cid = call["contact_id"]
    await first.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "answer", "sdp": SDP}})
    await customer.expect("call_signal")
    await first.send({"type": "transfer", "contact_id": cid, "agent_id": budi.id})
    assert (await customer.expect("agent_left"))["contact_id"] == cid
    offer = await second.expect("offer")
    await second.send({"type": "accept", "offer_id": offer["offer_id"]})
    await second.expect("assigned")
    assert (await customer.expect("agent_joined"))["contact_id"] == cid
    await customer.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "offer", "sdp": SDP}})
    assert (await second.expect("call_signal"))["signal"]["type"] == "offer"  # to the colleague now
    await first.nothing("call_signal")
    await first.send({"type": "call_hangup", "contact_id": cid})  # the first agent has it no more
    assert (await first.expect("error"))["code"] == "not_held"


async def test_a_call_rung_on_a_desk_that_leaves_rings_on_the_next_agent(server: Server):
    await server.add_agent("ayu")
    await server.add_agent("budi")
    first, _ = await desk(server, "ayu")
    customer, _ = await widget(server, {"topic": "general", "language": "en"})
    await customer.send({"type": "call_place"})
    call = await customer.expect("call_placed")
    offer = await first.expect("offer")
    await first.close()  # the agent left while it rang
    second, _ = await desk(server, "budi")
    offer = await second.expect("offer", timeout=10)
    assert offer["contact"]["id"] == call["contact_id"]
    await second.send({"type": "accept", "offer_id": offer["offer_id"]})
    await second.expect("assigned")
    assert (await customer.expect("agent_joined"))["contact_id"] == call["contact_id"]


async def test_calls_outside_office_hours_are_refused_with_when_it_opens(tmp_path):
    server = await start_server(make_config(tmp_path, sla={"holidays": "", "hours": {"mon": ["08:00-09:00"]}}))
    try:
        customer, _ = await widget(server, {"topic": "general", "language": "en"})
        await customer.send({"type": "call_place"})
        error = await customer.expect("error")
        assert error["code"] == "office_closed" and error["opens_at"] > 0
        assert not [c for c in server.engine.replica.contacts.values() if c.channel.value == "call"]
    finally:
        await server.runner.cleanup()


async def test_a_customer_on_one_node_talks_to_an_agent_on_another(config, redis_url):
    a, b = await two_nodes(config, redis_url)
    try:
        await b.add_agent("ayu")
        agent, _ = await desk(b, "ayu")
        customer, call, _ = await placed(a, agent)
        cid = call["contact_id"]
        await customer.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "offer", "sdp": SDP}})
        assert (await agent.expect("call_signal", timeout=10))["signal"]["type"] == "offer"
        await agent.send({"type": "call_signal", "contact_id": cid, "signal": {"type": "answer", "sdp": SDP}})
        assert (await customer.expect("call_signal", timeout=10))["signal"]["type"] == "answer"
        await agent.send({"type": "call_hangup", "contact_id": cid})
        assert (await customer.expect("call_ended", timeout=10))["by"] == "agent"
    finally:
        await a.runner.cleanup()
        await b.runner.cleanup()


async def _pause(times: int = 1) -> None:
    await asyncio.sleep(0.1 * times)
