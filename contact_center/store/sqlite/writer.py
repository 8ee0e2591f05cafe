"""The embedded store's writer: one SQLite file, and the group commit every write goes through.

The database runs in write-ahead-log mode with ``synchronous=NORMAL``: a committed
transaction survives the engine being killed (SIGKILL) at any moment; only a crash of
the operating system itself may lose the last transactions. Statements are short and
run on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import structlog

from contact_center.collector import collector_held
from contact_center.exceptions import Conflict
from contact_center.store.base import settle
from contact_center.store.sqlite.codec import (
    Conversation,
)
from contact_center.store.sqlite.schema import prepare

__all__ = ["BUSY_BATCH", "Entry", "SqliteWriter"]


_log = structlog.get_logger("contact_center.store")

T = TypeVar("T")


BUSY_BATCH = 64  # writes in the last commit from which the next waits a turn of the loop (see _flush)


Entry = tuple[Any, ...]  # a queued write: (sink, op, *args), see SqliteStore._queue


_COPY_TRIES = 4


class _Checkpointer:
    """Moves the write-ahead log into the database file, on its own thread, when it is cheap, and keeps the log
    within ``limit_bytes``.

    A checkpoint copies the log's pages into the file and fsyncs it; done while the engine
    is busy, that I/O stalls the engine's own commits (measured: p99 ingest-to-offer rose from
    about 4 ms to 12-24 ms with a checkpoint every second). So it runs once writes have been
    quiet for ``idle_s``, or under sustained load when the log has grown past half its limit
    since the last one. Passive checkpoints never block the writer; the engine's connection has
    automatic checkpoints off.

    A log fully copied starts again from its beginning at the next commit, and SQLite then cuts
    the file back to ``journal_size_limit`` (half the limit): so under load the log's file stays
    near half its limit and below the limit. Quiet, it is truncated to nothing.
    """

    def __init__(self, path: Path, limit_bytes: int, idle_s: float = 2.0) -> None:
        self._path = path
        self._wal = path.with_name(path.name + "-wal")
        self._idle_s = idle_s
        self._grown_bytes = limit_bytes // 2  # a checkpoint under load once the log's file is past this
        self.last_write = time.monotonic()  # set by the writer after each commit
        self._done_at = self.last_write
        self._size_then = 0  # the log's size at the last checkpoint
        self.checkpoints = 0  # how many ran (for the soak benchmark and the tests)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _size(self) -> int:
        try:
            return self._wal.stat().st_size
        except FileNotFoundError:
            return 0

    def _due(self) -> str | None:
        """``"idle"``, ``"grown"`` or None: whether a checkpoint is due now, and why."""
        written = self.last_write
        if written <= self._done_at:
            return None
        if time.monotonic() - written >= self._idle_s:
            return "idle"
        size = self._size()  # grown past half the limit, and since the last checkpoint: not at every poll
        if size < self._size_then:  # cut back since: the log started again from its beginning
            self._size_then = min(size, self._grown_bytes)
        return "grown" if size > self._grown_bytes and size > self._size_then else None

    def _run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None)
        try:
            while not self._stopping.wait(0.5):
                why = self._due()
                if why is not None:
                    self._checkpoint(db, why)
        finally:
            db.close()

    def _checkpoint(self, db: sqlite3.Connection, why: str) -> None:
        self._done_at = time.monotonic()
        for _ in range(_COPY_TRIES):  # what was written during a pass is copied by the next, a shorter one
            busy, logged, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if busy or logged == copied:  # all copied: the next commit starts the log again, its file cut back
                break
        if why == "idle" and not busy and logged == copied:  # all copied, nobody writing: the file to nothing
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._size_then = self._size()
        self.checkpoints += 1

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


class SqliteWriter:
    """The file, and the group commit every write of the embedded store goes through."""

    shared = False

    def __init__(self, path: Path, wal_limit_bytes: int = 64 * 1024 * 1024) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Checkpoints (copying the log into the file, with an fsync) run on a thread of their
        # own, so a commit never waits for one; see _Checkpointer.
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        # A log copied whole starts again from its beginning; then its file is cut back to this (see _Checkpointer).
        self._db.execute(f"PRAGMA journal_size_limit={int(wal_limit_bytes) // 2}")
        self._db.execute("PRAGMA foreign_keys=ON")
        prepare(self._db)
        self._pending: list[Entry] = []
        self._message_cursor = self._db.cursor()
        self._flush_scheduled = False
        self._closed = False
        self._last_batch = 0
        self._waited = False
        self._convs: dict[str, Conversation] = {}  # open conversations, as the writer knows them
        self._checkpointer = _Checkpointer(path, wal_limit_bytes)

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

    def _queue(self, entry: Entry) -> None:
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
        # A batch's writes and their results all live until it ends and are freed together right
        # after (under load, a collection in between came about once per commit): see collector_held.
        with collector_held():
            self._commit(batch)
            batch.clear()

    def _commit(self, batch: list[Entry]) -> None:
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

    def _run(self, ops: Sequence[Entry]) -> list[Any]:
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

    async def barrier(self) -> None:
        """Return once everything staged or queued so far is committed."""
        if self._pending:
            await self._enqueue(lambda db: None)

    async def close(self) -> None:
        """Write what is still queued, checkpoint and close the file; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._write_pending()  # now, not a turn later: the file closes next
        self._checkpointer.stop()
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()
