"""Email as the store keeps it: each mail fetched or sent, the outbox, and the threads they form.

A mail fetched from a mailbox is recorded in the same unit of work as what it did to the queue
(a new contact, or a message joined to an open one) and its history event, together with its
place in the mailbox (:class:`MailSource`): the store refuses the same place twice and keeps,
per mailbox, the highest UID recorded, so a restarted poller fetches each message once.

A mail the engine sends goes into the outbox in the unit that decided to send it (an agent's
reply, an acknowledgement), with its bytes already made; the sender only delivers what is
there and notes each attempt (:class:`Outbound`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from contact_center.files import ChatFile
    from contact_center.model import Contact

__all__ = [
    "Arrival",
    "Composer",
    "Direction",
    "FilingContext",
    "MailOutcome",
    "MailRecord",
    "MailSource",
    "Outbound",
    "OutboundState",
    "StoredAttachment",
    "ThreadEntry",
    "TicketView",
    "recipients",
]


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class OutboundState(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENT = "sent"  # the SMTP server took it (250)
    FAILED = "failed"  # refused for good (5xx) or out of attempts


@dataclass(frozen=True, slots=True)
class MailSource:
    """Where a fetched mail sits: a mailbox, the mailbox's UIDVALIDITY, and the message's UID in it."""

    mailbox: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    filename: str
    content_type: str
    size: int
    data: bytes | None  # None: not kept (``refused`` says why), or not read (``mails_of`` without ``whole``)
    content_id: str | None = None
    inline: bool = False
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class MailRecord:
    """One mail, as received or sent.

    ``summary`` holds what the desk shows (subject, addresses, date, texts, safe HTML, the
    problems met while reading it). ``quarantine`` is the reason a fetched mail could not be
    read as an email; it then belongs to no contact. ``duplicate_of`` names the mail already
    recorded with the same bytes: its place in the mailbox is recorded, nothing else happens.
    ``thread_ids`` are the Message-IDs under which later replies find this mail's contact.
    """

    id: str
    direction: Direction
    at: float
    message_id: str
    digest: str
    raw: bytes
    summary: Mapping[str, Any] = field(default_factory=dict)
    attachments: tuple[StoredAttachment, ...] = ()
    source: MailSource | None = None
    contact_id: str | None = None
    customer_id: str | None = None
    ticket: str = ""
    quarantine: str | None = None
    duplicate_of: str | None = None
    thread_ids: tuple[str, ...] = ()

    def meta(self) -> dict[str, Any]:
        """Everything but the bytes, as JSON-ready values (how both stores keep it)."""
        return {
            "id": self.id,
            "direction": self.direction.value,
            "at": self.at,
            "message_id": self.message_id,
            "digest": self.digest,
            "summary": dict(self.summary),
            "attachments": [
                [a.filename, a.content_type, a.size, a.content_id, a.inline, a.refused, a.data is not None]
                for a in self.attachments
            ],
            "source": None if self.source is None else [self.source.mailbox, self.source.uidvalidity, self.source.uid],
            "contact_id": self.contact_id,
            "customer_id": self.customer_id,
            "ticket": self.ticket,
            "quarantine": self.quarantine,
            "duplicate_of": self.duplicate_of,
            "thread_ids": list(self.thread_ids),
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any], raw: bytes, blobs: list[bytes | None]) -> MailRecord:
        """The record from :meth:`meta`, its bytes, and the attachments' bytes in order (None: not kept)."""
        source = meta.get("source")
        attachments = tuple(
            StoredAttachment(name, ctype, size, blob if kept else None, cid, inline, refused)
            for (name, ctype, size, cid, inline, refused, kept), blob in zip(meta["attachments"], blobs, strict=True)
        )
        return cls(
            id=meta["id"],
            direction=Direction(meta["direction"]),
            at=meta["at"],
            message_id=meta["message_id"],
            digest=meta["digest"],
            raw=raw,
            summary=meta.get("summary", {}),
            attachments=attachments,
            source=None if source is None else MailSource(source[0], int(source[1]), int(source[2])),
            contact_id=meta.get("contact_id"),
            customer_id=meta.get("customer_id"),
            ticket=meta.get("ticket", ""),
            quarantine=meta.get("quarantine"),
            duplicate_of=meta.get("duplicate_of"),
            thread_ids=tuple(meta.get("thread_ids", ())),
        )


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """What a Message-ID leads to: the mail that carried it, its digest, its contact and ticket."""

    message_id: str
    mail_id: str
    digest: str
    contact_id: str | None
    ticket: str


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as filing a mail needs it: its latest contact, that contact's customer, whom its replies went to."""

    ticket: str
    latest: str  # the ticket's latest contact
    customer_id: str  # that contact's customer
    copied: frozenset[str] = frozenset()  # addresses its replies went to (To, Cc) (read only for a stranger)


@dataclass(frozen=True, slots=True)
class FilingContext:
    """Everything the store knows that filing one fetched mail depends on, read at once.

    ``entries``: the known mails among the Message-IDs asked for; ``customer_id`` and ``value``: the
    customer the sender's address names (None, 0: no one yet); ``tickets``: each ticket those mails
    or the subject name that exists; ``acks_to_address`` and ``acks_to_domain``: acknowledgements
    queued to the sender's address and domain since the moment asked for.
    """

    entries: tuple[ThreadEntry, ...] = ()
    customer_id: str | None = None
    value: float = 0.0
    tickets: Mapping[str, TicketView] = field(default_factory=dict)
    acks_to_address: int = 0
    acks_to_domain: int = 0


@dataclass(frozen=True, slots=True)
class Outbound:
    """A mail to send: its bytes are made once, when it is decided, so every attempt sends the same.

    ``key`` is unique in the outbox: a second acknowledgement of one thread (``ack:{ticket}``)
    or a second send of one reply cannot be queued. ``mail_id`` is the mail's own record
    (direction out), written in the same unit.
    """

    id: str
    key: str
    kind: str  # "reply" or "ack"
    mail_id: str
    contact_id: str | None
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    created_at: float
    next_at: float
    attempts: int = 0
    state: OutboundState = OutboundState.QUEUED
    sent_at: float | None = None
    last_error: str = ""

    def meta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "kind": self.kind,
            "mail_id": self.mail_id,
            "contact_id": self.contact_id,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "created_at": self.created_at,
            "next_at": self.next_at,
            "attempts": self.attempts,
            "state": self.state.value,
            "sent_at": self.sent_at,
            "last_error": self.last_error,
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any], raw: bytes) -> Outbound:
        return cls(
            id=meta["id"],
            key=meta["key"],
            kind=meta["kind"],
            mail_id=meta["mail_id"],
            contact_id=meta.get("contact_id"),
            sender=meta["sender"],
            recipients=tuple(meta["recipients"]),
            raw=raw,
            created_at=meta["created_at"],
            next_at=meta["next_at"],
            attempts=meta.get("attempts", 0),
            state=OutboundState(meta.get("state", "queued")),
            sent_at=meta.get("sent_at"),
            last_error=meta.get("last_error", ""),
        )


@dataclass(frozen=True, slots=True)
class Arrival:
    """A mail fetched from a mailbox and read by the email channel, for the engine to file.

    ``record`` is the mail with its place in the mailbox, not yet tied to a contact.
    ``thread_ids`` are its In-Reply-To and References; ``ticket_ref`` a ticket reference found in
    its subject. ``ack_refusal`` says why no automatic reply may answer it (a machine, a list,
    ourselves), or None. ``authenticated``: the trusted mail server vouched for its ``From``
    (DMARC, or aligned SPF or DKIM; see ``channels.email.authentication``).
    """

    record: MailRecord
    address: str
    name: str
    subject: str
    text: str
    thread_ids: tuple[str, ...]
    ticket_ref: str
    skills: tuple[tuple[str, int], ...]
    mailbox_address: str
    ack_refusal: str | None = None
    authenticated: bool = False


@dataclass(frozen=True, slots=True)
class MailOutcome:
    """What a fetched mail did: ``filed`` (``new`` contact or ``joined`` an open one), ``duplicate``
    (the same bytes were filed before), ``recorded`` (its place was recorded already) or
    ``quarantined``; with the contact, the ticket and why no acknowledgement went, if none did."""

    kind: str
    contact_id: str | None = None
    ticket: str = ""
    acknowledged: bool = False
    no_ack: str | None = None


def recipients(thread: Sequence[MailRecord], customer_addresses: Sequence[str]) -> tuple[str | None, list[str]]:
    """Where a reply to a thread goes, and the other addresses its mails asked replies to go to.

    A reply goes to the thread's customer: the sender of its first mail from one of the customer's
    own addresses (or of its first mail, when none is). A ``Reply-To`` naming somewhere else is
    only offered: an agent must choose it, and an acknowledgement never goes there.
    """
    inbound = [m for m in thread if m.direction == Direction.IN and m.summary.get("from")]
    own = next((m for m in inbound if m.summary["from"] in customer_addresses), None)
    first = own or (inbound[0] if inbound else None)
    to = str(first.summary["from"]) if first is not None else None
    offered = dict.fromkeys(a for m in inbound for a in m.summary.get("reply_to", ()) if a != to)
    return to, list(offered)


class Composer(Protocol):
    """Makes the mails the engine sends (the email channel provides it): bytes, record and outbox entry."""

    def acknowledgement(
        self, arrival: Arrival, contact: Contact, due_at: float, now: float
    ) -> tuple[MailRecord, Outbound]: ...

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
    ) -> tuple[MailRecord, Outbound]: ...

    def verification(self, address: str, code: str, language: str, minutes: int, now: float) -> Outbound: ...

    def notice(self, address: str, subject: str, text: str, key: str, now: float) -> Outbound: ...
