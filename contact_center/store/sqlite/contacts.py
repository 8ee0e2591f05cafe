"""The embedded store's contacts and conversations: messages numbered once per ``client_id``, and history."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contact_center.model import (
    Contact,
    HistoryEvent,
    Presence,
)
from contact_center.store.base import NewEvent, Written
from contact_center.store.sqlite.codec import (
    CONTACT_COLS,
    EVENT_COLS,
    HISTORY,
    OPEN,
    Conversation,
    contact_of,
    contact_row,
    event_of,
    json_text,
)
from contact_center.store.sqlite.units import SqliteUnits

__all__ = ["SqliteContacts"]


class SqliteContacts(SqliteUnits):
    """Contacts, messages and history on the file."""

    def __init__(self, path: Path, wal_limit_bytes: int = 64 * 1024 * 1024) -> None:
        super().__init__(path, wal_limit_bytes)
        self._message_op = self._write_message  # one bound method, not one per message

    async def current(
        self, contact_ids: Sequence[str], agent_ids: Sequence[str]
    ) -> tuple[list[Contact], list[Presence]]:
        contacts = [c for cid in contact_ids if (c := await self.get_contact(cid)) is not None]
        return contacts, []

    def add_message(
        self,
        contact: Contact,
        actor: str,
        text: str,
        client_id: str,
        at: float,
        extra: Sequence[NewEvent] = (),
        *,
        create: bool = False,
        files: Sequence[Mapping[str, Any]] = (),
    ) -> asyncio.Future[tuple[HistoryEvent, bool]]:
        """Queue a message for ``contact``'s conversation, once per ``client_id``; ``files`` it carries, described.

        The sequence number is taken in the same transaction, so messages written in
        one batch still number 1, 2, 3 in order. With ``create`` the contact row is
        inserted first (a conversation's first message). Returns the message event and
        whether it is new; a repeat changes nothing. ``contact`` itself is not touched.
        The future resolves once the message is committed.
        """
        future: asyncio.Future[tuple[HistoryEvent, bool]] = asyncio.get_running_loop().create_future()
        created_row = contact_row(contact) if create else None
        entry = (future, self._message_op, contact, actor, text, client_id, at, tuple(extra), created_row)
        self._queue((*entry, tuple(files)) if files else entry)
        return future

    def post_message(self, contact: Contact, actor: str, text: str, client_id: str, at: float, then: Written) -> None:
        """:meth:`add_message` for a conversation already open, telling ``then`` instead of a future.

        ``then`` is called on the event loop right after the commit, with ``(event, new)``, or
        with the exception if the message could not be written; never before this returns.
        The hot path of every chat: no future, no closure, no extra turn of the loop.
        """
        self._queue((then, self._message_op, contact, actor, text, client_id, at, (), None))

    def _write_message(
        self,
        db: sqlite3.Connection,
        contact: Contact,
        actor: str,
        text: str,
        client_id: str,
        at: float,
        extra: tuple[NewEvent, ...],
        created_row: tuple[Any, ...] | None,
        files: tuple[Mapping[str, Any], ...] = (),
    ) -> tuple[HistoryEvent, bool]:
        if created_row is not None:
            self._save_contact(db, created_row)
            self._insert_events(db, extra)
            self._convs[contact.id] = Conversation()
        conv = self._conversation(db, contact.id)
        seen = conv.clients.get(client_id)
        if seen is not None:  # this client_id was recorded before: the repeat changes nothing
            row = db.execute(
                f"SELECT {EVENT_COLS} FROM events WHERE contact_id = ? AND seq = ?",  # noqa: S608
                (contact.id, seen),
            ).fetchone()
            return event_of(row), False
        seq = conv.last_seq + 1
        data: dict[str, Any] = {"text": text, "files": list(files)} if files else {"text": text}
        channel = contact.channel.value
        cur = self._message_cursor  # one cursor for every message: no cursor object made per insert
        cur.execute(
            "INSERT INTO events (customer_id, contact_id, channel, kind, at, actor, data, seq, client_id)"
            " VALUES (?, ?, ?, 'message', ?, ?, ?, ?, ?)",
            (contact.customer_id, contact.id, channel, at, actor, json_text(data), seq, client_id),
        )
        conv.last_seq = seq
        conv.clients[client_id] = seq
        if created_row is None and extra:
            self._insert_events(db, extra)
        # Positional: a frozen dataclass's keyword construction costs a microsecond more per message.
        event = HistoryEvent(
            int(cur.lastrowid or 0),
            contact.customer_id,
            contact.id,
            channel,
            "message",
            at,
            actor,
            data,
            seq,
            client_id,
        )
        return event, True

    def _conversation(self, db: sqlite3.Connection, contact_id: str) -> Conversation:
        """A conversation's last message number and senders' ids; this process is the file's only writer."""
        conv = self._convs.get(contact_id)
        if conv is None:
            if len(self._convs) > 100_000:
                self._convs.clear()
            # "seq IS NOT NULL" lets SQLite use the partial index events_seq.
            rows = db.execute(
                "SELECT seq, client_id FROM events WHERE contact_id = ? AND seq IS NOT NULL", (contact_id,)
            ).fetchall()
            conv = Conversation(max((r[0] for r in rows), default=0), {r[1]: r[0] for r in rows if r[1]})
            self._convs[contact_id] = conv
        return conv

    async def get_contact(self, contact_id: str) -> Contact | None:
        row = self._db.execute(
            f"SELECT {CONTACT_COLS} FROM contacts WHERE id = ?",  # noqa: S608
            (contact_id,),
        ).fetchone()
        return None if row is None else contact_of(row)

    async def open_contacts(self) -> list[Contact]:
        marks = ", ".join("?" for _ in OPEN)
        rows = self._db.execute(
            f"SELECT {CONTACT_COLS} FROM contacts WHERE state IN ({marks}) ORDER BY enqueued_at",  # noqa: S608
            [s.value for s in OPEN],
        ).fetchall()
        return [contact_of(r) for r in rows]

    async def messages(self, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]:
        rows = self._db.execute(
            f"SELECT {EVENT_COLS} FROM events WHERE contact_id = ? AND seq > ? ORDER BY seq",  # noqa: S608
            (contact_id, after_seq),
        ).fetchall()
        return [event_of(r) for r in rows]

    async def last_seqs(self, contact_ids: Sequence[str]) -> dict[str, int]:
        """The last message number of each conversation asked for (0: none yet)."""
        last = dict.fromkeys(contact_ids, 0)
        query = (
            "SELECT contact_id, MAX(seq) FROM events WHERE contact_id IN ({}) AND seq IS NOT NULL GROUP BY contact_id"
        )
        last.update({row[0]: int(row[1]) for row in self._each_of(query, contact_ids)})
        return last

    def _each_of(self, query: str, values: Sequence[str]) -> list[Any]:
        """The rows of ``query`` (its ``IN ({})`` filled with marks) over ``values``, 500 at a time: SQLite's
        limit on bound parameters."""
        rows = []
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            rows += self._db.execute(query.format(",".join("?" * len(chunk))), chunk).fetchall()
        return rows

    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]:
        before = before_id if before_id is not None else 2**62
        rows = self._db.execute(HISTORY, (customer_id, before, customer_id, before, limit)).fetchall()
        return [event_of(r) for r in reversed(rows)]

    async def seats_taken(self, names: Sequence[str]) -> dict[str, int]:
        """How many places are held in each set named (0 where none)."""
        taken = dict.fromkeys(names, 0)
        query = "SELECT name, COUNT(*) FROM seats WHERE name IN ({}) GROUP BY name"
        taken.update({row[0]: int(row[1]) for row in self._each_of(query, names)})
        return taken

    async def seat_holders(self, name: str) -> list[str]:
        rows = self._db.execute("SELECT holder FROM seats WHERE name = ? ORDER BY holder", (name,)).fetchall()
        return [row[0] for row in rows]

    async def next_in_series(self, series: str) -> int:
        def op(db: sqlite3.Connection) -> int:
            row = db.execute(
                "INSERT INTO series (name, last) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET last = last + 1"
                " RETURNING last",
                (series,),
            ).fetchone()
            return int(row[0])

        result: int = await self._enqueue(op)
        return result

    async def secret(self, name: str) -> str:
        """The key kept under ``name``, made now if none was."""

        def op(db: sqlite3.Connection) -> str:
            db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, secrets.token_hex(32)))
            return str(db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0])

        result: str = await self._enqueue(op)
        return result
