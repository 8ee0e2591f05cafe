"""Files a customer sends in a chat: uploaded with the widget's token, named by a message, shown safely to agents.

From the attacker's side: a file is what its bytes are, not what the browser says; a customer
names only files they sent; an agent reads only the files of customers they may read; a page of
another origin may not upload; an over-large body is refused without being kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from tests.clients import desk, login, offered_chat, widget
from tests.conftest import Server, make_config, start_server

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
SHOP = "http://shop.test"


async def upload(
    server: Server, token: str | None, data: bytes, content_type: str, name: str = "foto.png", origin: str = SHOP
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Content-Type": content_type, "X-File-Name": quote(name), "Origin": origin}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/chat/files", data=data, headers=headers) as r:
            return r.status, await r.json(), dict(r.headers)


async def fetch(server: Server, token: str, path: str) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(f"{server.url}{path}") as r:
            return r.status, dict(r.headers), await r.read()


async def test_a_customer_sends_a_photo_that_the_agent_sees_and_only_those_who_may_read_get(server: Server):
    agent, customer, welcome, assigned = await offered_chat(server)
    contact_id = assigned["contact"]["id"]
    status, kept, headers = await upload(server, welcome["token"], PNG, "image/png", "struk/../bukti bayar.png")
    assert status == 201 and headers["Access-Control-Allow-Origin"] == SHOP
    assert kept["name"] == "bukti bayar.png" and kept["type"] == "image/png" and kept["size"] == len(PNG)
    await customer.send({"type": "message", "client_id": "c-2", "text": "Ini buktinya", "files": [kept["id"]]})
    assert (await customer.expect("ack", client_id="c-2"))["seq"] == 2
    shown = await agent.expect("message", seq=2)
    assert shown["text"] == "Ini buktinya" and shown["files"] == [kept]

    ayu = await login(server, "ayu")
    status, headers, body = await fetch(server, ayu, f"/api/files/{kept['id']}")
    assert status == 200 and body == PNG and headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in headers["Content-Security-Policy"]
    assert "bukti%20bayar.png" in headers["Content-Disposition"]
    await server.add_agent("budi")
    status, _, _ = await fetch(server, await login(server, "budi"), f"/api/files/{kept['id']}")
    assert status == 403, "an agent holding no contact of the customer's reads none of their files"
    status, _, _ = await fetch(server, ayu, "/api/files/nothing-here")
    assert status == 404

    stranger, theirs = await widget(server)
    await stranger.send({"type": "message", "client_id": "x", "text": "lihat", "files": [kept["id"]], "ref": "x"})
    assert (await stranger.expect("error", ref="x"))["code"] == "forbidden", "nobody names another's file"
    history = await server.engine.store.messages(contact_id)
    assert [m.data.get("files") for m in history] == [None, [kept]]


async def test_a_file_alone_opens_a_chat_named_after_it(server: Server):
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    customer, welcome = await widget(server)
    pdf = b"%PDF-1.7\n" + b"1 0 obj\n" * 20
    status, kept, _ = await upload(server, welcome["token"], pdf, "application/pdf", "tagihan.pdf")
    assert status == 201
    await customer.send({"type": "message", "client_id": "c-1", "files": [kept["id"]]})
    await customer.expect("ack", client_id="c-1")
    offer = await agent.expect("offer")
    assert offer["contact"]["subject"] == "tagihan.pdf"
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    [first] = (await agent.expect("assigned"))["messages"]
    assert first["text"] == "" and first["files"] == [kept]
    status, headers, _ = await fetch(server, await login(server, "ayu"), f"/api/files/{kept['id']}")
    assert headers["Content-Type"] == "application/octet-stream" and headers["Content-Disposition"].startswith(
        "attachment"
    ), "anything but a plain image is a download"


@pytest.mark.parametrize(
    ("data", "said", "problem"),
    [
        (b"<html><script>alert(1)</script></html>", "image/png", "type_mismatch"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(100), "application/pdf", "type_not_allowed"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(100), "application/octet-stream", "type_not_allowed"),
        (b"", "image/png", "file_empty"),
    ],
)
async def test_a_file_is_what_its_bytes_are(server: Server, data: bytes, said: str, problem: str):
    _, welcome = await widget(server)
    status, body, headers = await upload(server, welcome["token"], data, said)
    assert status == 400 and body["field"] == "file" and body["problem"] == problem
    assert headers["Access-Control-Allow-Origin"] == SHOP, "the widget can read why"


async def test_only_the_widgets_pages_and_customers_may_upload(server: Server):
    _, welcome = await widget(server)
    status, body, headers = await upload(server, welcome["token"], PNG, "image/png", origin="http://evil.test")
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    status, body, _ = await upload(server, None, PNG, "image/png")
    assert status == 401
    await server.add_agent("ayu")
    status, body, _ = await upload(server, await login(server, "ayu"), PNG, "image/png")
    assert status == 403, "an agent's token is not a customer's"
    async with aiohttp.ClientSession() as http:
        ask = {"Origin": SHOP, "Access-Control-Request-Method": "POST"}
        async with http.options(f"{server.url}/api/chat/files", headers=ask) as r:
            assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == SHOP
            assert "X-File-Name" in r.headers["Access-Control-Allow-Headers"]
        async with http.options(f"{server.url}/api/chat/files", headers={**ask, "Origin": "http://evil.test"}) as r:
            assert r.status == 403


async def test_a_file_over_the_limit_is_refused_and_not_kept(tmp_path: Path):
    server = await start_server(make_config(tmp_path, webchat={"attachment_max_mb": 0.001}))  # 1,048 bytes
    try:
        customer, welcome = await widget(server)
        assert welcome["limits"]["max_file_mb"] == 0.001 and "image/png" in welcome["limits"]["file_types"]
        status, body, _ = await upload(server, welcome["token"], PNG + bytes(2000), "image/png")
        assert status == 400 and body["problem"] == "file_too_large" and body["limit"] == 0.001
        status, body, _ = await upload(server, welcome["token"], PNG, "image/png")
        assert status == 201, "the engine goes on serving"
    finally:
        await server.runner.cleanup()
