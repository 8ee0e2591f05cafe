"""What a channel adapter may do to its own contacts, within one unit of work.

A channel outside the engine (a callback booked, cancelled, tried again) changes its contacts
through a :class:`ChannelWork`: it sees the open contacts of its channel only, adds a new one
(waiting for its time, or queued at once), takes and gives back places of limited room (a
booked slot's), and moves a contact on, an offer it had withdrawn and the agent holding it told.
Each call stages into the caller's unit (:meth:`Engine.stage`), which commits whole or not at all.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from contact_center import topics
from contact_center.clock import Clock
from contact_center.engine.moves import Moves
from contact_center.engine.replica import Replica
from contact_center.engine.schedule import Schedule
from contact_center.engine.state import HELD
from contact_center.engine.work import Work
from contact_center.events import ContactStateChanged
from contact_center.exceptions import NotFound
from contact_center.mail import Outbound
from contact_center.model import Channel, Contact, ContactState

__all__ = ["ChannelWork"]


class ChannelWork:
    """One channel's hold on its contacts, for the length of one unit (see the module's docstring)."""

    def __init__(
        self, channel: Channel, work: Work, replica: Replica, moves: Moves, schedule: Schedule, clock: Clock
    ) -> None:
        self.channel = channel
        self._work = work
        self._replica = replica
        self._moves = moves
        self._schedule = schedule
        self._clock = clock

    def now(self) -> float:
        return self._clock.now()

    def contact(self, contact_id: str) -> Contact:
        """The open contact of this channel; else :class:`NotFound`."""
        contact = self._replica.contacts.get(contact_id)
        if contact is None or contact.channel != self.channel:
            raise NotFound(f"no open {self.channel.value} contact {contact_id!r}")
        return contact

    def open_contacts(self) -> list[Contact]:
        """This channel's open contacts, a list taken now."""
        return [c for c in self._replica.contacts.values() if c.channel == self.channel]

    def add(self, contact: Contact, actor: str, **data: Any) -> None:
        """A new contact of this channel: scheduled (it waits for its ``due_at``) or queued now."""
        if contact.channel != self.channel or contact.state not in (ContactState.SCHEDULED, ContactState.QUEUED):
            raise ValueError(f"contact {contact.id}: a {self.channel.value} contact, scheduled or queued")
        if contact.state == ContactState.SCHEDULED:
            self._schedule.add(contact, actor, **data)
        else:
            self._work.put(contact, "contact.created", actor, **data)

    def take_seat(self, contact: Contact, name: str, capacity: int) -> None:
        """``contact`` takes a place in ``name`` (of room ``capacity``); the unit fails whole if it is full."""
        self._work.take_seat(contact, name, capacity)

    def give_seat(self, contact: Contact, name: str) -> None:
        self._work.give_seat(contact, name)

    def put(self, contact: Contact, kind: str, actor: str, **data: Any) -> None:
        """``contact`` as changed by the channel (a new version of a record it read from :meth:`contact`)."""
        self._work.put(contact, kind, actor, **data)

    def send_mail(self, outbound: Outbound) -> None:
        """A mail to send once the unit is recorded (the durable outbox)."""
        self._work.add(outbound=[outbound])

    def note(self, contact: Contact, kind: str, actor: str, **data: Any) -> None:
        self._work.note(contact, kind, actor, **data)

    def move(self, contact: Contact, state: ContactState, kind: str, actor: str, **data: Any) -> Contact:
        """``contact`` (a changed copy of an open one) moved to ``state`` and recorded: an open offer of it is
        withdrawn; an agent that held it and no longer does is told (``closed``, or ``scheduled``:
        it is to be tried again later) and freed."""
        offer, agent_id = contact.offer, contact.agent_id if contact.state in HELD else None
        moved = dataclasses.replace(contact, offer=None)
        moved.move(state)
        if state in (ContactState.CLOSED, ContactState.ABANDONED):
            moved.closed_at = self._clock.now()
        else:  # back to wait: nobody holds it
            moved.agent_id = None
        self._work.put(moved, kind, actor, **data)
        if offer is not None:
            self._moves.offer_closed(offer, kind)
        if agent_id:
            told = "scheduled" if state == ContactState.SCHEDULED else "closed"
            self._work.publish(topics.agent(agent_id), ContactStateChanged(contact.id, told))
            rt = self._replica.agents.get(agent_id)
            if rt is not None and not rt.held:
                self._work.set_presence(rt, idle_since=self._clock.now())
        return moved

    def talk_over(self, contact: Contact, kind: str, actor: str, **data: Any) -> Contact:
        """The assigned ``contact``'s conversation ended without a disposition (a call hung up): wrap-up follows,
        in which its agent gives one (``close``); a contact nobody has yet is abandoned."""
        if contact.state != ContactState.ASSIGNED:
            return self.move(contact, ContactState.ABANDONED, kind, actor, **data)
        return self._moves.talk_over(contact, kind, actor, **data)

    def wrap_up(self, contact: Contact, disposition: str, actor: str, **data: Any) -> Contact:
        """The agent holding ``contact`` is done with it: wrap-up follows, as after a chat it ended."""
        return self._moves.wrap_up(contact, disposition, actor, **data)
