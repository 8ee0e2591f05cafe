"""The supervisors' dashboard over the desk socket: live lines, agents and figures; status, move and listen in."""

from __future__ import annotations

import math
from typing import Any

import pytest

from contact_center.model import Role
from tests.clients import WsClient, desk, offered_chat, widget
from tests.conftest import Server


async def dashboard(sup: WsClient, **wanted: Any) -> dict[str, Any]:
    """The next dashboard for which every ``check(message)`` in ``wanted`` holds (older ones are skipped)."""
    for _ in range(40):
        message = await sup.expect("dashboard", timeout=5)
        if all(check(message) for check in wanted.values()):
            return message
    raise AssertionError("the dashboard never showed what was waited for")


def channel(message: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in message["channels"] if c["channel"] == name)


def agent(message: dict[str, Any], username: str) -> dict[str, Any]:
    return next(a for a in message["agents"] if a["username"] == username)


async def test_the_dashboard_shows_the_line_the_agents_and_the_days_figures(server: Server):
    """A waiting chat is in the line; once answered it leaves it, its agent holds it and today's chat is answered."""
    await server.add_agent("sari", role=Role.SUPERVISOR)
    sup, _ = await desk(server, "sari", available=False)
    customer, _ = await widget(server, {"topic": "general", "language": "id"})
    await customer.send({"type": "message", "client_id": "c-1", "text": "Halo, kartu saya terblokir"})
    await customer.expect("ack")
    waiting = await dashboard(sup, line=lambda m: channel(m, "chat")["waiting"] == 1)
    assert channel(waiting, "chat")["oldest_at"] <= waiting["now"]
    assert channel(waiting, "chat")["threshold_s"] == server.engine.config.webchat.service_level_s
    assert channel(waiting, "chat")["target"] == 0.8 and waiting["email"]["target"] == 0.9
    await server.add_agent("ayu")
    ayu, _ = await desk(server, "ayu")
    offer = await ayu.expect("offer")
    await ayu.send({"type": "accept", "offer_id": offer["offer_id"]})
    await ayu.expect("assigned")
    answered = await dashboard(sup, answered=lambda m: (channel(m, "chat")["today"] or {}).get("answered") == 1)
    assert channel(answered, "chat")["waiting"] == 0
    mine = agent(answered, "ayu")
    assert mine["status"] == "available" and mine["connected"] and mine["load"] == {"chat": 1}
    assert [c["id"] for c in mine["contacts"]] == [offer["contact"]["id"]]
    assert mine["occupancy"] is not None and 0 < mine["occupancy"] <= 1
    assert len(answered["staffed"]) == 24  # mean agents staffed in each hour of today


async def test_an_agent_gets_no_dashboard_and_is_refused_every_supervisor_action(server: Server):
    """No dashboard for an agent's desk; set_agent_status, move_contact, monitor, stop_monitoring and staffing
    advice: forbidden."""
    agent_desk, customer, _, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    await server.add_agent("budi")
    budi, welcome = await desk(server, "budi")
    asks = [
        {"type": "set_agent_status", "agent_id": welcome["agent"]["id"], "status": "away"},
        {"type": "move_contact", "contact_id": contact_id, "agent_id": welcome["agent"]["id"]},
        {"type": "monitor", "contact_id": contact_id},
        {"type": "stop_monitoring", "contact_id": contact_id},
        {"type": "staffing_advice", "arrivals_per_hour": 100, "handle_s": 180, "target": 0.8, "within_s": 20},
    ]
    for n, ask in enumerate(asks):
        await budi.send({**ask, "ref": f"r{n}"})
        assert (await budi.expect("error", ref=f"r{n}"))["code"] == "forbidden"
    await budi.nothing("dashboard", wait=1.2)
    await customer.send({"type": "message", "client_id": "c-2", "text": "Masih di sana?"})
    await agent_desk.expect("message", text="Masih di sana?")
    await budi.nothing("monitored_message")


async def test_a_supervisor_listens_in_moves_a_chat_and_sets_a_status(server: Server):
    """Listening in: the chat so far, then each new message, once; the chat moved to budi is offered to him; ayu
    set away by the supervisor is told so."""
    ayu_desk, customer, _, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    await server.add_agent("budi")
    budi, budi_welcome = await desk(server, "budi")
    await server.add_agent("sari", role=Role.SUPERVISOR)
    sup, sup_welcome = await desk(server, "sari", available=False)
    by = f"by_supervisor:{sup_welcome['agent']['id']}"
    await sup.send({"type": "monitor", "contact_id": contact_id})
    seen = await sup.expect("monitoring")
    assert [m["text"] for m in seen["messages"]] == ["Halo, pesanan saya belum sampai"]
    await ayu_desk.send({"type": "reply", "contact_id": contact_id, "text": "Baik, saya cek dulu", "client_id": "a1"})
    await customer.send({"type": "message", "client_id": "c-2", "text": "Terima kasih"})
    first = await sup.expect("monitored_message", text="Baik, saya cek dulu")
    second = await sup.expect("monitored_message", text="Terima kasih")
    assert (first["seq"], second["seq"]) == (2, 3) and first["contact_id"] == contact_id
    await sup.nothing("monitored_message", wait=0.5)

    await sup.send({"type": "move_contact", "contact_id": contact_id, "agent_id": budi_welcome["agent"]["id"]})
    await sup.expect("contact_moved", contact_id=contact_id)
    offer = await budi.expect("offer")
    assert offer["contact"]["id"] == contact_id
    await sup.send({"type": "move_contact", "contact_id": "nope", "skill": "general", "ref": "x"})
    assert (await sup.expect("error", ref="x"))["code"] == "invalid_state"

    ayu_id = agent(await dashboard(sup), "ayu")["id"]
    await sup.send({"type": "set_agent_status", "agent_id": ayu_id, "status": "away"})
    await sup.expect("agent_status_set", status="away")
    await ayu_desk.expect("status", status="away", reason=by)  # her desk shows who set it
    shown = await dashboard(sup, away=lambda m: agent(m, "ayu")["status"] == "away")
    assert agent(shown, "ayu")["status_reason"] == by


async def test_a_supervisor_enters_figures_and_gets_the_agents_they_need(server: Server):
    """100 calls an hour of 3 minutes, 80 % within 20 s: 8 agents, their figures as the Erlang C formula gives them
    (written out here); with patience, Erlang A asks fewer; email's workload; a bad figure is named, and the next
    request is answered as before."""
    await server.add_agent("sari", role=Role.SUPERVISOR)
    sup, _ = await desk(server, "sari", available=False)
    ask = {"type": "staffing_advice", "arrivals_per_hour": 100, "handle_s": 180, "target": 0.8, "within_s": 20}
    await sup.send({**ask, "shrinkage": 0.25, "ref": "a"})
    got = await sup.expect("staffing_advice", ref="a")
    traffic, n = 5.0, 8
    top = traffic**n / math.factorial(n) * n / (n - traffic)
    waiting = top / (sum(traffic**k / math.factorial(k) for k in range(n)) + top)
    assert got["model"] == "erlang_c" and got["needed"]["agents"] == n and got["scheduled"] == math.ceil(8 / 0.75)
    assert got["needed"]["waiting"] == pytest.approx(waiting, abs=1e-6)
    assert got["needed"]["service_level"] == pytest.approx(1 - waiting * math.exp(-(n - traffic) * 20 / 180), abs=1e-6)
    assert got["needed"]["occupancy"] == pytest.approx(traffic / n) and got["needed"]["asa_s"] == pytest.approx(
        10, abs=0.05
    )
    assert [row["agents"] for row in got["table"]] == [
        6,
        7,
        8,
        9,
        10,
    ]  # from the first that carries the traffic to two more

    await sup.send({**ask, "patience_s": 60, "ref": "b"})
    patient = await sup.expect("staffing_advice", ref="b")
    assert patient["model"] == "erlang_a" and patient["needed"]["agents"] < n and patient["needed"]["abandoned"] > 0

    email = {"type": "staffing_advice", "workload": "email", "arrivals_per_hour": 30, "handle_s": 360, "backlog": 40}
    await sup.send({**email, "ref": "c"})
    mail = await sup.expect("staffing_advice", ref="c")
    assert mail["workload"] == "email" and mail["agents"] == math.ceil(5 / 0.85) and mail["backlog_hours"] == 4

    bad = [
        ({"arrivals_per_hour": -5}, "arrivals_per_hour"), ({"target": 1.5}, "target"), ({"handle_s": "3m"}, "handle_s"),
        ({"within_s": 1e9}, "within_s"), ({"max_occupancy": 0}, "max_occupancy"),
        ({"arrivals_per_hour": 10_000, "handle_s": 7_200, "max_occupancy": 0.01}, "max_occupancy"),  # 2 million agents
    ]  # fmt: skip
    for n_bad, (change, field) in enumerate(bad):
        await sup.send({**ask, **change, "ref": f"bad{n_bad}"})
        error = await sup.expect("error", ref=f"bad{n_bad}")
        assert error["code"] == "invalid_field" and error["field"] == field and field in error["message"]
    await sup.send({**email, "backlog": 10**15, "ref": "huge"})
    assert (await sup.expect("error", ref="huge"))["field"] == "backlog"
    await sup.send({**ask, "ref": "again"})
    assert (await sup.expect("staffing_advice", ref="again"))["needed"]["agents"] == n


async def test_the_days_figures_kept_as_records_apply_equal_the_day_read_whole(server: Server):
    """Chats that wait, are answered, closed, left and rated: the figures the dashboard keeps from the records the
    engine applies equal those of the whole day read from the store."""
    from contact_center.dashboard_figures import DashboardFigures
    from contact_center.service_report import rules_of
    from contact_center.web.keys import DESK

    agent_ws, first, _, assigned = await offered_chat(server)
    kept = server.app[DESK].dashboard.figures
    await kept.read(server.engine.clock.now())  # the day read once, here; all that follows is heard
    second, _ = await widget(server, {"topic": "general", "language": "en"})
    await second.send({"type": "message", "client_id": "c-9", "text": "Anyone there?"})
    await second.expect("ack")
    await second.send({"type": "leave"})
    await second.expect("ended")
    await agent_ws.send({"type": "close", "contact_id": assigned["contact"]["id"], "disposition": "resolved"})
    await first.expect("ended")
    await first.send({"type": "rate", "contact_id": assigned["contact"]["id"], "score": 4})
    await first.expect("rated")
    config = server.engine.config
    whole = DashboardFigures(server.engine.store, config.sla.calendar, rules_of(config), kept._targets)
    now = server.engine.clock.now()
    got, expected = await kept.read(now), await whole.read(now)
    assert got == expected
    chat = got.today["chat"]
    assert (chat.arrived, chat.answered, chat.abandoned + chat.short_abandoned) == (2, 1, 1)
