"""The narrow ports channel adapters get from the composition root, instead of reaching through the engine.

Each is a :class:`typing.Protocol` that a core part already satisfies (the store, the bus); an
adapter names only what it uses, so what it can touch is read off its constructor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from contact_center.bus import Listener
from contact_center.clock import Clock
from contact_center.delivery import Watch
from contact_center.mail import MailRecord, Outbound
from contact_center.metrics import Metrics
from contact_center.model import Contact, Customer, HistoryEvent
from contact_center.store import Session

__all__ = [
    "CallbackBook",
    "ChatPorts",
    "ConversationLog",
    "DeskAction",
    "DeskLog",
    "DeskPorts",
    "MailPorts",
    "MailboxCursors",
    "Outbox",
    "Topics",
    "Visitor",
    "WidgetAction",
]


class ConversationLog(Protocol):
    """The record of conversations: a contact, and its messages after a number (the store)."""

    async def get_contact(self, contact_id: str) -> Contact | None: ...

    async def messages(self, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]: ...


class Topics(Protocol):
    """Listening to what the engine publishes (the bus)."""

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]: ...


@dataclass(frozen=True, slots=True)
class ChatPorts:
    """What a chat socket needs besides the engine: the record, the topics, and the node's delivery watch."""

    log: ConversationLog
    topics: Topics
    watch: Watch


class Outbox(Protocol):
    """The durable outbox: what is due to be sent, and each attempt's outcome (the store)."""

    async def outbound_due(self, now: float, limit: int = 100) -> list[Outbound]: ...

    async def update_outbound(self, outbound: Outbound) -> None: ...


class MailboxCursors(Protocol):
    """Where the reading of each mailbox got to: its UIDVALIDITY and the last UID recorded (the store)."""

    async def mailbox_cursor(self, mailbox: str) -> tuple[int, int] | None: ...


@dataclass(frozen=True, slots=True)
class MailPorts:
    """What the email channel needs besides the engine: the outbox, the mailbox cursors, the node's counters."""

    outbox: Outbox
    cursors: MailboxCursors
    metrics: Metrics


class DeskLog(ConversationLog, Protocol):
    """What the desk reads besides conversations: the customer, an email contact's mails, its own session."""

    async def get_customer(self, customer_id: str) -> Customer | None: ...

    async def mails_of(self, contact_id: str, *, whole: bool = False) -> list[MailRecord]: ...

    async def get_session(self, token_hash: str) -> Session | None: ...


@dataclass(frozen=True, slots=True)
class DeskPorts:
    """What a desk socket needs besides the engine: the record, the topics, the delivery watch and the clock."""

    log: DeskLog
    topics: Topics
    watch: Watch
    clock: Clock


class CallbackBook(Protocol):
    """What the callback channel keeps besides its contacts: the places booked per slot, the day's queue
    numbers, the key its links are signed with, and a callback that is over (the store)."""

    async def seats_taken(self, names: Sequence[str]) -> dict[str, int]: ...
    async def next_in_series(self, series: str) -> int: ...
    async def secret(self, name: str) -> str: ...
    async def get_contact(self, contact_id: str) -> Contact | None: ...
    async def get_customer(self, customer_id: str) -> Customer | None: ...


# An action a channel adds to the agent's desk: given the agent and the message, what to answer (or nothing).
DeskAction = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who sent a widget message: the customer (as proven so far), in what language and on what topic, and
    by which socket (``socket_id``: what a page started, such as a call, ends with that page's socket)."""

    customer_id: str
    language: str
    topic: str
    socket_id: str


# An action a channel adds to the widget's socket: given the visitor and the message, what to answer (or nothing).
WidgetAction = Callable[[Visitor, dict[str, Any]], Awaitable[dict[str, Any] | None]]
