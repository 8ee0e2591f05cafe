"""A message left in the chat widget: an email contact of the visitor's own, answered by email.

What the visitor types (a name, an address) is a claim. The tests take the attacker's side: an
address that belongs to another customer gives the visitor nothing of theirs, and no automatic
mail goes to an address nobody proved.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contact_center.config import Config
from contact_center.model import Customer, IdentityKind
from tests.channels.email.test_email_channel import customer_mail, email_config
from tests.clients import desk, widget
from tests.conftest import Server
from tests.mailserver import Mailbox, SmtpSink, deliver

VICTIM = "siti@pelanggan.test"


def left(text: str = "Kartu saya terblokir, tolong dibantu besok pagi.", **fields: Any) -> dict[str, Any]:
    return {"type": "leave_message", "client_id": fields.pop("client_id", uuid.uuid4().hex), "name": "Siti",
            "email": VICTIM, "text": text, "ref": "left", **fields}  # fmt: skip


async def test_a_left_message_is_an_email_contact_of_the_visitor_answered_at_the_typed_address(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Queued as an email with the promise, under the visitor (not the address's customer); no ack; reply goes out."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    store = server.engine.store
    await store.create_customer(Customer("siti0000000000aa", "Siti Rahma", 9000.0, 0.0, [(IdentityKind.EMAIL, VICTIM)]))
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    visitor, hello = await widget(server)
    await visitor.send(left())
    done = await visitor.expect("message_left")
    assert done["ticket"].startswith("CS-") and done["email"] == VICTIM and done["acknowledged"] is False
    assert done["answer_by"] > 0

    offer = await agent.expect("offer")
    contact = offer["contact"]
    assert contact["channel"] == "email" and contact["customer_id"] == hello["customer_id"]
    assert contact["customer_id"] != "siti0000000000aa", "a typed address is not who the visitor is"
    assert contact["ticket"] == done["ticket"] and contact["due_at"] is not None
    assert contact["value_band"]["level"] == 0, "nor does it borrow the address's customer's value"
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    assigned = await agent.expect("assigned")
    [mail] = assigned["mails"]
    assert mail["via"] == "webchat" and mail["from"] == VICTIM and mail["sender_authenticated"] is False
    assert "terblokir" in mail["text"]
    await asyncio.sleep(0.3)
    assert smtp_sink.received == [], "no automatic mail to an address nobody proved"
    history = await store.history(hello["customer_id"])
    reasons = [e.data["reason"] for e in history if e.kind == "email.not_acknowledged"]
    assert reasons and "not proven" in reasons[0]
    assert not [e for e in await store.history("siti0000000000aa") if e.contact_id == contact["id"]]

    reply = {"type": "email_reply", "contact_id": contact["id"], "client_id": "r-1", "text": "Baik Bu Siti."}
    await agent.send(reply)
    await agent.expect("email_queued", client_id="r-1")
    (answer,) = await smtp_sink.wait_for(1)
    assert answer["To"] == VICTIM and done["ticket"] in answer["Subject"]

    # The address's owner answers the mail: it joins the thread it answers (the agent wrote to them).
    back = customer_mail("Re: " + answer["Subject"], "Terima kasih.", From=f"Siti <{VICTIM}>",
                         In_Reply_To=answer["Message-ID"])  # fmt: skip
    await deliver(mailbox, back)
    pushed = await agent.expect("email", timeout=15)
    assert pushed["contact_id"] == contact["id"]
    await agent.close()


async def test_a_repeat_files_once_bad_fields_file_nothing_and_a_flood_is_refused(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    visitor, _ = await widget(server)
    await visitor.send(left(client_id="same"))
    first = await visitor.expect("message_left")
    await visitor.send(left(client_id="same"))  # the widget did not see the answer: sent again
    again = await visitor.expect("message_left")
    assert again["ticket"] == first["ticket"] and again["contact_id"] == first["contact_id"]

    await visitor.send(left(email="not an address"))
    refused = await visitor.expect("error", ref="left")
    assert refused["code"] == "invalid_field" and refused["field"] == "email" and refused["problem"] == "not_an_email"
    await visitor.send(left(text=""))
    assert (await visitor.expect("error", ref="left"))["field"] == "text"
    await visitor.send(left(name="x" * 500))
    assert (await visitor.expect("error", ref="left"))["field"] == "name"

    for _ in range(2):  # three an hour (the first counted once)
        await visitor.send(left())
        await visitor.expect("message_left")
    await visitor.send(left())
    assert (await visitor.expect("error", ref="left"))["code"] == "rate_limited"
    waiting = [c for cid in server.engine.waiting() if (c := server.engine.contact(cid)) is not None]
    assert len(waiting) == 3, "one contact per message left, none for what was refused"
    await visitor.close()


async def test_a_visitor_who_proved_the_address_gets_the_acknowledgement(
    engines: Callable[[Config], Any], tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """The mailed code proves the address: then the promise is told to it like to any email's sender."""
    server: Server = await engines(email_config(tmp_path, [mailbox], smtp_sink))
    visitor, _ = await widget(server)
    await visitor.send({"type": "verify_email", "email": VICTIM})
    await visitor.expect("code_sent")
    (code_mail,) = await smtp_sink.wait_for(1)
    code = next(w for w in code_mail.get_content().split() if w.isdigit() and len(w) == 6)
    await visitor.send({"type": "verify_code", "code": code})
    await visitor.expect("identified")
    await visitor.send(left())
    done = await visitor.expect("message_left")
    assert done["acknowledged"] is True
    _, ack = await smtp_sink.wait_for(2)
    assert ack["To"] == VICTIM and done["ticket"] in ack["Subject"] and ack["Auto-Submitted"] == "auto-replied"
    await visitor.close()
