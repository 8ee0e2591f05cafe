"""A message left in the chat widget, as the email it becomes (docs/protocol.md, ``leave_message``).

Outside office hours the widget offers to leave a message: a name, an email address and the
text. It is filed as an email contact with the promise (``MailFiling.left_message``), so the
agent answers it by email when the office opens. Everything the visitor typed is a claim: the
address is where the reply goes, not who the visitor is, and the mail made of it says so
(``sender_check``). The mail's bytes are an ordinary RFC 5322 message, so the desk shows it,
and downloads it, like any other.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import structlog

from contact_center.clock import Clock
from contact_center.config import Config, EmailConfig
from contact_center.engine import Engine
from contact_center.fields import normalise_email, require_text
from contact_center.mail import Arrival, Direction, MailRecord

__all__ = ["LeftMessages", "left_message"]

log = structlog.get_logger("channels.webchat")

_SUBJECT_CHARS = 120
_NAME_CHARS = 120
SENDER_CHECK = "typed in the chat widget: not proven"


def _domain(config: EmailConfig) -> str:
    if config.domain:
        return config.domain
    if config.mailboxes:
        return config.mailboxes[0].address.rsplit("@", 1)[-1]
    return "contact-center.invalid"


def _subject(text: str) -> str:
    first = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return first if len(first) <= _SUBJECT_CHARS else first[: _SUBJECT_CHARS - 1] + "…"


def left_message(
    customer_id: str,
    fields: dict[str, Any],
    skills: list[tuple[str, int]],
    config: EmailConfig,
    max_chars: int,
    now: float,
) -> Arrival:
    """The email a widget's ``leave_message`` makes; bad fields raise :class:`BadMessage` naming the field.

    Its Message-ID comes from the customer and the widget's ``client_id``: the same message sent
    again is the same mail, and is filed once.
    """
    name = " ".join(require_text("name", fields.get("name"), _NAME_CHARS).split())
    address = normalise_email(fields.get("email"))
    text = require_text("text", fields.get("text"), max_chars)
    client_id = require_text("client_id", fields.get("client_id"), 64)
    subject = _subject(text)
    mailbox = config.mailboxes[0].address if config.mailboxes else ""
    key = hashlib.sha256(f"{customer_id}:{client_id}".encode()).hexdigest()[:32]
    message_id = f"<left.{key}@{_domain(config)}>"
    mail = EmailMessage()
    mail["From"] = Address(display_name=name, addr_spec=address)
    if mailbox:
        mail["To"] = mailbox
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    mail["Message-ID"] = message_id
    mail["X-Contact-Center-Via"] = "chat widget"
    mail.set_content(text)
    raw = mail.as_bytes()
    summary = {
        "subject": subject,
        "from": address,
        "from_name": name,
        "to": [mailbox] if mailbox else [],
        "cc": [],
        "reply_to": [],
        "date": now,
        "text": text,
        "visible_text": text,
        "folded_text": "",
        "html": "",
        "in_reply_to": [],
        "references": [],
        "problems": [],
        "mailbox_address": mailbox,
        "via": "webchat",
        "sender_authenticated": False,
        "sender_check": SENDER_CHECK,
    }
    record = MailRecord(
        id=uuid.uuid4().hex[:20],
        direction=Direction.IN,
        at=now,
        message_id=message_id,
        digest=hashlib.sha256(raw).hexdigest(),
        raw=raw,
        summary=summary,
    )
    return Arrival(
        record=record,
        address=address,
        name=name,
        subject=subject,
        text=text,
        thread_ids=(),
        ticket_ref="",
        skills=tuple(skills),
        mailbox_address=mailbox,
    )


class LeftMessages:
    """The widget's ``leave_message``: the mail made, filed by the engine, and what the widget is told."""

    def __init__(self, engine: Engine, config: Config, clock: Clock) -> None:
        self._engine = engine
        self._config = config
        self._clock = clock

    async def leave(self, customer_id: str, skills: list[tuple[str, int]], msg: dict[str, Any]) -> dict[str, Any]:
        """File the message; ``message_left`` with the ticket and when the promise says it is answered by."""
        now = self._clock.now()
        cfg = self._config
        arrival = left_message(customer_id, msg, skills, cfg.email, cfg.webchat.max_message_chars, now)
        outcome = await self._engine.leave_message(customer_id, arrival)
        log.info("webchat.message_left", contact_id=outcome.contact_id, ticket=outcome.ticket, again=outcome.kind)
        return {
            "type": "message_left",
            "client_id": msg["client_id"],
            "contact_id": outcome.contact_id,
            "ticket": outcome.ticket,
            "email": arrival.address,
            "answer_by": cfg.email.promise.due(cfg.sla.calendar, now),
            "acknowledged": outcome.acknowledged,
        }
