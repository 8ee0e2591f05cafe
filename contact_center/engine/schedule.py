"""Contacts that wait for their time: ``scheduled``, then into the queue at ``due_at``.

A booked callback, or one to try again later, waits out of the queue: it is in every node's
replica and the store's open contacts (it survives a restart), but no router sees it, and the
statistics count it as scheduled, not waiting. At ``due_at`` its ``due`` timer moves it to the
queue at its original place (``enqueued_at`` is never reset): the node that scheduled it does
this, or, once that node's lease has lapsed, a survivor (:mod:`.timers`), once, since the move
is a unit of work on the record's version.
"""

from __future__ import annotations

import dataclasses

import structlog

from contact_center.clock import Clock
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.timers import Timers
from contact_center.engine.work import Work
from contact_center.model import Contact, ContactState

__all__ = ["Schedule"]

log = structlog.get_logger("contact_center.engine")

_EARLY_S = 0.001  # a timer may wake this much before its time


class Schedule:
    """Releases scheduled contacts into the queue when they are due (see the module's docstring)."""

    def __init__(self, work: Work, replica: Replica, timers: Timers, signals: Signals, clock: Clock) -> None:
        self._work = work
        self._replica = replica
        self._signals = signals
        self._clock = clock
        timers.handle("due", self._due)

    def add(self, contact: Contact, actor: str, **data: object) -> Contact:
        """Within the caller's unit: a new contact that waits until its ``due_at`` (its channel made it)."""
        if contact.state != ContactState.SCHEDULED or contact.due_at is None:
            raise ValueError(f"contact {contact.id}: a scheduled contact needs its due_at")
        self._work.put(contact, "contact.scheduled", actor, due_at=contact.due_at, **data)
        return contact

    async def _due(self, contact_id: str) -> None:
        released = await self._work.run(lambda: self._release(contact_id))
        if released is not None:  # recorded: in the queue on every node
            log.info("contact.due", contact_id=contact_id, channel=released.channel.value, due_at=released.due_at)
            self._signals.queue_changed()

    def _release(self, contact_id: str) -> Contact | None:
        """Within a unit: the contact into the queue, if it is still scheduled and due now."""
        contact = self._replica.contacts.get(contact_id)
        if contact is None or contact.state != ContactState.SCHEDULED:
            return None  # cancelled, or released already (by another node)
        if contact.due_at is not None and contact.due_at > self._clock.now() + _EARLY_S:
            return None  # scheduled again since: its timer is armed for the new time
        due = dataclasses.replace(contact)
        due.move(ContactState.QUEUED)
        self._work.put(due, "contact.due", "system", due_at=contact.due_at)
        return due
