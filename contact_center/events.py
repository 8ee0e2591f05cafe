"""What the core tells: frozen events, published on the topics of :mod:`contact_center.topics`.

The core publishes these and nothing else; each protocol builds its own JSON from them at the
edge (:mod:`channels.wire`). Between engine nodes an event travels as :func:`encode` makes it
and comes back by :func:`decode` (records through :mod:`contact_center.records`, the codec the
Redis store shares), so a listener on any node gets the same event.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from contact_center.model import Contact, HistoryEvent, Offer, Presence
from contact_center.records import (
    contact_from_record,
    contact_record,
    event_from_record,
    event_record,
    presence_from_record,
    presence_record,
)

__all__ = [
    "AccountLocked",
    "AgentJoined",
    "AgentLeft",
    "ChannelNews",
    "Committed",
    "ContactStateChanged",
    "CustomerAway",
    "CustomerLeft",
    "Ended",
    "Event",
    "HistoryAdded",
    "MailFiled",
    "MailSent",
    "Merged",
    "MessagePosted",
    "NoteAdded",
    "OfferClosed",
    "Offered",
    "PhrasingLearned",
    "Read",
    "ReplyChanged",
    "SessionEnded",
    "SlaAtRisk",
    "SlaBreached",
    "StatusChanged",
    "Typing",
    "decode",
    "encode",
]


@dataclass(frozen=True, slots=True)
class Event:
    """Something the core tells; ``kind`` names it on the wire."""

    kind: ClassVar[str] = ""


# ---------------------------------------------------------------- to an agent (``agent:{id}``)


@dataclass(frozen=True, slots=True)
class StatusChanged(Event):
    """The agent's status changed; ``reason`` when the engine changed it (see :class:`~.model.Presence`)."""

    kind: ClassVar[str] = "status"
    status: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Offered(Event):
    """A contact is offered to the agent, until the offer expires."""

    kind: ClassVar[str] = "offer"
    offer: Offer
    contact: Contact


@dataclass(frozen=True, slots=True)
class OfferClosed(Event):
    kind: ClassVar[str] = "offer_closed"
    offer_id: str
    contact_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ContactStateChanged(Event):
    """The agent's contact went into wrap-up (for ``wrap_up_s``) or was closed."""

    kind: ClassVar[str] = "contact_state"
    contact_id: str
    state: str
    wrap_up_s: float | None = None


@dataclass(frozen=True, slots=True)
class MailFiled(Event):
    """A mail joined the agent's email contact."""

    kind: ClassVar[str] = "email"
    contact_id: str
    mail_id: str


@dataclass(frozen=True, slots=True)
class MailSent(Event):
    """The agent's reply is queued to send."""

    kind: ClassVar[str] = "email_sent"
    contact_id: str
    mail_id: str


@dataclass(frozen=True, slots=True)
class CustomerLeft(Event):
    kind: ClassVar[str] = "customer_left"
    contact_id: str


@dataclass(frozen=True, slots=True)
class HistoryAdded(Event):
    """An event joined the history of a customer the agent is working with (a page they opened)."""

    kind: ClassVar[str] = "history_added"
    event: HistoryEvent


@dataclass(frozen=True, slots=True)
class Read(Event):
    """The customer has seen the conversation up to ``seq`` (the widget was open on it)."""

    kind: ClassVar[str] = "read"
    contact_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class NoteAdded(Event):
    """An agent wrote an internal note on a contact: for agents only, never the customer."""

    kind: ClassVar[str] = "note_added"
    contact_id: str
    agent_id: str
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class CustomerAway(Event):
    """The customer's last socket on a node closed: a socket of theirs open elsewhere claims the chat again."""

    kind: ClassVar[str] = "customer_away"
    contact_id: str


@dataclass(frozen=True, slots=True)
class SessionEnded(Event):
    """A session of the user ended (``token_hash``; None: all of them)."""

    kind: ClassVar[str] = "session_ended"
    token_hash: str | None
    reason: str


# ---------------------------------------------------------------- to a customer (``customer:{id}``)


@dataclass(frozen=True, slots=True)
class AgentJoined(Event):
    kind: ClassVar[str] = "agent_joined"
    contact_id: str
    agent: str  # the agent's display name


@dataclass(frozen=True, slots=True)
class AgentLeft(Event):
    kind: ClassVar[str] = "agent_left"
    contact_id: str


@dataclass(frozen=True, slots=True)
class Ended(Event):
    kind: ClassVar[str] = "ended"
    contact_id: str
    by: str  # "customer" or "agent"


@dataclass(frozen=True, slots=True)
class Merged(Event):
    """The customer proved to be ``customer_id`` (by ``by``: ``value``): one customer from now on."""

    kind: ClassVar[str] = "merged"
    customer_id: str
    by: str
    value: str


# ---------------------------------------------------------------- to both sides, and to supervisors


@dataclass(frozen=True, slots=True)
class Typing(Event):
    kind: ClassVar[str] = "typing"
    contact_id: str


@dataclass(frozen=True, slots=True)
class MessagePosted(Event):
    """A message of a conversation is durable."""

    kind: ClassVar[str] = "message"
    message: HistoryEvent


@dataclass(frozen=True, slots=True)
class SlaAtRisk(Event):
    kind: ClassVar[str] = "sla_at_risk"
    contact_id: str
    due_at: float


@dataclass(frozen=True, slots=True)
class AccountLocked(Event):
    """Wrong passwords locked an account (``client``: where the last try came from) until ``until``."""

    kind: ClassVar[str] = "account_locked"
    username: str
    until: float
    client: str


@dataclass(frozen=True, slots=True)
class ReplyChanged(Event):
    """A reply of the library was saved (or deleted) as version ``n``: every node takes it from the store."""

    kind: ClassVar[str] = "reply_changed"
    reply_id: str
    n: int


@dataclass(frozen=True, slots=True)
class PhrasingLearned(Event):
    """An agent picked ``reply_id`` for ``message`` (on the node whose editor is ``origin``): every node learns it."""

    kind: ClassVar[str] = "phrasing_learned"
    reply_id: str
    message: str
    origin: str


@dataclass(frozen=True, slots=True)
class SlaBreached(Event):
    kind: ClassVar[str] = "sla_breached"
    contact_id: str
    due_at: float


@dataclass(frozen=True, slots=True)
class ChannelNews(Event):
    """A channel's own message for the sockets of one agent or one customer, as the socket sends it (a call's
    signalling: what one side's browser says to the other's). Told and forgotten: nothing of it is recorded."""

    kind: ClassVar[str] = "channel"
    message: dict[str, Any]


# ---------------------------------------------------------------- between nodes (``state``)


@dataclass(frozen=True, slots=True)
class Committed(Event):
    """Records another node committed."""

    kind: ClassVar[str] = "committed"
    contacts: tuple[Contact, ...]
    presences: tuple[Presence, ...]


# ---------------------------------------------------------------- the codec between nodes

_KINDS: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        StatusChanged, Offered, OfferClosed, ContactStateChanged, MailFiled, MailSent, CustomerLeft, CustomerAway,
        SessionEnded, AgentJoined, AgentLeft, Ended, Merged, Typing, MessagePosted, SlaAtRisk, SlaBreached,
        AccountLocked, Committed, NoteAdded, Read, HistoryAdded, ReplyChanged, PhrasingLearned, ChannelNews,
    )
}  # fmt: skip


def encode(event: Event) -> dict[str, Any]:
    """An event as plain JSON-ready data: ``type`` and its fields (records by their codec)."""
    if isinstance(event, Offered):
        return {"type": event.kind, "contact": contact_record(dataclasses.replace(event.contact, offer=event.offer))}
    if isinstance(event, MessagePosted):
        return {"type": event.kind, "message": event_record(event.message)}
    if isinstance(event, HistoryAdded):
        return {"type": event.kind, "event": event_record(event.event)}
    if isinstance(event, Committed):
        contacts = [contact_record(c) for c in event.contacts]
        return {"type": event.kind, "contacts": contacts, "presences": [presence_record(p) for p in event.presences]}
    return {"type": event.kind, **{f.name: getattr(event, f.name) for f in dataclasses.fields(event)}}


def decode(data: dict[str, Any]) -> Event:
    """The event :func:`encode` made; ValueError for a type it does not know."""
    kind = data.get("type")
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"no event is called {kind!r}")
    if cls is Offered:
        contact = contact_from_record(data["contact"])
        if contact.offer is None:
            raise ValueError("an offer event without its offer")
        return Offered(contact.offer, contact)
    if cls is MessagePosted:
        message = data["message"]
        # A node not yet upgraded sends the event's fields in order.
        return MessagePosted(HistoryEvent(*message) if isinstance(message, list) else event_from_record(message))
    if cls is HistoryAdded:
        return HistoryAdded(event_from_record(data["event"]))
    if cls is Committed:
        contacts = tuple(contact_from_record(r) for r in data.get("contacts", ()))
        return Committed(contacts, tuple(presence_from_record(r) for r in data.get("presences", ())))
    return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})
