"""A pre-written reply's file sent by email: a multipart mail the customer's program opens, kept in the thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from contact_center.config import Config
from contact_center.reply_files import STARTER
from tests.channels.email.test_email_channel import customer_mail, email_config
from tests.clients import desk, login
from tests.conftest import Server
from tests.mailserver import Mailbox, SmtpSink, deliver

FEES = (STARTER / "attachments" / "fees-abroad.pdf").read_bytes()


async def test_an_email_reply_carries_the_replys_file_and_the_thread_keeps_it(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    await deliver(mailbox, customer_mail("Biaya di luar negeri", "Apakah ada biaya transaksi di luar negeri?"))
    offer = await agent.expect("offer", timeout=15)
    await smtp_sink.wait_for(1)  # the acknowledgement
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    contact_id = (await agent.expect("assigned"))["contact"]["id"]
    too_many = [{"reply": "exchange-rate", "name": "fees-abroad.pdf"}] * 6
    await agent.send({"type": "email_reply", "contact_id": contact_id, "client_id": "r-0", "text": "Lihat lampiran",
                      "attachments": too_many, "ref": "r-0"})  # fmt: skip
    assert (await agent.expect("error", ref="r-0"))["code"] == "invalid_field"
    await agent.send({"type": "email_reply", "contact_id": contact_id, "client_id": "r-1", "text": "Lihat lampiran.",
                      "attachments": [{"reply": "exchange-rate", "name": "fees-abroad.pdf"}]})  # fmt: skip
    await agent.expect("email_queued", client_id="r-1")
    _, answer = await smtp_sink.wait_for(2)
    assert answer.get_content_type() == "multipart/mixed"
    assert "Lihat lampiran." in answer.get_body(("plain",)).get_content()
    (attached,) = list(answer.iter_attachments())
    assert attached.get_filename() == "fees-abroad.pdf" and attached.get_content_type() == "application/pdf"
    assert attached.get_content() == FEES
    mails = await server.engine.store.mails_of(contact_id)
    sent = next(m for m in mails if m.summary.get("kind") == "reply")
    assert [(a.filename, a.size) for a in sent.attachments] == [("fees-abroad.pdf", len(FEES))]
    token = await login(server, "ayu")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(f"{server.url}/api/mails/{sent.id}/attachments/0") as r:
            assert r.status == 200 and await r.read() == FEES
    history = await server.engine.store.history(offer["contact"]["customer_id"])
    assert [e.data.get("files") for e in history if e.kind == "email.sent"] == [["fees-abroad.pdf"]]
    await agent.close()
