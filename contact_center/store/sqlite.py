"""The embedded store: one SQLite file in the data directory.

The database runs in write-ahead-log mode with ``synchronous=NORMAL``: a committed
transaction survives the engine being killed (SIGKILL) at any moment; only a crash of
the operating system itself may lose the last transactions. Statements are short and
run on the event loop's thread; each public method is one transaction.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import itertools
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import orjson
import structlog

from contact_center.exceptions import Conflict
from contact_center.mail import MailRecord, Outbound, ThreadEntry
from contact_center.model import (
    Channel,
    Contact,
    ContactState,
    Customer,
    HistoryEvent,
    IdentityKind,
    Presence,
)
from contact_center.store import sqlite_mail as mail_sql
from contact_center.store.base import Changes, FirstResponses, NewEvent, Written, settle
from contact_center.store.sqlite_accounts import ACCOUNTS_SCHEMA, SqliteAccounts, migrate_accounts

__all__ = ["BUSY_BATCH", "SqliteStore"]

_log = structlog.get_logger("contact_center.store")


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


T = TypeVar("T")
BUSY_BATCH = 64  # writes in the last commit from which the next waits a turn of the loop (see _flush)
_Entry = tuple[Any, ...]  # a queued write: (sink, op, *args), see SqliteStore._queue


SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, value REAL NOT NULL, created_at REAL NOT NULL,
    merged_into TEXT
);
CREATE TABLE IF NOT EXISTS identities (
    kind TEXT NOT NULL, value TEXT NOT NULL, customer_id TEXT NOT NULL, PRIMARY KEY (kind, value)
);
CREATE INDEX IF NOT EXISTS identities_customer ON identities (customer_id);
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, customer_id TEXT NOT NULL, state TEXT NOT NULL,
    created_at REAL NOT NULL, enqueued_at REAL NOT NULL, skills TEXT NOT NULL,
    priority INTEGER NOT NULL, subject TEXT NOT NULL, agent_id TEXT, disposition TEXT,
    closed_at REAL, ticket TEXT NOT NULL DEFAULT '', answered_at REAL, breached_at REAL, left_at REAL
);
CREATE INDEX IF NOT EXISTS contacts_state ON contacts (state);
CREATE INDEX IF NOT EXISTS contacts_customer ON contacts (customer_id);
-- The SLA reports read each email contact's arrival and first response; a partial index, so
-- that chats, whose rows change at every step of their lives, never write to it.
DROP INDEX IF EXISTS contacts_sla;
CREATE INDEX IF NOT EXISTS contacts_email_sla ON contacts (channel, created_at, answered_at) WHERE channel = 'email';
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL, contact_id TEXT,
    channel TEXT, kind TEXT NOT NULL, at REAL NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL,
    seq INTEGER, client_id TEXT
);
-- A message touches one index, events_seq; every other event, events_by_customer. Each
-- open conversation writes to its own page of an index, and a commit writes every page
-- it changed to the log in full, so a second index on messages doubled the bytes (and the
-- CPU) of each commit. A customer's history joins the two (see history()).
CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events (contact_id, seq) WHERE seq IS NOT NULL;
DROP INDEX IF EXISTS events_customer;
CREATE INDEX IF NOT EXISTS events_by_customer ON events (customer_id, id) WHERE seq IS NULL;
-- Resends are recognised by the writer's per-conversation record (_Conversation), not by an
-- index: one index fewer to update for every message.
DROP INDEX IF EXISTS events_client;
CREATE TABLE IF NOT EXISTS claims (
    customer_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (customer_id, kind, value)
);
-- Email. A fetched mail's place (mailbox, uidvalidity, uid) is unique: the same message is
-- never recorded twice; mails sent have no place (NULLs are distinct).
CREATE TABLE IF NOT EXISTS mails (
    id TEXT PRIMARY KEY, direction TEXT NOT NULL, at REAL NOT NULL, message_id TEXT NOT NULL,
    digest TEXT NOT NULL, mailbox TEXT, uidvalidity INTEGER, uid INTEGER, contact_id TEXT,
    quarantine TEXT, meta TEXT NOT NULL, raw BLOB NOT NULL, UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX IF NOT EXISTS mails_contact ON mails (contact_id, at) WHERE contact_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS mails_quarantined ON mails (at) WHERE quarantine IS NOT NULL;
CREATE TABLE IF NOT EXISTS mail_parts (
    mail_id TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB, PRIMARY KEY (mail_id, idx)
);
CREATE TABLE IF NOT EXISTS thread_ids (
    message_id TEXT PRIMARY KEY, mail_id TEXT NOT NULL, digest TEXT NOT NULL, contact_id TEXT,
    ticket TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tickets (
    ticket TEXT PRIMARY KEY, contact_id TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ticket_numbers (n INTEGER PRIMARY KEY AUTOINCREMENT);
CREATE TABLE IF NOT EXISTS mailboxes (
    mailbox TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, recipient TEXT NOT NULL,
    created_at REAL NOT NULL, next_at REAL NOT NULL, state TEXT NOT NULL, meta TEXT NOT NULL,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_at) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS outbox_acks ON outbox (recipient, created_at) WHERE kind = 'ack';
CREATE INDEX IF NOT EXISTS outbox_ack_domains
    ON outbox (substr(recipient, instr(recipient, '@') + 1), created_at) WHERE kind = 'ack';
"""

_OPEN = (ContactState.QUEUED, ContactState.OFFERED, ContactState.ASSIGNED, ContactState.WRAP_UP)
_CONTACT_COLS = (
    "*, (SELECT COALESCE(MAX(seq), 0) FROM events e WHERE e.contact_id = contacts.id AND e.seq IS NOT NULL) AS last_seq"
)
_EVENT_COLS = "id, customer_id, contact_id, channel, kind, at, actor, data, seq, client_id"
# A customer's events, newest first: the messages of its contacts (by events_seq) and every
# other event (by events_by_customer). A merge moves both contacts and events to the survivor.
_HISTORY = f"""
SELECT {_EVENT_COLS} FROM events WHERE customer_id = ? AND seq IS NULL AND id < ?
UNION ALL
SELECT {_EVENT_COLS} FROM events
 WHERE contact_id IN (SELECT id FROM contacts WHERE customer_id = ?) AND seq IS NOT NULL AND id < ?
ORDER BY id DESC LIMIT ?
"""  # noqa: S608


def _event(row: sqlite3.Row) -> HistoryEvent:
    return HistoryEvent(
        id=row["id"],
        customer_id=row["customer_id"],
        contact_id=row["contact_id"],
        channel=row["channel"],
        kind=row["kind"],
        at=row["at"],
        actor=row["actor"],
        data=orjson.loads(row["data"]),
        seq=row["seq"],
        client_id=row["client_id"],
    )


def _contact(row: sqlite3.Row) -> Contact:
    return Contact(
        id=row["id"],
        channel=Channel(row["channel"]),
        customer_id=row["customer_id"],
        state=ContactState(row["state"]),
        created_at=row["created_at"],
        enqueued_at=row["enqueued_at"],
        skills=[(s, int(n)) for s, n in orjson.loads(row["skills"])],
        priority=row["priority"],
        subject=row["subject"],
        agent_id=row["agent_id"],
        disposition=row["disposition"],
        closed_at=row["closed_at"],
        last_seq=row["last_seq"],
        ticket=row["ticket"],
        answered_at=row["answered_at"],
        breached_at=row["breached_at"],
        left_at=row["left_at"],
    )


def _contact_row(c: Contact) -> tuple[Any, ...]:
    """The contact's column values now: a staged write must not see later changes to ``c``."""
    return (
        c.id,
        c.channel.value,
        c.customer_id,
        c.state.value,
        c.created_at,
        c.enqueued_at,
        _json(c.skills),
        c.priority,
        c.subject,
        c.agent_id,
        c.disposition,
        c.closed_at,
        c.ticket,
        c.answered_at,
        c.breached_at,
        c.left_at,
    )


@dataclass(slots=True)
class _Conversation:
    """What the writer knows of an open conversation: its last message number, and the
    number each sender's ``client_id`` got, so a resend is answered with the same message."""

    last_seq: int = 0
    clients: dict[str, int] = field(default_factory=dict)


class _Checkpointer:
    """Moves the write-ahead log into the database file, on its own thread, when it is cheap.

    A checkpoint copies the log's pages into the file and fsyncs it; done while the engine
    is busy, that I/O stalls the engine's own commits (measured: p99 ingest-to-offer rose from
    about 4 ms to 12-24 ms with a checkpoint every second). So it runs once writes have been
    quiet for ``idle_s``, or when the log has grown past ``max_wal_bytes`` under sustained
    load. Passive checkpoints never block the writer; the engine's connection has automatic
    checkpoints off.
    """

    def __init__(self, path: Path, idle_s: float = 2.0, max_wal_bytes: int = 64 * 1024 * 1024) -> None:
        self._path = path
        self._wal = path.with_name(path.name + "-wal")
        self._idle_s = idle_s
        self._max_wal_bytes = max_wal_bytes
        self.last_write = time.monotonic()  # set by the writer after each commit
        self._done_at = self.last_write
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _due(self) -> bool:
        written = self.last_write
        if written <= self._done_at:
            return False
        if time.monotonic() - written >= self._idle_s:
            return True
        try:
            return self._wal.stat().st_size >= self._max_wal_bytes
        except FileNotFoundError:
            return False

    def _run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            while not self._stopping.wait(0.5):
                if self._due():
                    self._done_at = time.monotonic()
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


class SqliteStore(SqliteAccounts):
    """The :class:`~contact_center.store.base.Store` port on one SQLite file.

    One engine node: its lock orders every change, so commits have no versions to check, and
    what only a running engine needs (offers, presences) is not kept (a restart re-queues).
    """

    shared = False

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Checkpoints (copying the log into the file, with an fsync) run on a thread of their
        # own, so a commit never waits for one; see _Checkpointer.
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self._db.executescript(SCHEMA)
        self._db.executescript(ACCOUNTS_SCHEMA)
        self._pending: list[_Entry] = []
        self._message_op = self._write_message  # one bound method, not one per message
        self._message_cursor = self._db.cursor()
        self._flush_scheduled = False
        self._closed = False
        self._last_batch = 0
        self._waited = False
        self._convs: dict[str, _Conversation] = {}  # open conversations, as the writer knows them
        self._checkpointer = _Checkpointer(path)

    def _migrate(self) -> None:
        """Bring a file written by an earlier version up to the schema: columns added since."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(contacts)")}
        if have and "ticket" not in have:
            self._db.execute("ALTER TABLE contacts ADD COLUMN ticket TEXT NOT NULL DEFAULT ''")
            self._db.execute("ALTER TABLE contacts ADD COLUMN answered_at REAL")
            self._db.execute("ALTER TABLE contacts ADD COLUMN breached_at REAL")
        if have and "left_at" not in have:
            self._db.execute("ALTER TABLE contacts ADD COLUMN left_at REAL")
        migrate_accounts(self._db)

    def _enqueue(self, op: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run ``op`` in the next group commit and return its result once it is durable.

        Every write the engine makes in the course of its work goes this way, in the order
        asked: those queued in the same turn of the event loop share one transaction, so
        under load one COMMIT serves many clients. Each ``op``
        only reads and writes the database, so if one fails the batch is rolled back and
        its ops are run again one transaction each: only the failing op's caller sees it.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue((future, op))
        return future

    def _queue(self, entry: _Entry) -> None:
        """Queue ``(sink, op, *args)``: ``op(db, *args)`` runs in the next group commit, and its
        outcome goes to ``sink`` after it. One flat tuple: it stays alive until the commit, and
        the fewer objects each message in flight holds, the rarer the garbage collector runs."""
        self._pending.append(entry)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            # A context of its own: the commit serves every caller of the batch, and its
            # listeners must not run inside the first caller's unit of work or log bindings.
            asyncio.get_running_loop().call_soon(self._flush, context=contextvars.Context())

    def _flush(self) -> None:
        if self._last_batch >= BUSY_BATCH and not self._waited:
            # The last commit was large, so the loop is saturated: one more turn lets the
            # clients' next messages join this commit, which then writes each conversation's
            # index page once for more of them (PostgreSQL's commit_delay, by loop turns).
            # Under light load batches stay small and nothing waits.
            self._waited = True
            asyncio.get_running_loop().call_soon(self._flush, context=contextvars.Context())
            return
        self._flush_scheduled = False
        self._waited = False
        self._write_pending()

    def _write_pending(self) -> None:
        """Commit everything queued now, as one transaction, and tell its callers."""
        batch, self._pending = self._pending, []
        self._last_batch = len(batch)
        if not batch:
            return
        # The collector's young generation counts objects made less objects freed. A batch's
        # writes and their results all live until it ends and are freed together right after,
        # so a collection in between would only examine, and promote, objects about to die
        # (under load, about one collection per commit). It waits until the batch is gone.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._commit(batch)
            batch.clear()
        finally:
            if collecting:
                gc.enable()

    def _commit(self, batch: list[_Entry]) -> None:
        try:
            results = self._run(batch)
        except Exception:
            for entry in batch:
                try:
                    value = self._run([entry])[0]
                except Exception as exc:  # this op's own failure, for its caller alone
                    if isinstance(exc, Conflict):  # a repeat the caller expects to be refused
                        _log.info("store.write_refused", error=str(exc))
                    else:
                        _log.error("store.write_failed", error=repr(exc))
                    settle(entry[0], exc, failed=True)
                else:
                    settle(entry[0], value, failed=False)
            return
        for entry, value in zip(batch, results, strict=True):
            settle(entry[0], value, failed=False)

    def _conversation(self, db: sqlite3.Connection, contact_id: str) -> _Conversation:
        """A conversation's last message number and senders' ids; this process is the file's only writer."""
        conv = self._convs.get(contact_id)
        if conv is None:
            if len(self._convs) > 100_000:
                self._convs.clear()
            # "seq IS NOT NULL" lets SQLite use the partial index events_seq.
            rows = db.execute(
                "SELECT seq, client_id FROM events WHERE contact_id = ? AND seq IS NOT NULL", (contact_id,)
            ).fetchall()
            conv = _Conversation(max((r[0] for r in rows), default=0), {r[1]: r[0] for r in rows if r[1]})
            self._convs[contact_id] = conv
        return conv

    def _run(self, ops: Sequence[_Entry]) -> list[Any]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            results = [entry[1](db, *entry[2:]) for entry in ops]
        except BaseException:
            self._db.execute("ROLLBACK")
            self._convs.clear()  # forget what the rolled-back batch did; reloaded from the file
            raise
        self._db.execute("COMMIT")
        self._checkpointer.last_write = time.monotonic()
        return results

    def _insert_events(self, db: sqlite3.Connection, events: Sequence[NewEvent]) -> list[HistoryEvent]:
        out = []
        for e in events:
            cur = db.execute(
                "INSERT INTO events (customer_id, contact_id, channel, kind, at, actor, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (e.customer_id, e.contact_id, e.channel, e.kind, e.at, e.actor, _json(dict(e.data))),
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
        """Insert or update a contact row; ``c`` may be the row already taken (see _contact_row)."""
        db.execute(
            "INSERT INTO contacts (id, channel, customer_id, state, created_at, enqueued_at,"
            " skills, priority, subject, agent_id, disposition, closed_at, ticket, answered_at, breached_at, left_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, state = excluded.state,"
            " enqueued_at = excluded.enqueued_at, skills = excluded.skills, priority = excluded.priority,"
            " subject = excluded.subject, agent_id = excluded.agent_id, disposition = excluded.disposition,"
            " closed_at = excluded.closed_at, ticket = excluded.ticket, answered_at = excluded.answered_at,"
            " breached_at = excluded.breached_at, left_at = excluded.left_at",
            c if isinstance(c, tuple) else _contact_row(c),
        )

    # customers and identities

    async def create_customer(self, customer: Customer) -> None:
        def op(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO customers (id, name, value, created_at) VALUES (?, ?, ?, ?)",
                    (customer.id, customer.name, customer.value, customer.created_at),
                )
                for kind, value in customer.identities:
                    db.execute(
                        "INSERT INTO identities (kind, value, customer_id) VALUES (?, ?, ?)",
                        (kind.value, value, customer.id),
                    )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"customer {customer.id} or one of its identities exists already") from exc

        await self._enqueue(op)

    async def get_customer(self, customer_id: str) -> Customer | None:
        row = self._db.execute(
            "SELECT id, name, value, created_at FROM customers WHERE id = ? AND merged_into IS NULL",
            (customer_id,),
        ).fetchone()
        if row is None:
            return None
        ids = self._db.execute(
            "SELECT kind, value FROM identities WHERE customer_id = ? ORDER BY kind, value", (customer_id,)
        ).fetchall()
        identities = [(IdentityKind(r["kind"]), r["value"]) for r in ids]
        claimed = self._db.execute(
            "SELECT kind, value FROM claims WHERE customer_id = ? ORDER BY at", (customer_id,)
        ).fetchall()
        return Customer(
            id=row["id"],
            name=row["name"],
            value=row["value"],
            created_at=row["created_at"],
            identities=identities,
            claims=[c for c in ((IdentityKind(r[0]), r[1]) for r in claimed) if c not in identities],
        )

    async def find_customer(self, kind: IdentityKind, value: str) -> str | None:
        row = self._db.execute(
            "SELECT customer_id FROM identities WHERE kind = ? AND value = ?", (kind.value, value)
        ).fetchone()
        return None if row is None else str(row[0])

    async def add_identity(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None:
        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR IGNORE INTO identities (kind, value, customer_id) VALUES (?, ?, ?)",
                (kind.value, value, customer_id),
            )
            self._insert_events(db, [event])

        await self._enqueue(op)

    async def merge_customers(self, keep: str, gone: str, event: NewEvent) -> None:
        def op(db: sqlite3.Connection) -> None:
            for table in ("identities", "contacts", "events"):
                db.execute(f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?", (keep, gone))  # noqa: S608
            db.execute("UPDATE OR IGNORE claims SET customer_id = ? WHERE customer_id = ?", (keep, gone))
            db.execute("DELETE FROM claims WHERE customer_id = ?", (gone,))
            db.execute("UPDATE sessions SET subject_id = ? WHERE kind = 'customer' AND subject_id = ?", (keep, gone))
            db.execute(
                "UPDATE customers SET value = MAX(value, (SELECT value FROM customers WHERE id = ?)) WHERE id = ?",
                (gone, keep),
            )
            db.execute("UPDATE customers SET merged_into = ? WHERE id = ?", (keep, gone))
            self._insert_events(db, [event])

        await self._enqueue(op)

    async def add_claim(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None:
        """Note what the customer said of itself, unproven; a claim said again is kept once."""

        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR IGNORE INTO claims (customer_id, kind, value, at) VALUES (?, ?, ?, ?)",
                (customer_id, kind.value, value, event.at),
            )
            self._insert_events(db, [event])

        await self._enqueue(op)

    async def set_customer(self, customer_id: str, *, name: str | None, value: float | None) -> None:
        def op(db: sqlite3.Connection) -> None:
            if name is not None:
                db.execute("UPDATE customers SET name = ? WHERE id = ?", (name, customer_id))
            if value is not None:
                db.execute("UPDATE customers SET value = ? WHERE id = ?", (value, customer_id))

        await self._enqueue(op)

    # contacts, messages and history

    async def record(self, contacts: Sequence[Contact], events: Sequence[NewEvent]) -> list[HistoryEvent]:
        return await self._stage(contacts, events)

    def _stage(self, contacts: Sequence[Contact], events: Sequence[NewEvent]) -> asyncio.Future[list[HistoryEvent]]:
        """Queue contact rows (as they are now) and events for the next group commit."""
        rows = [_contact_row(c) for c in contacts]
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
        if not (changes.presences or changes.mails or changes.outbound):
            return self._stage(changes.contacts, changes.events)
        rows = [_contact_row(c) for c in changes.contacts]
        statuses = [(p.status.value, p.agent_id) for p in changes.presences]
        events, mails, outbound = tuple(changes.events), changes.mails, changes.outbound
        finished = [c.id for c in changes.contacts if c.state in (ContactState.CLOSED, ContactState.ABANDONED)]

        def op(db: sqlite3.Connection) -> list[HistoryEvent]:
            for row in rows:
                self._save_contact(db, row)
            for contact_id in finished:
                self._convs.pop(contact_id, None)
            db.executemany("UPDATE users SET status = ? WHERE id = ?", statuses)
            mail_sql.write_mails(db, mails)
            mail_sql.write_outbound(db, outbound)
            return self._insert_events(db, events)

        return self._enqueue(op)

    async def current(
        self, contact_ids: Sequence[str], agent_ids: Sequence[str]
    ) -> tuple[list[Contact], list[Presence]]:
        contacts = [c for cid in contact_ids if (c := await self.get_contact(cid)) is not None]
        return contacts, []

    async def barrier(self) -> None:
        """Return once everything staged or queued so far is committed."""
        if self._pending:
            await self._enqueue(lambda db: None)

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
    ) -> asyncio.Future[tuple[HistoryEvent, bool]]:
        """Queue a message for ``contact``'s conversation, once per ``client_id``.

        The sequence number is taken in the same transaction, so messages written in
        one batch still number 1, 2, 3 in order. With ``create`` the contact row is
        inserted first (a conversation's first message). Returns the message event and
        whether it is new; a repeat changes nothing. ``contact`` itself is not touched.
        The future resolves once the message is committed.
        """
        future: asyncio.Future[tuple[HistoryEvent, bool]] = asyncio.get_running_loop().create_future()
        created_row = _contact_row(contact) if create else None
        self._queue((future, self._message_op, contact, actor, text, client_id, at, tuple(extra), created_row))
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
    ) -> tuple[HistoryEvent, bool]:
        if created_row is not None:
            self._save_contact(db, created_row)
            self._insert_events(db, extra)
            self._convs[contact.id] = _Conversation()
        conv = self._conversation(db, contact.id)
        seen = conv.clients.get(client_id)
        if seen is not None:  # this client_id was recorded before: the repeat changes nothing
            row = db.execute(
                f"SELECT {_EVENT_COLS} FROM events WHERE contact_id = ? AND seq = ?",  # noqa: S608
                (contact.id, seen),
            ).fetchone()
            return _event(row), False
        seq = conv.last_seq + 1
        data = {"text": text}
        channel = contact.channel.value
        cur = self._message_cursor  # one cursor for every message: no cursor object made per insert
        cur.execute(
            "INSERT INTO events (customer_id, contact_id, channel, kind, at, actor, data, seq, client_id)"
            " VALUES (?, ?, ?, 'message', ?, ?, ?, ?, ?)",
            (contact.customer_id, contact.id, channel, at, actor, _json(data), seq, client_id),
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

    async def get_contact(self, contact_id: str) -> Contact | None:
        row = self._db.execute(
            f"SELECT {_CONTACT_COLS} FROM contacts WHERE id = ?",  # noqa: S608
            (contact_id,),
        ).fetchone()
        return None if row is None else _contact(row)

    async def open_contacts(self) -> list[Contact]:
        marks = ", ".join("?" for _ in _OPEN)
        rows = self._db.execute(
            f"SELECT {_CONTACT_COLS} FROM contacts WHERE state IN ({marks}) ORDER BY enqueued_at",  # noqa: S608
            [s.value for s in _OPEN],
        ).fetchall()
        return [_contact(r) for r in rows]

    async def messages(self, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]:
        rows = self._db.execute(
            f"SELECT {_EVENT_COLS} FROM events WHERE contact_id = ? AND seq > ? ORDER BY seq",  # noqa: S608
            (contact_id, after_seq),
        ).fetchall()
        return [_event(r) for r in rows]

    async def last_seqs(self, contact_ids: Sequence[str]) -> dict[str, int]:
        """The last message number of each conversation asked for (0: none yet)."""
        last = dict.fromkeys(contact_ids, 0)
        for start in range(0, len(contact_ids), 500):  # SQLite's limit on bound parameters
            chunk = contact_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT contact_id, MAX(seq) FROM events WHERE contact_id IN ({marks}) AND seq IS NOT NULL"  # noqa: S608
                " GROUP BY contact_id",
                chunk,
            ).fetchall()
            last.update({row[0]: int(row[1]) for row in rows})
        return last

    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]:
        before = before_id if before_id is not None else 2**62
        rows = self._db.execute(_HISTORY, (customer_id, before, customer_id, before, limit)).fetchall()
        return [_event(r) for r in reversed(rows)]

    # email

    async def mailbox_cursor(self, mailbox: str) -> tuple[int, int] | None:
        """The mailbox's UIDVALIDITY and the highest UID recorded under it; None before its first mail."""
        return mail_sql.mailbox_cursor(self._db, mailbox)

    async def thread(self, message_ids: Sequence[str]) -> list[ThreadEntry]:
        """What each of ``message_ids`` that is known leads to, in the order asked."""
        return mail_sql.thread(self._db, message_ids)

    async def ticket_contact(self, ticket: str) -> str | None:
        """The latest contact of a ticket."""
        return mail_sql.ticket_contact(self._db, ticket)

    async def next_ticket(self) -> int:
        """A ticket number never given out before (numbers taken and not used leave gaps)."""
        result: int = await self._enqueue(mail_sql.next_ticket)
        return result

    async def mail(self, mail_id: str) -> MailRecord | None:
        return mail_sql.mail(self._db, mail_id)

    async def mails_of(self, contact_id: str, *, whole: bool = False) -> list[MailRecord]:
        """A contact's mails, received and sent, oldest first; their bytes too only if ``whole``."""
        return mail_sql.mails_of(self._db, contact_id, whole)

    async def quarantined(self, limit: int = 100) -> list[MailRecord]:
        """Fetched mails that could not be read, newest first."""
        return mail_sql.quarantined(self._db, limit)

    async def outbound_due(self, now: float, limit: int = 100) -> list[Outbound]:
        """Queued mails whose next attempt is due at ``now``, earliest first."""
        return mail_sql.outbound_due(self._db, now, limit)

    async def outbound(self, outbound_id: str) -> Outbound | None:
        return mail_sql.outbound(self._db, outbound_id)

    async def update_outbound(self, outbound: Outbound) -> None:
        """Record an attempt's outcome: state, attempts, next attempt, error, time sent."""
        await self._enqueue(partial(mail_sql.update_outbound, o=outbound))

    async def acks_to(self, address: str, since: float) -> list[float]:
        """When acknowledgements to ``address`` were queued after ``since``."""
        return mail_sql.acks_to(self._db, address, since)

    async def acks_to_domain(self, domain: str, since: float) -> list[float]:
        """When acknowledgements to addresses at ``domain`` were queued after ``since``."""
        return mail_sql.acks_to_domain(self._db, domain, since)

    async def first_responses(self, since: float, until: float) -> FirstResponses:
        """Each email contact that arrived in [since, until): its arrival and first response (NaN: none yet).

        Read through the covering partial index ``contacts_email_sla`` as plain tuples (no row objects) and
        laid into one array: half a million contacts in about half a second.
        """
        cursor = self._db.cursor()
        cursor.row_factory = None
        rows = cursor.execute(
            "SELECT created_at, IFNULL(answered_at, -1.0) FROM contacts"
            " WHERE channel = 'email' AND created_at >= ? AND created_at < ?",
            (since, until),
        ).fetchall()
        pairs = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64, count=2 * len(rows)).reshape(-1, 2)
        answered = pairs[:, 1].copy()
        answered[answered < 0] = np.nan
        return pairs[:, 0].copy(), answered

    async def close(self) -> None:
        """Write what is still queued, checkpoint and close the file; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._write_pending()  # now, not a turn later: the file closes next
        self._checkpointer.stop()
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()
