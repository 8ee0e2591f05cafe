"""A unit of work: one change in the making, and what to do once a posted message is durable.

A change runs as one :class:`Unit` (its records, the versions they were read at, its history
events, mails and messages to publish); :data:`CURRENT_UNIT` names the unit of the running task,
so that what is published inside a change waits until the change is durable. :class:`Written`
answers a posted message's sender and tells everyone else once the store has it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable

from contact_center.events import Event
from contact_center.mail import MailRecord, Outbound
from contact_center.model import Contact, HistoryEvent, Presence
from contact_center.store import Changes, NewEvent, Seat

__all__ = ["CURRENT_UNIT", "Answer", "Unit", "Written", "answer_future"]

# Told the recorded message once it is durable, or what stopped it.
Answer = Callable[[HistoryEvent | BaseException], None]


def answer_future() -> tuple[asyncio.Future[HistoryEvent], Answer]:
    """A future and the :data:`Answer` that settles it, for callers that would rather wait."""
    future: asyncio.Future[HistoryEvent] = asyncio.get_running_loop().create_future()

    def answer(outcome: HistoryEvent | BaseException) -> None:
        if future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    return future, answer


class Unit:
    """One change in the making: the records it wrote, the versions they had, its events and messages."""

    __slots__ = ("before", "contacts", "events", "expected", "mails", "outbound", "outbox", "presences", "seats")

    def __init__(self) -> None:
        self.outbox: list[tuple[str, Event]] = []
        self.contacts: dict[str, Contact] = {}
        self.presences: dict[str, Presence] = {}
        self.expected: dict[str, int] = {}
        self.before: dict[str, Contact | Presence | None] = {}
        self.events: list[NewEvent] = []
        self.mails: list[MailRecord] = []  # mails fetched or sent, recorded with the unit
        self.outbound: list[Outbound] = []  # mails to send, queued with the unit
        self.seats: list[Seat] = []  # places taken or given back (a booked slot's), with the unit

    def empty(self) -> bool:
        return not (self.contacts or self.presences or self.events or self.mails or self.outbound or self.seats)

    def changes(self, node: str) -> Changes:
        return Changes(
            tuple(self.contacts.values()),
            tuple(self.presences.values()),
            self.expected,
            tuple(self.events),
            node,
            tuple(self.mails),
            tuple(self.outbound),
            tuple(self.seats),
        )


# The unit a change on this task is part of (none outside a change: publish at once).
CURRENT_UNIT: contextvars.ContextVar[Unit | None] = contextvars.ContextVar("contact_center_unit", default=None)


class Written:
    """What to do once a posted message is written: answer its sender, then tell everyone else (a repeat too).

    One small object per message in flight (not a partial with its tuple and bound method):
    it lives until the commit, and what many messages hold meanwhile sets how often the
    garbage collector runs.
    """

    __slots__ = ("answer", "contact", "tell")

    def __init__(self, tell: Callable[[Contact, HistoryEvent], None], contact: Contact, answer: Answer) -> None:
        self.tell = tell
        self.contact = contact
        self.answer = answer

    def __call__(self, outcome: tuple[HistoryEvent, bool] | BaseException) -> None:
        if isinstance(outcome, BaseException):
            self.answer(outcome)
            return
        event, _ = outcome
        # The sender first: its socket then knows the message's number and skips the copy.
        self.answer(event)
        # A repeat too: its first telling may have died with its node. Receivers skip what they have.
        self.tell(self.contact, event)
