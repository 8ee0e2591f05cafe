"""The embedded store's housekeeping: the write-ahead log is checkpointed when that is cheap."""

from __future__ import annotations

import sqlite3
import time

from contact_center.store.sqlite import _Checkpointer


def wal_database(path):
    """A database in WAL mode with automatic checkpoints off, as the store opens it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (x BLOB)")
    return db


def test_checkpoint_waits_for_quiet_or_a_large_log(tmp_path):
    """No checkpoint while writes keep coming and the log is small; one after a quiet spell or past the size cap."""
    path = tmp_path / "db.sqlite3"
    db = wal_database(path)
    db.execute("INSERT INTO t VALUES (zeroblob(100000))")
    checkpointer = _Checkpointer(path, idle_s=0.3, max_wal_bytes=10_000_000)
    try:
        checkpointer.last_write = time.monotonic()
        assert not checkpointer._due()  # busy (a write just now) and the log is small
        time.sleep(0.35)
        assert checkpointer._due()  # quiet for longer than idle_s
        checkpointer._done_at = time.monotonic()
        assert not checkpointer._due()  # nothing written since the last checkpoint
        for _ in range(120):
            db.execute("INSERT INTO t VALUES (zeroblob(100000))")
        checkpointer.last_write = time.monotonic()
        assert checkpointer._due()  # still busy, but the log passed the cap
    finally:
        checkpointer.stop()
        db.close()


def test_the_thread_checkpoints_after_writes_stop(tmp_path):
    """Left alone, the checkpointer copies the log into the database file."""
    path = tmp_path / "db.sqlite3"
    db = wal_database(path)
    checkpointer = _Checkpointer(path, idle_s=0.1)
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
