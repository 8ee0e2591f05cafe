"""The embedded store: a customer's history across its two indexes, and the write-ahead log
checkpointed when that is cheap."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sqlite3
import time
from collections.abc import AsyncIterator

import pytest

from contact_center.exceptions import Conflict
from contact_center.model import Channel, Contact, ContactState, Customer, IdentityKind
from contact_center.store import Changes, NewEvent, SqliteStore
from contact_center.store.sqlite.writer import BUSY_BATCH, _Checkpointer


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "data" / "cc.sqlite3")
    yield s
    await s.close()


async def open_chat(store: SqliteStore, customer_id: str = "ana", first: str = "halo") -> Contact:
    """A customer with an open chat whose first message is ``first`` (client id m0)."""
    await store.create_customer(
        Customer(id=customer_id, created_at=0.0, identities=[(IdentityKind.VISITOR, customer_id)])
    )
    chat = Contact(
        id="c1",
        channel=Channel.CHAT,
        customer_id=customer_id,
        state=ContactState.QUEUED,
        created_at=1.0,
        enqueued_at=1.0,
        skills=[("general", 1)],
    )
    created = NewEvent(customer_id, "c1", "chat", "contact.created", 1.0, "customer")
    await store.add_message(chat, "customer", first, "m0", 1.0, [created], create=True)
    return chat


def wal_database(path):
    """A database in WAL mode with automatic checkpoints off, as the store opens it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (x BLOB)")
    return db


def test_checkpoint_waits_for_quiet_or_a_grown_log(tmp_path):
    """No checkpoint while writes keep coming and the log is small; one after a quiet spell, or once the log passed
    half its limit, and then not again at every poll until it has grown once more."""
    path = tmp_path / "db.sqlite3"
    db = wal_database(path)
    db.execute("INSERT INTO t VALUES (zeroblob(100000))")
    checkpointer = _Checkpointer(path, limit_bytes=20_000_000, idle_s=0.3)
    try:
        checkpointer.last_write = time.monotonic()
        assert checkpointer._due() is None  # busy (a write just now) and the log is small
        time.sleep(0.35)
        assert checkpointer._due() == "idle"  # quiet for longer than idle_s
        checkpointer._done_at = time.monotonic()
        assert checkpointer._due() is None  # nothing written since the last checkpoint
        for _ in range(120):
            db.execute("INSERT INTO t VALUES (zeroblob(100000))")
        checkpointer.last_write = time.monotonic()
        assert checkpointer._due() == "grown"  # still busy, but the log passed half its limit
        checkpointer._checkpoint(db, "grown")
        checkpointer.last_write = time.monotonic()
        assert checkpointer._due() is None  # written since, but the log's file has not grown: not again
    finally:
        checkpointer.stop()
        db.close()


async def test_the_log_stays_below_its_limit_under_writes_and_is_emptied_when_quiet(tmp_path):
    """A store with a 4 MiB log limit written at 2 MB a second for 4 s (twice the limit), never quiet: the log's file
    never passes 4 MiB (3.2 MB at most here, with both cores busy too), and is emptied within seconds once the
    writes stop (it used to grow without end and stay)."""
    limit = 4 * 2**20
    store = SqliteStore(tmp_path / "cc.sqlite3", wal_limit_bytes=limit)
    wal = tmp_path / "cc.sqlite3-wal"
    await store._enqueue(lambda db: db.execute("CREATE TABLE filler (x BLOB)"))
    try:
        largest, started = 0, time.monotonic()
        while time.monotonic() - started < 4:
            await store._enqueue(lambda db: db.execute("INSERT INTO filler VALUES (randomblob(100000))"))
            largest = max(largest, wal.stat().st_size)
            await asyncio.sleep(0.05)
        assert 2**20 < largest <= limit  # it was written, and stayed below its limit
        deadline = time.monotonic() + 6
        while wal.stat().st_size > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert wal.stat().st_size == 0
    finally:
        await store.close()


def test_the_thread_checkpoints_after_writes_stop(tmp_path):
    """Left alone, the checkpointer copies the log into the database file."""
    path = tmp_path / "db.sqlite3"
    db = wal_database(path)
    checkpointer = _Checkpointer(path, limit_bytes=64 * 2**20, idle_s=0.1)
    try:
        size_before = path.stat().st_size
        for _ in range(20):
            db.execute("INSERT INTO t VALUES (zeroblob(50000))")
        checkpointer.last_write = time.monotonic()
        deadline = time.monotonic() + 5
        while path.stat().st_size <= size_before + 500_000 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert path.stat().st_size > size_before + 500_000  # the pages are in the database file now
    finally:
        checkpointer.stop()
        db.close()


async def test_history_interleaves_messages_and_other_events_and_pages(store: SqliteStore):
    """A customer's history holds its messages and other events in order, pages by id, and follows a merge."""
    await store.create_customer(Customer(id="dup", created_at=0.0, identities=[(IdentityKind.VISITOR, "dup")]))
    chat = await open_chat(store)
    await store.record((), [NewEvent("ana", None, "web", "page_view", 2.0, "customer", {"url": "https://x.test/"})])
    await store.add_message(chat, "agent:a", "selamat siang", "r1", 3.0)
    await store.record((), [NewEvent("dup", None, "web", "page_view", 4.0, "customer", {"url": "https://y.test/"})])
    await store.add_message(chat, "customer", "terima kasih", "m2", 5.0)

    kinds = [(e.kind, e.seq) for e in await store.history("ana")]
    assert kinds == [("contact.created", None), ("message", 1), ("page_view", None), ("message", 2), ("message", 3)]
    newest_two = await store.history("ana", limit=2)
    assert [e.seq for e in newest_two] == [2, 3]
    older = await store.history("ana", limit=2, before_id=newest_two[0].id)
    assert [e.kind for e in older] == ["message", "page_view"]

    await store.merge_customers("dup", "ana", NewEvent("dup", None, None, "identity.merged", 6.0, "system"))
    assert await store.history("ana") == []
    merged = [(e.kind, e.at) for e in await store.history("dup")]
    assert [k for k, _ in merged].count("message") == 3
    assert [at for _, at in merged] == sorted(at for _, at in merged)
    assert merged[-1] == ("identity.merged", 6.0)


async def test_the_collector_is_back_on_after_a_failed_commit(store: SqliteStore):
    """The young-generation collector, held off while a commit runs, is on again after one that failed."""
    await store.create_customer(Customer(id="ana", created_at=0.0))
    with pytest.raises(Conflict):
        await store.create_customer(Customer(id="ana", created_at=0.0))
    assert gc.isenabled()


async def test_listeners_are_told_outside_the_context_of_whoever_queued_first(store: SqliteStore):
    """A commit's listeners never run in the context of the caller whose write opened the batch."""
    caller = contextvars.ContextVar("caller", default="none")
    chat = await open_chat(store)
    seen: list[str] = []

    def first_writer() -> None:
        caller.set("unit-of-work")  # like the engine's outbox, or a socket's bound log ids
        store.commit(Changes(events=(NewEvent("ana", None, None, "note", 2.0, "system"),)))

    contextvars.copy_context().run(first_writer)
    store.post_message(chat, "customer", "satu", "m1", 3.0, lambda outcome: seen.append(caller.get()))
    await store.barrier()
    assert seen == ["none"]


async def test_after_a_large_commit_the_next_waits_a_turn_for_more(store: SqliteStore):
    """Once a commit held BUSY_BATCH writes or more, writes of the next two loop turns share one commit."""
    await asyncio.gather(*(store.create_customer(Customer(id=f"c{i}", created_at=0.0)) for i in range(BUSY_BATCH)))
    assert store._last_batch == BUSY_BATCH  # one commit held them all
    first = asyncio.ensure_future(store.create_customer(Customer(id="x", created_at=0.0)))
    await asyncio.sleep(0)  # a turn of the loop: without the wait, "x" would be committed alone now
    second = asyncio.ensure_future(store.create_customer(Customer(id="y", created_at=0.0)))
    await asyncio.gather(first, second)
    assert store._last_batch == 2  # both in one commit
    await store.create_customer(Customer(id="z", created_at=0.0))
    assert store._last_batch == 1  # after a small commit nothing waits
    assert (await store.get_customer("y")) is not None


async def test_close_writes_what_is_queued_even_while_a_commit_waits_a_turn(tmp_path):
    """Closing right after a large commit still writes the write queued behind it, before the file closes."""
    path = tmp_path / "data" / "cc.sqlite3"
    store = SqliteStore(path)
    await asyncio.gather(*(store.create_customer(Customer(id=f"c{i}", created_at=0.0)) for i in range(BUSY_BATCH)))
    last = asyncio.ensure_future(store.create_customer(Customer(id="last", created_at=0.0)))
    await asyncio.sleep(0)  # queued; its commit now waits a turn of the loop
    await store.close()
    await last
    again = SqliteStore(path)
    try:
        assert await again.get_customer("last") is not None
    finally:
        await again.close()


async def test_a_file_from_before_email_opens_with_its_contacts_whole(tmp_path):
    """A database written before contacts had tickets and first responses gains the columns, rows intact."""
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE contacts (
            id TEXT PRIMARY KEY, channel TEXT NOT NULL, customer_id TEXT NOT NULL, state TEXT NOT NULL,
            created_at REAL NOT NULL, enqueued_at REAL NOT NULL, skills TEXT NOT NULL,
            priority INTEGER NOT NULL, subject TEXT NOT NULL, agent_id TEXT, disposition TEXT, closed_at REAL);
        INSERT INTO contacts VALUES ('c1', 'chat', 'ana', 'queued', 1.0, 1.0, '[["general", 1]]', 0, '', NULL,
            NULL, NULL);
        """
    )
    db.close()
    store = SqliteStore(path)
    try:
        contact = await store.get_contact("c1")
        assert contact is not None and (contact.ticket, contact.answered_at, contact.breached_at) == ("", None, None)
        assert contact.left_at is None and (contact.due_at, contact.details) == (None, {})
        assert [c.id for c in await store.open_contacts()] == ["c1"]
    finally:
        await store.close()


async def test_a_file_from_before_customers_could_leave_a_held_chat_gains_the_column(store: SqliteStore, tmp_path):
    """A database without contacts.left_at opens, and keeps when a customer left from then on."""
    contact = await open_chat(store)
    await store.close()
    path = tmp_path / "data" / "cc.sqlite3"
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE contacts DROP COLUMN left_at")
    db.commit()
    db.close()
    again = SqliteStore(path)
    try:
        contact.left_at = 42.0
        await again.record([contact], [])
        assert (await again.get_contact(contact.id)).left_at == 42.0  # type: ignore[union-attr]
    finally:
        await again.close()


async def test_a_file_from_before_scheduled_contacts_gains_their_columns(store: SqliteStore, tmp_path):
    """A database without contacts.due_at and details opens, and keeps a scheduled contact's from then on."""
    contact = await open_chat(store)
    await store.close()
    path = tmp_path / "data" / "cc.sqlite3"
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE contacts DROP COLUMN due_at")
    db.execute("ALTER TABLE contacts DROP COLUMN details")
    db.commit()
    db.close()
    again = SqliteStore(path)
    try:
        contact.due_at, contact.details = 99.0, {"phone": "+6281234567890", "tries": 1}
        await again.record([contact], [])
        found = await again.get_contact(contact.id)
        assert found is not None and (found.due_at, found.details) == (99.0, {"phone": "+6281234567890", "tries": 1})
    finally:
        await again.close()
