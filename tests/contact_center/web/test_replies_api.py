"""The reply library over the API: exported as CSV or a zip of its files, imported whole or not at all, and
each reply's uses counted in reports. For supervisors only."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import aiohttp

from contact_center.model import Role
from contact_center.reply_files import STARTER
from contact_center.web.keys import LIBRARY
from tests.clients import desk, login, widget
from tests.conftest import Server

ARRIVAL = (STARTER / "card-arrival.toml").read_text(encoding="utf-8")


async def call(server: Server, method: str, path: str, token: str, **kw: Any) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.request(method, f"{server.url}{path}", **kw) as r:
            return r.status, await r.read(), r.content_type


def zipped(files: dict[str, str] | dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


async def test_the_library_goes_out_as_csv_and_zip_and_an_agent_gets_neither(server: Server):
    await server.add_agent("lead", Role.SUPERVISOR)
    await server.add_agent("ayu")
    lead, ayu = await login(server, "lead"), await login(server, "ayu")
    status, body, kind = await call(server, "GET", "/api/replies?format=csv", lead)
    assert status == 200 and kind == "text/csv"
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert "card-arrival" in {r["id"] for r in rows} and {"body_en", "body_id"} <= set(rows[0])
    status, body, kind = await call(server, "GET", "/api/replies?format=zip", lead)
    assert status == 200 and kind == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.read("card-arrival.toml").decode() == ARRIVAL
    assert (await call(server, "GET", "/api/replies?format=csv", ayu))[0] == 403
    assert (await call(server, "POST", "/api/replies", ayu, data=body, headers={"Content-Type": "application/zip"}))[
        0
    ] == 403


async def test_an_import_is_checked_whole_and_a_bad_one_writes_nothing(server: Server):
    await server.add_agent("lead", Role.SUPERVISOR)
    lead = await login(server, "lead")
    changed = ARRIVAL.replace("7 working days", "5 working days")
    new = ARRIVAL.replace('code = "card-arrival"', 'code = "card-late"').replace("Card not arrived yet", "Card late")
    broken = new.replace("{{agent_name}}", "{{agnt}}")
    status, body, _ = await call(server, "POST", "/api/replies", lead,
                                 data=zipped({"card-arrival.toml": changed, "card-late.toml": broken}),
                                 headers={"Content-Type": "application/zip"})  # fmt: skip
    assert status == 422
    refused = json.loads(body)
    assert refused["error"] == "invalid_reply"
    assert [p["message"].split(" (")[0] for p in refused["problems"]] == [
        "body.en: unknown variable 'agnt'",
        "body.id: unknown variable 'agnt'",
    ]
    assert [(p["file"], p["line"]) for p in refused["problems"]] == [("card-late.toml", 15), ("card-late.toml", 22)]
    library = server.app[LIBRARY]
    assert "7 working days" in library.reply("card-arrival").bodies["en"] and library.reply("card-late") is None
    status, body, _ = await call(server, "POST", "/api/replies", lead,
                                 data=zipped({"card-arrival.toml": changed, "card-late.toml": new}),
                                 headers={"Content-Type": "application/zip"})  # fmt: skip
    assert status == 200
    done = json.loads(body)
    assert done["saved"] == [{"id": "card-arrival", "version": 2}, {"id": "card-late", "version": 1}]


async def test_each_replys_uses_are_counted_in_the_report_most_used_first(server: Server):
    await server.add_agent("lead", Role.SUPERVISOR)
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    customer, _ = await widget(server, {"topic": "general", "language": "en"})
    await customer.send({"type": "message", "client_id": "c-1", "text": "I forgot my PIN"})
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    contact_id = offer["contact"]["id"]
    for reply_id in ("pin-forgotten", "pin-forgotten", "thanks-closing", "no-such-reply"):
        await agent.send({"type": "reply_used", "contact_id": contact_id, "reply_id": reply_id})
    await agent.send({"type": "ping"})
    await agent.expect("pong")
    status, body, _ = await call(server, "GET", "/api/reports/replies?period=month", await login(server, "lead"))
    assert status == 200
    report = json.loads(body)
    assert [(r["id"], r["uses"]) for r in report["replies"]] == [("pin-forgotten", 2), ("thanks-closing", 1)]
    assert report["replies"][0]["title"] == "Forgotten PIN"
    assert sum(p["uses"] for p in report["periods"]) == 3
    await agent.send({"type": "find_replies", "contact_id": contact_id, "query": "/"})  # "/" alone: most used first
    assert [r["id"] for r in (await agent.expect("replies_found"))["replies"]][:2] == [
        "pin-forgotten",
        "thanks-closing",
    ]


async def test_a_csv_exported_edited_in_a_spreadsheet_and_imported_saves_only_what_changed(server: Server):
    await server.add_agent("lead", Role.SUPERVISOR)
    lead = await login(server, "lead")
    _, body, _ = await call(server, "GET", "/api/replies?format=csv", lead)
    table = list(csv.DictReader(io.StringIO(body.decode())))
    for row in table:
        if row["id"] == "refund":
            row["title"] = "Refund not showing yet"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table)
    status, body, _ = await call(server, "POST", "/api/replies", lead, data=out.getvalue().encode(),
                                 headers={"Content-Type": "text/csv"})  # fmt: skip
    assert status == 200, body
    assert json.loads(body)["saved"] == [{"id": "refund", "version": 2}]
    assert server.app[LIBRARY].reply("refund").title == "Refund not showing yet"
    status, body, _ = await call(server, "POST", "/api/replies", lead, data=b"id,code\nx,\n",
                                 headers={"Content-Type": "text/csv"})  # fmt: skip
    refused = json.loads(body)
    assert status == 422 and refused["error"] == "invalid_reply"
    assert refused["problems"][0]["file"] == "replies.csv" and refused["problems"][0]["line"] == 1
    assert refused["problems"][0]["message"].startswith("the header must be: id,code,title")
