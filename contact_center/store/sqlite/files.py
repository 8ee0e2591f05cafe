"""The embedded store's files: what customers sent in chats, kept whole."""

from __future__ import annotations

import sqlite3

from contact_center.exceptions import Conflict
from contact_center.files import ChatFile
from contact_center.store.sqlite.writer import SqliteWriter

__all__ = ["SqliteFiles"]


class SqliteFiles(SqliteWriter):
    """Files in the ``files`` table."""

    async def put_file(self, file: ChatFile) -> None:
        assert file.data is not None

        def op(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO files (id, customer_id, filename, content_type, size, at, data)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (file.id, file.customer_id, file.filename, file.content_type, file.size, file.at, file.data),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"file {file.id} exists already") from exc

        await self._enqueue(op)

    async def chat_file(self, file_id: str, *, whole: bool = False) -> ChatFile | None:
        """A file by its id; its bytes only when ``whole``."""
        data = ", data" if whole else ""
        row = self._db.execute(
            f"SELECT id, customer_id, filename, content_type, size, at{data} FROM files WHERE id = ?",  # noqa: S608
            (file_id,),
        ).fetchone()
        if row is None:
            return None
        return ChatFile(row[0], row[1], row[2], row[3], int(row[4]), float(row[5]), bytes(row[6]) if whole else None)
