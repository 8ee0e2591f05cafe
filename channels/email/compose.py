"""The mails the engine sends, made whole before they are queued: acknowledgements and replies.

Each is built once, when the engine decides to send it, and its bytes go into the outbox, so
every attempt sends the same message with the same Message-ID (a mail program shows a repeat
once). Threading headers follow RFC 5322: In-Reply-To names the customer's mail, References
carries the thread's ids, and the subject keeps the ticket reference as ``[CS-1042]``.
Acknowledgements carry the headers that keep other auto-responders quiet (RFC 3834). A reply
with files (a pre-written reply's) is ``multipart/mixed``: the text, then each file in base64 as
an attachment (RFC 2045, 2183); the mail's record keeps them, as it does a customer's.
"""

from __future__ import annotations

import base64
import hashlib
import quopri
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr, make_msgid

from channels.email.loops import AUTO_HEADERS
from contact_center.config import EmailConfig
from contact_center.files import ChatFile
from contact_center.mail import Arrival, Direction, MailRecord, Outbound, StoredAttachment
from contact_center.model import Contact
from contact_center.sla import BusinessCalendar
from templates_responses import acknowledgement, guess_language
from templates_responses.acknowledgement import from_reply
from templates_responses.replies import Reply
from templates_responses.verification import code_mail

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


@dataclass(frozen=True, slots=True)
class _Draft:
    sender: str
    to: str
    subject: str
    text: str
    parent: str | None
    refs: list[str]
    extra: list[tuple[str, str]] = field(default_factory=list)
    cc: tuple[str, ...] = ()
    files: tuple[ChatFile, ...] = ()  # with their bytes


def _header(name: str, value: str) -> bytes:
    """One header line, folded; words outside ASCII encoded (RFC 2047)."""
    if value.isascii() and len(name) + len(value) < 76:
        return f"{name}: {value}\r\n".encode()
    folded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name).encode(linesep="\r\n")
    return f"{name}: {folded}\r\n".encode()


def _bytes(draft: _Draft, message_id: str, refs: list[str], when: datetime) -> bytes:
    """The message as sent: plain text in UTF-8, quoted-printable, CRLF line ends.

    Written by hand rather than with ``EmailMessage``: its header registry parsed and
    refolded every header and cost most of the time of filing a mail (measured: 3.7 of 4.8 ms).
    """
    lines = [
        _header("From", formataddr(("Customer Service", draft.sender))),
        _header("To", draft.to),
        _header("Subject", draft.subject),
        _header("Date", format_datetime(when)),
        _header("Message-ID", message_id),
    ]
    if draft.parent:
        lines.append(_header("In-Reply-To", draft.parent))
    if refs:
        lines.append(b"References: " + "\r\n ".join(refs).encode() + b"\r\n")
    lines += [_header(name, value) for name, value in draft.extra]
    lines.append(b"MIME-Version: 1.0\r\n")
    if not draft.files:
        return b"".join(lines) + _text_part(draft.text)
    boundary = f"=_part_{uuid.uuid4().hex}"
    lines += [f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode()]
    parts = [_text_part(draft.text), *(_file_part(f) for f in draft.files)]
    for part in parts:
        lines += [f"--{boundary}\r\n".encode(), part, b"\r\n"]
    return b"".join(lines) + f"--{boundary}--\r\n".encode()


def _text_part(text: str) -> bytes:
    """The text in UTF-8, quoted-printable, with its headers: a whole body, or a part of one."""
    body = text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    head = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    return head + quopri.encodestring(body).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _file_part(file: ChatFile) -> bytes:
    """A file as an attachment: its type and name (the library's names are plain ASCII), in base64."""
    assert file.data is not None
    name = file.filename.replace("\\", "_").replace('"', "_")
    head = (f'Content-Type: {file.content_type}; name="{name}"\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n")  # fmt: skip
    return head.encode() + base64.encodebytes(file.data).replace(b"\n", b"\r\n")


class MailComposer:
    """The :class:`~contact_center.mail.Composer` of the email channel."""

    def __init__(
        self, config: EmailConfig, calendar: BusinessCalendar, wording: Callable[[], Reply | None] | None = None
    ) -> None:
        """``wording``: the reply library's acknowledgement as it is now (None: the built-in words)."""
        self._config = config
        self._calendar = calendar
        self._wording = wording
        first = config.mailboxes[0].address if config.mailboxes else "support@localhost"
        self._default_from = first
        self._domain = config.domain or first.rsplit("@", 1)[1]

    def acknowledgement(
        self, arrival: Arrival, contact: Contact, due_at: float, now: float
    ) -> tuple[MailRecord, Outbound]:
        summary = arrival.record.summary
        language = guess_language(f"{arrival.subject}\n{arrival.text}", default=self._config.language)
        due = datetime.fromtimestamp(due_at, self._calendar.zone)
        reply = self._wording() if self._wording is not None else None
        worded = (
            from_reply(reply.bodies, language, contact.ticket, due, arrival.subject, arrival.name) if reply else None
        )
        ack = worded or acknowledgement(language, contact.ticket, due, arrival.subject, arrival.name)
        sender = arrival.mailbox_address or self._default_from
        to = arrival.address  # the sender's own address only: never a Reply-To, which anyone can write
        refs = [*summary.get("references", ()), arrival.record.message_id]
        automatic = [*AUTO_HEADERS.items(), ("X-Loop", sender)]
        draft = _Draft(sender, to, ack.subject, ack.text, arrival.record.message_id, refs, automatic)
        return self._queued(draft, "ack", f"ack:{contact.ticket}", contact, now, {"language": language})

    def reply(
        self,
        contact: Contact,
        thread: Sequence[MailRecord],
        text: str,
        author: str,
        key: str,
        now: float,
        *,
        to: str,
        cc: Sequence[str] = (),
        files: Sequence[ChatFile] = (),
    ) -> tuple[MailRecord, Outbound]:
        """The agent's reply to ``to`` (the engine chose it: the thread's customer, or a Reply-To the agent
        confirmed), copied to ``cc``, threaded on the thread's last mail from outside, with ``files``."""
        inbound = [m for m in thread if m.direction == Direction.IN]
        last = inbound[-1] if inbound else None
        summary = last.summary if last is not None else {}
        sender = summary.get("mailbox_address") or self._default_from
        subject = _subject(str(summary.get("subject", contact.subject)), contact.ticket)
        parent = last.message_id if last is not None else None
        refs = [*summary.get("references", ()), *([parent] if parent else [])]
        extra = [("Cc", ", ".join(cc))] if cc else []
        signed = f"{text.rstrip()}\n\n{author}\n"
        draft = _Draft(sender, to, subject, signed, parent, refs, extra, tuple(cc), tuple(files))
        return self._queued(draft, "reply", key, contact, now, {"key": key, "author": author})

    def verification(self, address: str, code: str, language: str, minutes: int, now: float) -> Outbound:
        """A one-time code for a chat visitor, to ``address`` only: no record of correspondence, no thread."""
        mail = code_mail(language, code, minutes)
        return self.notice(address, mail.subject, mail.text, f"code:{uuid.uuid4().hex}", now, kind="code")

    def notice(self, address: str, subject: str, text: str, key: str, now: float, *, kind: str = "notice") -> Outbound:
        """An automatic mail to ``address`` alone (a callback's confirmation), queued once under ``key``: no
        record of correspondence, no thread."""
        automatic = [*AUTO_HEADERS.items(), ("X-Loop", self._default_from)]
        draft = _Draft(self._default_from, address, subject, text, None, [], automatic)
        message_id = make_msgid(idstring=uuid.uuid4().hex[:12], domain=self._domain)
        raw = _bytes(draft, message_id, [], datetime.fromtimestamp(now, self._calendar.zone))
        return Outbound(
            id=uuid.uuid4().hex[:20],
            key=key,
            kind=kind,
            mail_id="",
            contact_id=None,
            sender=self._default_from,
            recipients=(address,),
            raw=raw,
            created_at=now,
            next_at=now,
        )

    def _queued(
        self, draft: _Draft, kind: str, key: str, contact: Contact, now: float, extra: dict[str, str]
    ) -> tuple[MailRecord, Outbound]:
        message_id = make_msgid(idstring=uuid.uuid4().hex[:12], domain=self._domain)
        refs = list(dict.fromkeys(draft.refs[-_MAX_REFERENCES:]))
        raw = _bytes(draft, message_id, refs, datetime.fromtimestamp(now, self._calendar.zone))
        sender, to = draft.sender, draft.to
        outbound_id = uuid.uuid4().hex[:20]
        mail = MailRecord(
            id=uuid.uuid4().hex[:20],
            direction=Direction.OUT,
            at=now,
            message_id=message_id,
            digest=hashlib.sha256(raw).hexdigest(),
            raw=raw,
            summary={
                "kind": kind,
                "subject": draft.subject,
                "from": sender,
                "to": [to],
                "cc": list(draft.cc),
                "references": refs,
                "text": draft.text,
                "outbound_id": outbound_id,
                **extra,
            },
            attachments=tuple(StoredAttachment(f.filename, f.content_type, f.size, f.data) for f in draft.files),
            contact_id=contact.id,
            customer_id=contact.customer_id,
            ticket=contact.ticket,
            thread_ids=(message_id,),
        )
        outbound = Outbound(
            id=outbound_id,
            key=key,
            kind=kind,
            mail_id=mail.id,
            contact_id=contact.id,
            sender=sender,
            recipients=(to, *draft.cc),
            raw=raw,
            created_at=now,
            next_at=now,
        )
        return mail, outbound
