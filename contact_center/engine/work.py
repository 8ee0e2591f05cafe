"""Units of work: how every change to the records is made, committed and told.

A change is a plain function run by :meth:`Work.run` under the node's lock. What it stages
(:meth:`Work.put` a contact, :meth:`Work.set_presence`, :meth:`Work.note` an event,
:meth:`Work.publish` a message, :meth:`Work.add` mails, :meth:`Work.take_seat` a place of limited
room) goes into the task's
:class:`~.units.Unit` and into the replica at once; the unit is then committed to the store
in one write, and only once that is durable do its messages go out. A commit another node
made stale first is undone by reading the records again, and the change is made afresh.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import structlog

from contact_center import topics
from contact_center.bus import Bus
from contact_center.clock import Clock
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.state import AgentRuntime, burden
from contact_center.engine.units import CURRENT_UNIT, Unit
from contact_center.events import Event, HistoryAdded, StatusChanged
from contact_center.exceptions import Stale
from contact_center.mail import MailRecord, Outbound
from contact_center.metrics import Metrics
from contact_center.model import OPEN_STATES, AgentStatus, Contact, ContactState, HistoryEvent, Presence
from contact_center.store import ContactStore, NewEvent, Seat

__all__ = ["Work"]

T = TypeVar("T")

log = structlog.get_logger("contact_center.engine")

_ATTEMPTS = 4  # a change refused as stale is tried again this many times in all
_SEATS = "seats"  # a contact's details: the places it holds (Work.take_seat)


class Work:
    """The node's units of work (see the module's docstring)."""

    def __init__(
        self,
        store: ContactStore,
        bus: Bus,
        clock: Clock,
        replica: Replica,
        signals: Signals,
        metrics: Metrics,
        *,
        node_id: str,
        on_outbound: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._replica = replica
        self._signals = signals
        self._metrics = metrics
        self.node_id = node_id
        self._on_outbound = on_outbound  # told when a unit queued mail to send
        self.lock = asyncio.Lock()

    # ---------------------------------------------------------------- running a change

    async def run(self, change: Callable[[], T]) -> T:
        """Make one change under the lock, commit it, then publish what it told.

        A change refused as stale (another node changed one of its records first) is made
        again on the records as they are now; a change that raises commits what it had done.
        """
        for attempt in range(_ATTEMPTS):
            unit = Unit()
            failure: BaseException | None = None
            async with self.lock:
                token = CURRENT_UNIT.set(unit)
                try:
                    result = change()
                except BaseException as exc:  # what it did before raising is committed like any other change
                    failure = exc
                finally:
                    CURRENT_UNIT.reset(token)
                durable = asyncio.ensure_future(self.commit(unit))
            try:
                await asyncio.shield(durable)
            except Stale:
                if failure is not None:
                    raise failure from None
                self._metrics.inc("cc_commits_stale_total", unit="change")
                if attempt + 1 == _ATTEMPTS:
                    raise
                log.info("unit.stale", attempt=attempt + 1)
                continue
            if failure is not None:
                raise failure
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def stage(self, change: Callable[[], object]) -> Unit:
        """Make a change as a unit of its own, to be committed by the caller; the lock is the caller's to hold."""
        assert self.lock.locked(), "a unit is staged under the lock"
        unit = Unit()
        token = CURRENT_UNIT.set(unit)
        try:
            change()
        finally:
            CURRENT_UNIT.reset(token)
        return unit

    async def commit(self, unit: Unit) -> None:
        """Commit the unit's records and events; then publish its messages. Stale: read the records again."""
        if unit.empty():
            await self._store.barrier()
            self._tell(unit)
            return
        try:
            recorded = await self._store.commit(unit.changes(self.node_id))
        except Stale:
            await self._reread(unit)
            raise
        except BaseException:
            self._undo(unit)
            self._signals.out_of_step()  # what else this node holds may be off too
            raise
        for key, version in unit.expected.items():
            self._replica.known_version(key, version + 1)
        self._tell(unit)
        if recorded:
            self.tell_history(recorded)
        if unit.outbound and self._on_outbound is not None:
            self._on_outbound()

    # ---------------------------------------------------------------- staging, within a change

    def put(self, contact: Contact, kind: str | None = None, actor: str = "system", **data: Any) -> None:
        """Make ``contact`` the current record (a new version) within the unit, with its history event."""
        unit = _current()
        replica = self._replica
        key = f"contact:{contact.id}"
        old = replica.contacts.get(contact.id)
        base = old.version if old is not None else contact.version
        if key not in unit.expected:
            unit.expected[key] = base
            unit.before[key] = old
        contact.version = base + 1
        contact.node = self.node_id
        replica.apply(contact)
        unit.contacts[contact.id] = contact
        was, now = burden(old), burden(contact)
        if was != now:  # the agents' loads are in their records, checked like any other
            for counted, step in ((was, -1), (now, 1)):
                if counted is not None and (rt := replica.agents.get(counted[0])) is not None:
                    load = dict(rt.presence.load)
                    load[counted[1]] = max(0, load.get(counted[1], 0) + step)
                    self.set_presence(rt, load={ch: n for ch, n in load.items() if n})
        if contact.state not in OPEN_STATES and contact.details.get(_SEATS):
            details = dict(contact.details)  # a new dict: the record before shares the old one
            for name in details.pop(_SEATS):  # a finished contact holds no place
                unit.seats.append(Seat(name, contact.id))
            contact.details = details
        if kind is not None:
            unit.events.append(self.event(contact, kind, actor, **data))
        if contact.state == ContactState.QUEUED:
            self._signals.queue_changed()

    def note(self, contact: Contact, kind: str, actor: str, **data: Any) -> None:
        """A history event of the contact that changes nothing of its record."""
        _current().events.append(self.event(contact, kind, actor, **data))

    def add(
        self, *, events: Iterable[NewEvent] = (), mails: Iterable[MailRecord] = (), outbound: Iterable[Outbound] = ()
    ) -> None:
        """History events, mails fetched or sent, and mails to send, recorded with the unit."""
        unit = _current()
        unit.events.extend(events)
        unit.mails.extend(mails)
        unit.outbound.extend(outbound)

    def take_seat(self, contact: Contact, name: str, capacity: int) -> None:
        """Within the unit: ``contact`` takes a place in the set ``name``, which holds ``capacity``; the unit
        fails whole (:class:`~contact_center.exceptions.Conflict`) if the set is full. The contact holds the
        place until it gives it back or finishes (put it after this)."""
        _current().seats.append(Seat(name, contact.id, capacity))
        contact.details = {**contact.details, _SEATS: sorted({*contact.details.get(_SEATS, ()), name})}

    def give_seat(self, contact: Contact, name: str) -> None:
        """Within the unit: ``contact`` gives back its place in ``name`` (put it after this)."""
        _current().seats.append(Seat(name, contact.id))
        contact.details = {**contact.details, _SEATS: [n for n in contact.details.get(_SEATS, ()) if n != name]}

    def set_presence(self, rt: AgentRuntime, **changes: Any) -> None:
        """A new version of the agent's presence within the unit (with no changes: its load changed)."""
        unit = _current()
        old = rt.presence
        key = f"agent:{old.agent_id}"
        if key not in unit.expected:
            unit.expected[key] = old.version
            unit.before[key] = old
        new = dataclasses.replace(old, **changes)
        if new.status != old.status:
            new.status = old.status
            new.move(changes["status"])
            new.status_reason = changes.get("status_reason", "")
            # Strictly later than the change before, by a millisecond if need be: two changes in one
            # instant (connected, then available) are kept in order by every store's status log.
            new.status_since = max(self._clock.now(), old.status_since + 0.001)
            if new.status == AgentStatus.AVAILABLE and not rt.held and "idle_since" not in changes:
                new.idle_since = self._clock.now()
            self.publish(topics.agent(old.agent_id), StatusChanged(new.status.value, new.status_reason))
            log.info("agent.status", agent_id=old.agent_id, status=new.status.value, reason=new.status_reason)
        new.version = old.version + 1
        new.node = self.node_id
        self._replica.apply_presence(rt, new)
        unit.presences[old.agent_id] = new

    def publish(self, topic: str, message: Event) -> None:
        """Publish now, or, inside a unit of work, once what it recorded is durable."""
        unit = CURRENT_UNIT.get()
        if unit is None:
            self._bus.publish(topic, message)
        else:
            unit.outbox.append((topic, message))

    def publish_now(self, topic: str, message: Event) -> None:
        """Publish at once: for what is told after its unit, outside any (a durable message)."""
        self._bus.publish(topic, message)

    def event(self, contact: Contact, kind: str, actor: str, **data: Any) -> NewEvent:
        return NewEvent(contact.customer_id, contact.id, contact.channel.value, kind, self._clock.now(), actor, data)

    # ---------------------------------------------------------------- after the commit

    def _tell(self, unit: Unit) -> None:
        for topic, message in unit.outbox:
            self._bus.publish(topic, message)

    def tell_history(self, recorded: Iterable[HistoryEvent]) -> None:
        """What was recorded of a customer, told to the agents holding another contact of theirs.

        The desk's customer panel then follows the customer's other contacts (a past chat rated, a
        message left, a page opened) as it happens. What an agent's own contacts record it sees in
        their conversation and state already; internal notes go to their writer (``NoteAdded``).
        """
        for event in recorded:
            if event.kind == "note":
                continue
            holders = self._replica.holders(event.customer_id)
            for agent_id, held in holders.items():
                if event.contact_id not in held:
                    self._bus.publish(topics.agent(agent_id), HistoryAdded(event))

    def _undo(self, unit: Unit) -> None:
        """Nothing of the unit was recorded: put back the records it changed, where nothing changed them since."""
        replica = self._replica
        for contact_id, contact in unit.contacts.items():
            if replica.contacts.get(contact_id, contact) is contact:
                before = unit.before[f"contact:{contact_id}"]
                if isinstance(before, Contact):
                    replica.apply(before)
                else:
                    replica.drop(contact)
        for agent_id, presence in unit.presences.items():
            rt = replica.agents.get(agent_id)
            before = unit.before[f"agent:{agent_id}"]
            if rt is not None and rt.presence is presence and isinstance(before, Presence):
                replica.apply_presence(rt, before)

    async def _reread(self, unit: Unit) -> None:
        """After a stale commit: the unit's records as the store has them now."""
        contacts, presences = await self._store.current(list(unit.contacts), list(unit.presences))
        found = {c.id for c in contacts}
        for contact in contacts:
            self._replica.heard_contact(contact, force=True)
        for contact_id in unit.contacts:
            if contact_id not in found:  # never recorded: it does not exist
                self._replica.drop(unit.contacts[contact_id])
        for presence in presences:
            self._replica.heard_presence(presence, force=True)


def _current() -> Unit:
    unit = CURRENT_UNIT.get()
    assert unit is not None, "a record changes only within a unit (Work.run)"
    return unit
