"""Files sent with pre-written replies: the library's attachments, sent in a chat and fetched by the customer.

Tested as people use them: an agent sends the starter's fee table with its reply and the customer
fetches it with their widget's token (nobody else can); an agent may send only what a reply they
may use names; supervisors add and remove the library's files, each checked by its bytes; a
restart writes them into the library's folder, the zip export and import carry them, and a file
added on one node is sent from another.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import aiohttp

from contact_center.model import Role
from contact_center.reply_files import STARTER
from contact_center.web.keys import LIBRARY
from tests.clients import WsClient, desk, login, widget
from tests.conftest import Server, make_config, start_server, two_nodes
from tests.contact_center.web.test_replies_api import zipped

FEES = (STARTER / "attachments" / "fees-abroad.pdf").read_bytes()
EXCHANGE = (STARTER / "exchange-rate.toml").read_text(encoding="utf-8")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
SENT = [{"reply": "exchange-rate", "name": "fees-abroad.pdf"}]


async def call(server: Server, method: str, path: str, token: str | None, **kw: Any) -> tuple[int, bytes, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.request(method, f"{server.url}{path}", **kw) as r:
            return r.status, await r.read(), r.headers


async def held_chat(server: Server, agent: WsClient, text: str) -> tuple[WsClient, dict, str]:
    customer, welcome = await widget(server, {"topic": "general", "language": "en"})
    await customer.send({"type": "message", "client_id": "c-1", "text": text})
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    return customer, welcome, str(offer["contact"]["id"])


async def test_a_reply_sent_with_its_file_is_the_customers_to_fetch_and_nobody_elses(server: Server):
    await server.add_agent("ayu")
    ayu, _ = await desk(server, "ayu")
    customer, welcome, contact_id = await held_chat(server, ayu, "Is there a fee for paying abroad?")
    await ayu.send({"type": "suggest", "contact_id": contact_id})
    top = (await ayu.expect("suggestions"))["replies"][0]
    assert top["id"] == "exchange-rate"
    assert top["attachments"] == [
        {"id": top["attachments"][0]["id"], "name": "fees-abroad.pdf", "type": "application/pdf", "size": len(FEES)}
    ]
    reply = {"type": "reply", "contact_id": contact_id, "client_id": "a-1", "text": top["text"], "attachments": SENT}
    await ayu.send(reply)
    seq = (await ayu.expect("ack", client_id="a-1"))["seq"]
    (file,) = (await ayu.expect("message", client_id="a-1"))["files"]
    shown = await customer.expect("message", client_id="a-1")
    assert shown["files"] == [file] and file["name"] == "fees-abroad.pdf" and file["type"] == "application/pdf"
    status, body, headers = await call(server, "GET", f"/api/chat/files/{file['id']}", welcome["token"])
    assert status == 200 and body == FEES
    assert headers["Content-Disposition"].startswith("attachment;") and headers["X-Content-Type-Options"] == "nosniff"
    await ayu.send(reply)  # a resend (the desk lost the answer): the same message, the same file
    assert (await ayu.expect("ack", client_id="a-1"))["seq"] == seq
    _, other = await widget(server, {"topic": "general", "language": "en"})
    status, body, _ = await call(server, "GET", f"/api/chat/files/{file['id']}", other["token"])
    assert status == 404 and json.loads(body)["error"] == "not_found"
    assert (await call(server, "GET", f"/api/chat/files/{file['id']}", None))[0] == 401
    ayu_token = await login(server, "ayu")
    assert (await call(server, "GET", f"/api/files/{file['id']}", ayu_token))[1] == FEES
    transcript = await server.engine.store.messages(contact_id, 0)
    assert [e.data.get("files") for e in transcript if e.client_id == "a-1"] == [[file]]


async def test_an_agent_sends_only_what_a_reply_they_may_use_names(server: Server):
    await server.add_agent("lead", Role.SUPERVISOR)
    await server.add_agent("ayu")
    lead, _ = await desk(server, "lead", available=False)
    cards_only = EXCHANGE.replace('code = "exchange"', 'code = "fees-cards"')
    cards_only = cards_only.replace("skills = []", 'skills = ["cards"]')
    await lead.send({"type": "save_reply", "reply_id": "fees-cards", "source": cards_only, "base": 0})
    await lead.expect("reply_saved")
    ayu, _ = await desk(server, "ayu")
    customer, _, contact_id = await held_chat(server, ayu, "Fees abroad?")

    async def refused(attachments: Any, ref: str) -> dict:
        await ayu.send({"type": "reply", "contact_id": contact_id, "client_id": ref, "text": "See the table",
                        "attachments": attachments, "ref": ref})  # fmt: skip
        return await ayu.expect("error", ref=ref)

    assert (await refused([{"reply": "fees-cards", "name": "fees-abroad.pdf"}], "r1"))["code"] == "forbidden"
    wrong = await refused([{"reply": "exchange-rate", "name": "../../config.toml"}], "r2")
    assert wrong["code"] == "invalid_field" and "exchange-rate has no file" in wrong["message"]
    assert (await refused("fees-abroad.pdf", "r3"))["code"] == "invalid_field"
    assert (await refused([{"reply": "made-up", "name": "x.pdf"}], "r4"))["code"] == "forbidden"
    await ayu.send({"type": "reply", "contact_id": contact_id, "client_id": "ok", "text": "Still here"})
    assert (await customer.expect("message", client_id="ok"))["text"] == "Still here"
    transcript = await server.engine.store.messages(contact_id, 0)
    assert [e.client_id for e in transcript] == ["c-1", "ok"]  # nothing of the refused ones


async def test_supervisors_keep_the_librarys_files_each_checked_by_its_bytes(server: Server):
    await server.add_agent("lead", Role.SUPERVISOR)
    await server.add_agent("ayu")
    lead_token, ayu_token = await login(server, "lead"), await login(server, "ayu")
    png = {"Content-Type": "image/png"}
    assert (await call(server, "PUT", "/api/replies/files/form.png", ayu_token, data=PNG, headers=png))[0] == 403
    status, body, _ = await call(server, "PUT", "/api/replies/files/form.png", lead_token, data=b"MZ\x90\x00\x03")
    assert status == 400 and "may not be sent" in json.loads(body)["message"]
    status, body, _ = await call(server, "PUT", "/api/replies/files/..%2Fform.png", lead_token, data=PNG, headers=png)
    assert status in (400, 404)
    status, body, _ = await call(server, "PUT", "/api/replies/files/form.png", lead_token, data=PNG, headers=png)
    assert status == 201 and json.loads(body) == {
        "id": json.loads(body)["id"], "name": "form.png", "type": "image/png", "size": len(PNG), "version": 1
    }  # fmt: skip
    listed = json.loads((await call(server, "GET", "/api/replies/files", ayu_token))[1])["files"]
    assert [f["name"] for f in listed] == ["fees-abroad.pdf", "form.png"]
    assert (await call(server, "GET", "/api/replies/files/form.png", ayu_token))[1] == PNG

    lead, _ = await desk(server, "lead", available=False)
    unknown = EXCHANGE.replace('["fees-abroad.pdf"]', '["fees-abroad.pdf", "form.pgn"]')
    await lead.send({"type": "save_reply", "reply_id": "exchange-rate", "source": unknown, "base": 1})
    error = await lead.expect("error")
    assert error["code"] == "invalid_reply" and error["problems"][0]["line"] == 6
    assert error["problems"][0]["message"].startswith("attachments: the library has no file 'form.pgn'")
    both = EXCHANGE.replace('["fees-abroad.pdf"]', '["fees-abroad.pdf", "form.png"]')
    await lead.send({"type": "save_reply", "reply_id": "exchange-rate", "source": both, "base": 1})
    await lead.expect("reply_saved")
    status, body, _ = await call(server, "DELETE", "/api/replies/files/form.png", lead_token)
    assert status == 409 and json.loads(body)["error"] == "file_in_use"
    assert json.loads(body)["replies"] == "exchange-rate"
    await lead.send({"type": "save_reply", "reply_id": "exchange-rate", "source": EXCHANGE, "base": 2})
    await lead.expect("reply_saved")
    assert (await call(server, "DELETE", "/api/replies/files/form.png", lead_token))[0] == 200
    assert "form.png" not in server.app[LIBRARY].files
    assert (await call(server, "GET", "/api/replies/files/form.png", ayu_token))[0] == 404


async def test_the_folder_the_export_and_the_import_carry_the_files(tmp_path: Path):
    folder = tmp_path / "replies"
    shutil.copytree(STARTER, folder)
    server = await start_server(make_config(tmp_path, desk={"replies_dir": str(folder)}))
    try:
        await server.add_agent("lead", Role.SUPERVISOR)
        token = await login(server, "lead")
        _, body, _ = await call(server, "GET", "/api/replies?format=zip", token)
        assert zipfile.ZipFile(io.BytesIO(body)).read("attachments/fees-abroad.pdf") == FEES
        new = EXCHANGE.replace('code = "exchange"', 'code = "form"').replace("fees-abroad.pdf", "form.png")
        status, body, _ = await call(server, "POST", "/api/replies", token, data=zipped({"form.toml": new.encode()}),
                                     headers={"Content-Type": "application/zip"})  # fmt: skip
        assert status == 422 and "no file 'form.png'" in json.loads(body)["problems"][0]["message"]
        assert not (folder / "form.toml").exists()
        bad_file = zipped({"form.toml": new.encode(), "attachments/form.png": b"not a png at all \x00"})
        status, body, _ = await call(server, "POST", "/api/replies", token, data=bad_file,
                                     headers={"Content-Type": "application/zip"})  # fmt: skip
        assert status == 422 and json.loads(body)["problems"][0]["file"] == "attachments/form.png"
        good = zipped({"form.toml": new.encode(), "attachments/form.png": PNG})
        status, body, _ = await call(server, "POST", "/api/replies", token, data=good,
                                     headers={"Content-Type": "application/zip"})  # fmt: skip
        assert status == 200 and json.loads(body)["files"] == 1
        assert (folder / "attachments" / "form.png").read_bytes() == PNG and (folder / "form.toml").exists()
    finally:
        await server.runner.cleanup()
    (folder / "attachments" / "form.png").unlink()  # lost from a folder that is not shared: the store has it
    server = await start_server(make_config(tmp_path, desk={"replies_dir": str(folder)}))
    try:
        assert (folder / "attachments" / "form.png").read_bytes() == PNG
        assert server.app[LIBRARY].reply("form") is not None
    finally:
        await server.runner.cleanup()


async def test_a_file_added_on_one_node_is_sent_from_another(config, redis_url: str):
    a, b = await two_nodes(config, redis_url)
    try:
        await a.add_agent("lead", Role.SUPERVISOR)
        await b.add_agent("ayu")
        token = await login(a, "lead")
        status, _, _ = await call(a, "PUT", "/api/replies/files/form.png", token, data=PNG,
                                  headers={"Content-Type": "image/png"})  # fmt: skip
        assert status == 201
        lead, _ = await desk(a, "lead", available=False)
        both = EXCHANGE.replace('["fees-abroad.pdf"]', '["fees-abroad.pdf", "form.png"]')
        await lead.send({"type": "save_reply", "reply_id": "exchange-rate", "source": both, "base": 1})
        await lead.expect("reply_saved")
        for _ in range(100):
            reply = b.app[LIBRARY].reply("exchange-rate")
            if "form.png" in b.app[LIBRARY].files and reply is not None and "form.png" in reply.attachments:
                break
            await asyncio.sleep(0.05)
        ayu, _ = await desk(b, "ayu")
        customer, welcome, contact_id = await held_chat(b, ayu, "Which form do I fill in?")
        await ayu.send({"type": "reply", "contact_id": contact_id, "client_id": "a-1", "text": "This one",
                        "attachments": [{"reply": "exchange-rate", "name": "form.png"}]})  # fmt: skip
        (file,) = (await customer.expect("message", client_id="a-1"))["files"]
        assert (await call(a, "GET", f"/api/chat/files/{file['id']}", welcome["token"]))[1] == PNG
    finally:
        await a.runner.cleanup()
        await b.runner.cleanup()
