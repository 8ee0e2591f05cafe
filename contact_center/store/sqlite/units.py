"""The embedded store's units of work: a unit's contacts, statuses, events and mails in one transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Any

from contact_center.exceptions import Conflict
from contact_center.model import (
    Contact,
    ContactState,
    HistoryEvent,
)
from contact_center.store.base import Changes, NewEvent, Seat
from contact_center.store.sqlite import mail as mail_sql
from contact_center.store.sqlite.codec import (
    CONTACT_FIELDS,
    contact_row,
    json_text,
)
from contact_center.store.sqlite.writer import SqliteWriter

__all__ = ["SqliteUnits"]


def _seat(db: sqlite3.Connection, seats: Sequence[Seat]) -> None:
    """Places taken and given back; :class:`Conflict` (nothing of the unit written) if a set is full."""
    for seat in seats:
        if seat.capacity > 0:
            held = db.execute("SELECT holder FROM seats WHERE name = ? AND holder = ?", (seat.name, seat.holder))
            if held.fetchone() is None:
                (count,) = db.execute("SELECT COUNT(*) FROM seats WHERE name = ?", (seat.name,)).fetchone()
                if count >= seat.capacity:
                    raise Conflict(f"full: {seat.name} holds {seat.capacity}")
                db.execute("INSERT INTO seats (name, holder) VALUES (?, ?)", (seat.name, seat.holder))
        else:
            db.execute("DELETE FROM seats WHERE name = ? AND holder = ?", (seat.name, seat.holder))


# Insert a contact or update what can change (its id, channel and creation never do); the
# names are the constant CONTACT_FIELDS, the values bound.
_CHANGING = [f for f in CONTACT_FIELDS if f not in ("id", "channel", "created_at")]
_SAVE_CONTACT = (
    f"INSERT INTO contacts ({', '.join(CONTACT_FIELDS)}) VALUES ({', '.join('?' * len(CONTACT_FIELDS))})"  # noqa: S608
    f" ON CONFLICT (id) DO UPDATE SET {', '.join(f'{f} = excluded.{f}' for f in _CHANGING)}"
)


class SqliteUnits(SqliteWriter):
    """Units of work on the file (one node: no versions to check)."""

    async def record(self, contacts: Sequence[Contact], events: Sequence[NewEvent]) -> list[HistoryEvent]:
        return await self._stage(contacts, events)

    def _stage(self, contacts: Sequence[Contact], events: Sequence[NewEvent]) -> asyncio.Future[list[HistoryEvent]]:
        """Queue contact rows (as they are now) and events for the next group commit."""
        rows = [contact_row(c) for c in contacts]
        staged = tuple(events)

        finished = [c.id for c in contacts if c.state in (ContactState.CLOSED, ContactState.ABANDONED)]

        def op(db: sqlite3.Connection) -> list[HistoryEvent]:
            for row in rows:
                self._save_contact(db, row)
            for contact_id in finished:
                self._convs.pop(contact_id, None)  # its conversation is over
            return self._insert_events(db, staged)

        return self._enqueue(op)

    def commit(self, changes: Changes) -> asyncio.Future[list[HistoryEvent]]:
        """Queue a unit of work: its contacts, events, agents' statuses, mails and outbox, in one op.

        One op, so the whole unit is one transaction even when its batch is run again op by op
        (a mail recorded already fails the unit, for its caller alone).
        """
        if not (changes.presences or changes.mails or changes.outbound or changes.seats):
            return self._stage(changes.contacts, changes.events)
        rows = [contact_row(c) for c in changes.contacts]
        statuses = [(p.status.value, p.agent_id) for p in changes.presences]
        changed = [(p.agent_id, p.status_since, p.status.value) for p in changes.presences if p.status_since]
        events, mails, outbound, seats = tuple(changes.events), changes.mails, changes.outbound, changes.seats
        finished = [c.id for c in changes.contacts if c.state in (ContactState.CLOSED, ContactState.ABANDONED)]

        def op(db: sqlite3.Connection) -> list[HistoryEvent]:
            _seat(db, seats)  # first: a full set fails the unit before anything of it is written
            for row in rows:
                self._save_contact(db, row)
            for contact_id in finished:
                self._convs.pop(contact_id, None)
            db.executemany("UPDATE users SET status = ? WHERE id = ?", statuses)
            db.executemany("INSERT OR REPLACE INTO agent_statuses (agent_id, at, status) VALUES (?, ?, ?)", changed)
            mail_sql.write_mails(db, mails)
            mail_sql.write_outbound(db, outbound)
            return self._insert_events(db, events)

        return self._enqueue(op)

    def _insert_events(self, db: sqlite3.Connection, events: Sequence[NewEvent]) -> list[HistoryEvent]:
        out = []
        for e in events:
            cur = db.execute(
                "INSERT INTO events (customer_id, contact_id, channel, kind, at, actor, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (e.customer_id, e.contact_id, e.channel, e.kind, e.at, e.actor, json_text(dict(e.data))),
            )
            out.append(
                HistoryEvent(
                    id=int(cur.lastrowid or 0),
                    customer_id=e.customer_id,
                    contact_id=e.contact_id,
                    channel=e.channel,
                    kind=e.kind,
                    at=e.at,
                    actor=e.actor,
                    data=dict(e.data),
                )
            )
        return out

    @staticmethod
    def _save_contact(db: sqlite3.Connection, c: Contact | tuple[Any, ...]) -> None:
        """Insert or update a contact row; ``c`` may be the row already taken (see contact_row)."""
        db.execute(_SAVE_CONTACT, c if isinstance(c, tuple) else contact_row(c))
