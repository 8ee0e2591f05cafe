"""The embedded store's part of the replies: the team's dictionary, and the replies agents used."""

from __future__ import annotations

import sqlite3

from contact_center.exceptions import Conflict
from contact_center.store.base import ReplyUse, ReplyVersion
from contact_center.store.sqlite.writer import SqliteWriter

__all__ = ["SqliteReplies"]


class SqliteReplies(SqliteWriter):
    """The ``team_words``, ``reply_uses`` and ``reply_versions`` tables."""

    async def add_word(self, word: str, agent_id: str, at: float) -> bool:
        def op(db: sqlite3.Connection) -> bool:
            added = db.execute(
                "INSERT OR IGNORE INTO team_words (word, added_by, added_at) VALUES (?, ?, ?)", (word, agent_id, at)
            )
            return added.rowcount == 1

        return await self._enqueue(op)

    async def remove_word(self, word: str) -> bool:
        def op(db: sqlite3.Connection) -> bool:
            return db.execute("DELETE FROM team_words WHERE word = ?", (word,)).rowcount == 1

        return await self._enqueue(op)

    async def team_words(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT word FROM team_words ORDER BY word")]

    async def record_reply_use(self, use: ReplyUse) -> None:
        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO reply_uses (reply_id, agent_id, contact_id, message, language, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (use.reply_id, use.agent_id, use.contact_id, use.message, use.language, use.at),
            )

        await self._enqueue(op)

    async def learned_phrasings(self, limit: int) -> list[tuple[str, str]]:
        rows = self._db.execute(
            "SELECT reply_id, message FROM reply_uses WHERE message != '' ORDER BY n DESC LIMIT ?", (limit,)
        ).fetchall()
        return [(row[0], row[1]) for row in reversed(rows)]

    async def reply_uses(self, since: float, until: float) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT reply_id, count(*) FROM reply_uses WHERE at >= ? AND at < ? GROUP BY reply_id", (since, until)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def add_reply_version(self, version: ReplyVersion) -> None:
        def op(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO reply_versions (reply_id, n, author, at, source) VALUES (?, ?, ?, ?, ?)",
                    (version.reply_id, version.n, version.author, version.at, version.source),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"reply {version.reply_id} has a version {version.n} already") from exc

        await self._enqueue(op)

    async def reply_history(self, reply_id: str) -> list[ReplyVersion]:
        rows = self._db.execute(
            "SELECT reply_id, n, author, at, source FROM reply_versions WHERE reply_id = ? ORDER BY n", (reply_id,)
        )
        return [ReplyVersion(r[0], int(r[1]), r[2], float(r[3]), r[4]) for r in rows]

    async def latest_reply_versions(self) -> dict[str, ReplyVersion]:
        rows = self._db.execute(
            "SELECT v.reply_id, v.n, v.author, v.at, v.source FROM reply_versions v"
            " JOIN (SELECT reply_id, max(n) AS n FROM reply_versions GROUP BY reply_id) m"
            " ON v.reply_id = m.reply_id AND v.n = m.n"
        )
        return {r[0]: ReplyVersion(r[0], int(r[1]), r[2], float(r[3]), r[4]) for r in rows}
