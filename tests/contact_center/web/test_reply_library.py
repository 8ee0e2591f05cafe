"""The reply library edited from the desk: versions on the store, who may change what, and every node following.

Tested as the desk uses it, over its websocket: a supervisor's save is what the next suggestion
says; an agent may keep personal replies and no one else sees them; a bad text, a save from an
old version and a reply that is not yours are each refused with what was wrong, and nothing is
written; a restart squares the folder with the store's versions.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from contact_center.model import Role
from contact_center.reply_files import STARTER
from contact_center.web.keys import LIBRARY
from tests.clients import WsClient, desk, widget
from tests.conftest import Server, make_config, start_server, two_nodes

ARRIVAL = (STARTER / "card-arrival.toml").read_text(encoding="utf-8")
NEW_TEXT = "a new card takes 3 working days now"


async def chat_held(server: Server, agent: WsClient, text: str) -> str:
    customer, _ = await widget(server, {"topic": "general", "language": "en"})
    await customer.send({"type": "message", "client_id": "c-1", "text": text})
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    return str(offer["contact"]["id"])


async def source(client: WsClient, reply_id: str) -> dict:
    await client.send({"type": "reply_source", "reply_id": reply_id})
    return await client.expect("reply_source", reply_id=reply_id)


async def test_a_supervisors_save_is_what_the_next_suggestion_says_and_its_history_names_them(server: Server):
    await server.add_agent("lead", Role.SUPERVISOR)
    await server.add_agent("ayu")
    lead, _ = await desk(server, "lead", available=False)
    ayu, _ = await desk(server, "ayu")
    contact_id = await chat_held(server, ayu, "My new card has not arrived yet")
    await ayu.send({"type": "suggest", "contact_id": contact_id})
    before = (await ayu.expect("suggestions"))["replies"][0]
    assert before["id"] == "card-arrival" and NEW_TEXT not in before["text"]
    await lead.send({"type": "library"})
    listed = await lead.expect("library")
    assert {r["id"] for r in listed["replies"]} >= {"card-arrival", "card-blocked"}
    start = await source(lead, "card-arrival")
    assert start["version"] == 1 and start["source"] == ARRIVAL
    edited = ARRIVAL.replace("a new card usually arrives within 7 working days of being ordered", NEW_TEXT)
    await lead.send({"type": "save_reply", "reply_id": "card-arrival", "source": edited, "base": 1})
    assert (await lead.expect("reply_saved"))["version"] == 2
    for _ in range(50):  # the suggester is built again in the background; the old one serves meanwhile
        await ayu.send({"type": "suggest", "contact_id": contact_id})
        after = (await ayu.expect("suggestions"))["replies"][0]
        if NEW_TEXT in after["text"]:
            break
    assert after["id"] == "card-arrival" and NEW_TEXT in after["text"]
    history = (await source(lead, "card-arrival"))["history"]
    assert [(v["n"], v["author"]) for v in history] == [(1, "files"), (2, "lead")]


async def test_a_bad_text_an_old_version_and_a_reply_not_yours_are_refused_and_nothing_is_written(server: Server):
    await server.add_agent("lead", Role.SUPERVISOR)
    await server.add_agent("budi", Role.SUPERVISOR)
    await server.add_agent("ayu")
    lead, _ = await desk(server, "lead", available=False)
    budi, _ = await desk(server, "budi", available=False)
    ayu, _ = await desk(server, "ayu", available=False)
    await source(lead, "card-arrival")
    broken = ARRIVAL.replace("{{agent_name}}", "{{agent_nam}}").replace("id = '''", "idx = '''")
    await lead.send({"type": "save_reply", "reply_id": "card-arrival", "source": broken, "base": 1})
    error = await lead.expect("error")
    assert error["code"] == "invalid_reply"
    lines = {p["line"]: p["message"] for p in error["problems"]}
    assert any("unknown variable 'agent_nam'" in m for m in lines.values())
    assert any("no text in 'id'" in m for m in lines.values())
    taken = ARRIVAL.replace('code = "card-arrival"', 'code = "pin"')
    await lead.send({"type": "save_reply", "reply_id": "card-arrival", "source": taken, "base": 1})
    error = await lead.expect("error")
    assert error["code"] == "invalid_reply"
    assert [p["line"] for p in error["problems"]] == [2]
    assert error["problems"][0]["message"] == "code 'pin' is used by pin-forgotten.toml too"
    await budi.send({"type": "save_reply", "reply_id": "card-arrival", "source": ARRIVAL + "\n", "base": 1})
    assert (await budi.expect("reply_saved"))["version"] == 2
    await lead.send({"type": "save_reply", "reply_id": "card-arrival", "source": ARRIVAL, "base": 1})
    assert (await lead.expect("error"))["code"] == "conflict"
    await ayu.send({"type": "save_reply", "reply_id": "card-arrival", "source": ARRIVAL, "base": 2})
    assert (await ayu.expect("error"))["code"] == "forbidden"
    new_team = ARRIVAL.replace('code = "card-arrival"', 'code = "ayu-card"')
    await ayu.send({"type": "save_reply", "reply_id": "ayu-card", "source": new_team, "base": 0})
    assert (await ayu.expect("error"))["code"] == "forbidden"  # a team reply without owner: supervisors' only
    assert [v["n"] for v in (await source(lead, "card-arrival"))["history"]] == [1, 2]


async def test_an_agents_personal_reply_is_theirs_alone(server: Server):
    ayu_agent = await server.add_agent("ayu")
    await server.add_agent("budi")
    ayu, _ = await desk(server, "ayu")
    budi, _ = await desk(server, "budi", available=False)
    mine = ARRIVAL.replace('code = "card-arrival"', 'code = "my-card"').replace(
        "[body]", f'owner = "{ayu_agent.id}"\n\n[body]'
    )
    await ayu.send({"type": "save_reply", "reply_id": "ayu-card", "source": mine, "base": 0})
    assert (await ayu.expect("reply_saved"))["version"] == 1
    await ayu.send({"type": "library"})
    assert [r["id"] for r in (await ayu.expect("library"))["replies"]] == ["ayu-card"]
    contact_id = await chat_held(server, ayu, "Where is my card?")
    await ayu.send({"type": "find_replies", "contact_id": contact_id, "query": "/my-card"})
    assert [r["id"] for r in (await ayu.expect("replies_found"))["replies"]][:1] == ["ayu-card"]
    await budi.send({"type": "reply_source", "reply_id": "ayu-card"})
    assert (await budi.expect("error"))["code"] == "forbidden"
    stolen = mine.replace(ayu_agent.id, "budi-id")
    await ayu.send({"type": "save_reply", "reply_id": "ayu-card", "source": stolen, "base": 1})
    assert (await ayu.expect("error"))["code"] == "forbidden"


async def test_a_restart_keeps_saves_in_the_folder_and_a_file_changed_by_hand_wins(tmp_path: Path):
    folder = tmp_path / "replies"
    shutil.copytree(STARTER, folder)
    config = make_config(tmp_path, desk={"replies_dir": str(folder)})
    server = await start_server(config)
    try:
        await server.add_agent("lead", Role.SUPERVISOR)
        lead, _ = await desk(server, "lead", available=False)
        edited = ARRIVAL.replace("7 working days", "5 working days")
        await lead.send({"type": "save_reply", "reply_id": "card-arrival", "source": edited, "base": 1})
        await lead.expect("reply_saved")
        assert (folder / "card-arrival.toml").read_text(encoding="utf-8") == edited
        await lead.send({"type": "delete_reply", "reply_id": "refund", "base": 1})
        assert (await lead.expect("reply_saved"))["deleted"]
        assert not (folder / "refund.toml").exists()
        await lead.close()
    finally:
        await server.runner.cleanup()
    by_hand = edited.replace("5 working days", "4 working days")
    (folder / "card-arrival.toml").write_text(by_hand, encoding="utf-8")
    server = await start_server(config)
    try:
        await server.add_agent("lead2", Role.SUPERVISOR)
        lead, _ = await desk(server, "lead2", available=False)
        found = await source(lead, "card-arrival")
        assert found["source"] == by_hand and found["version"] == 3
        assert [v["author"] for v in found["history"]] == ["files", "lead", "files"]
        await lead.send({"type": "reply_source", "reply_id": "refund"})
        assert (await lead.expect("error"))["code"] == "not_found"
    finally:
        await server.runner.cleanup()


async def test_a_save_on_one_node_is_what_the_other_nodes_agents_are_offered(config, redis_url: str):
    a, b = await two_nodes(config, redis_url)
    try:
        await a.add_agent("lead", Role.SUPERVISOR)
        lead, _ = await desk(a, "lead", available=False)
        edited = ARRIVAL.replace("a new card usually arrives within 7 working days of being ordered", NEW_TEXT)
        await lead.send({"type": "save_reply", "reply_id": "card-arrival", "source": edited, "base": 1})
        await lead.expect("reply_saved")
        other, _ = await desk(b, "lead", available=False)
        for _ in range(100):
            found = await source(other, "card-arrival")
            if found["version"] == 2:
                break
            await asyncio.sleep(0.05)
        assert found["version"] == 2 and NEW_TEXT in found["source"]
    finally:
        await a.runner.cleanup()
        await b.runner.cleanup()


async def test_the_acknowledgement_is_edited_like_any_reply_but_never_with_what_only_an_agent_could_fill(
    server: Server,
):
    await server.add_agent("lead", Role.SUPERVISOR)
    lead, _ = await desk(server, "lead", available=False)
    ack = await source(lead, "acknowledgement")
    end = "Customer Service" + "'" * 3
    unfillable = (
        ack["source"].replace(end, "[[your name]]\n" + end).replace("Hello {{customer_name|}},", "Hello {{company}},")
    )
    await lead.send({"type": "save_reply", "reply_id": "acknowledgement", "source": unfillable, "base": 1})
    error = await lead.expect("error")
    assert error["code"] == "invalid_reply"
    assert sorted(p["message"] for p in error["problems"]) == [
        "body.en: [[your name]]: no agent is there to fill a placeholder",
        "body.en: {{company}} needs a fallback ({{company|...}})",
    ]
    kinder = ack["source"].replace(end, "Your bank's " + end)
    await lead.send({"type": "save_reply", "reply_id": "acknowledgement", "source": kinder, "base": 1})
    assert (await lead.expect("reply_saved"))["version"] == 2
    assert "Your bank's Customer Service" in server.app[LIBRARY].reply("acknowledgement").bodies["en"]


async def test_a_suggestion_is_filled_with_the_office_hours_and_the_time_the_office_opens(server: Server):
    await server.add_agent("ayu")
    ayu, _ = await desk(server, "ayu")
    contact_id = await chat_held(server, ayu, "What are your opening hours?")
    await ayu.send({"type": "suggest", "contact_id": contact_id})
    hours = next(r for r in (await ayu.expect("suggestions"))["replies"] if r["id"] == "office-hours")
    assert "Monday to Friday 08:00-17:00" in hours["text"]


async def test_what_an_agent_picks_on_one_node_is_learned_by_the_other_nodes_at_once(config, redis_url: str):
    a, b = await two_nodes(config, redis_url)
    message = "the machine ate my plastic yesterday"
    try:
        await a.add_agent("ayu")
        await b.add_agent("budi")
        ayu, _ = await desk(a, "ayu")
        first = await chat_held(a, ayu, message)
        await ayu.send({"type": "set_status", "status": "away"})
        await ayu.expect("status", status="away")
        budi, _ = await desk(b, "budi")
        second = await chat_held(b, budi, message)
        await budi.send({"type": "suggest", "contact_id": second})  # node b's suggester is built now
        assert (await budi.expect("suggestions"))["replies"][0]["id"] != "thanks-closing"
        await ayu.send({"type": "reply_used", "contact_id": first, "reply_id": "thanks-closing"})
        for _ in range(100):
            await budi.send({"type": "suggest", "contact_id": second})
            top = (await budi.expect("suggestions"))["replies"][0]["id"]
            if top == "thanks-closing":
                break
            await asyncio.sleep(0.05)
        assert top == "thanks-closing"
    finally:
        await a.runner.cleanup()
        await b.runner.cleanup()
