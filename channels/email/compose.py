"""The mails the engine sends, made whole before they are queued: acknowledgements and replies.

Each is built once, when the engine decides to send it, and its bytes go into the outbox, so
every attempt sends the same message with the same Message-ID (a mail program shows a repeat
once). Threading headers follow RFC 5322: In-Reply-To names the customer's mail, References
carries the thread's ids, and the subject keeps the ticket reference as ``[CS-1042]``.
Acknowledgements carry the headers that keep other auto-responders quiet (RFC 3834).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from channels.email.loops import AUTO_HEADERS
from contact_center.config import EmailConfig
from contact_center.mail import Arrival, Direction, MailRecord, Outbound
from contact_center.model import Contact
from contact_center.sla import BusinessCalendar
from templates_responses import acknowledgement, guess_language

__all__ = ["MailComposer", "ticket_in_subject"]

_MAX_REFERENCES = 20  # the newest ids of a long thread; enough for any mail program to find it


def ticket_in_subject(subject: str, prefix: str) -> str:
    """The ticket reference written in a subject as ``[PREFIX-123]``; "" when there is none."""
    found = re.search(rf"\[({re.escape(prefix)}-\d{{1,12}})\]", subject)
    return found.group(1) if found else ""


def _subject(subject: str, ticket: str) -> str:
    subject = subject.strip() or "(no subject)"
    if f"[{ticket}]" not in subject:
        subject = f"[{ticket}] {subject}"
    return subject if re.match(r"(?i)^(re|aw|balas)\s*:", subject) else f"Re: {subject}"


class MailComposer:
    """The :class:`~contact_center.mail.Composer` of the email channel."""

    def __init__(self, config: EmailConfig, calendar: BusinessCalendar) -> None:
        self._config = config
        self._calendar = calendar
        first = config.mailboxes[0].address if config.mailboxes else "support@localhost"
        self._default_from = first
        self._domain = config.domain or first.rsplit("@", 1)[1]

    def acknowledgement(
        self, arrival: Arrival, contact: Contact, due_at: float, now: float
    ) -> tuple[MailRecord, Outbound]:
        summary = arrival.record.summary
        language = guess_language(f"{arrival.subject}\n{arrival.text}", default=self._config.language)
        due = datetime.fromtimestamp(due_at, self._calendar.zone)
        ack = acknowledgement(language, contact.ticket, due, arrival.subject, arrival.name)
        sender = arrival.mailbox_address or self._default_from
        to = (summary.get("reply_to") or [arrival.address])[0]
        refs = [*summary.get("references", ()), arrival.record.message_id]
        msg = self._message(sender, to, ack.subject, ack.text, arrival.record.message_id, refs, now)
        for name, value in AUTO_HEADERS.items():
            msg[name] = value
        msg["X-Loop"] = sender
        return self._queued(msg, "ack", f"ack:{contact.ticket}", contact, sender, to, now, {"language": language})

    def reply(
        self, contact: Contact, thread: Sequence[MailRecord], text: str, author: str, key: str, now: float
    ) -> tuple[MailRecord, Outbound]:
        inbound = [m for m in thread if m.direction == Direction.IN]
        last = inbound[-1] if inbound else None
        summary = last.summary if last is not None else {}
        sender = summary.get("mailbox_address") or self._default_from
        customer = (summary.get("reply_to") or [summary.get("from", "")])[0]
        if not customer:
            raise ValueError(f"contact {contact.id} has no mail from the customer to answer")
        subject = _subject(str(summary.get("subject", contact.subject)), contact.ticket)
        parent = last.message_id if last is not None else None
        refs = [*summary.get("references", ()), *([parent] if parent else [])]
        body = f"{text.rstrip()}\n\n{author}\n"
        msg = self._message(sender, customer, subject, body, parent, refs, now)
        return self._queued(msg, "reply", key, contact, sender, customer, now, {"key": key, "author": author})

    def _message(
        self, sender: str, to: str, subject: str, text: str, parent: str | None, refs: list[str], now: float
    ) -> EmailMessage:
        msg = EmailMessage(policy=SMTP)
        msg["From"] = formataddr(("Customer Service", sender))
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.fromtimestamp(now, self._calendar.zone))
        msg["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:12], domain=self._domain)
        if parent:
            msg["In-Reply-To"] = parent
        if refs:
            msg["References"] = " ".join(dict.fromkeys(refs[-_MAX_REFERENCES:]))
        msg.set_content(text)
        return msg

    def _queued(
        self,
        msg: EmailMessage,
        kind: str,
        key: str,
        contact: Contact,
        sender: str,
        to: str,
        now: float,
        extra: dict[str, str],
    ) -> tuple[MailRecord, Outbound]:
        raw = msg.as_bytes()
        message_id = str(msg["Message-ID"])
        mail = MailRecord(
            id=uuid.uuid4().hex[:20],
            direction=Direction.OUT,
            at=now,
            message_id=message_id,
            digest=hashlib.sha256(raw).hexdigest(),
            raw=raw,
            summary={
                "kind": kind,
                "subject": str(msg["Subject"]),
                "from": sender,
                "to": [to],
                "references": str(msg.get("References", "")).split(),
                "text": msg.get_content(),
                **extra,
            },
            contact_id=contact.id,
            customer_id=contact.customer_id,
            ticket=contact.ticket,
            thread_ids=(message_id,),
        )
        outbound = Outbound(
            id=uuid.uuid4().hex[:20],
            key=key,
            kind=kind,
            mail_id=mail.id,
            contact_id=contact.id,
            sender=sender,
            recipients=(to,),
            raw=raw,
            created_at=now,
            next_at=now,
        )
        return mail, outbound
