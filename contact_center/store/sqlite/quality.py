"""The embedded store's reviews of conversations (quality monitoring): one per contact, the latest."""

from __future__ import annotations

import sqlite3

import orjson

from contact_center.quality import Review
from contact_center.store.sqlite.writer import SqliteWriter

__all__ = ["SqliteQuality"]


class SqliteQuality(SqliteWriter):
    """The ``reviews`` table."""

    async def put_review(self, review: Review) -> None:
        data = orjson.dumps(review.to_json()).decode()

        def op(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO reviews (contact_id, agent_id, at, data) VALUES (?, ?, ?, ?)",
                (review.contact_id, review.agent_id, review.at, data),
            )

        await self._enqueue(op)

    async def review_of(self, contact_id: str) -> Review | None:
        row = self._db.execute("SELECT data FROM reviews WHERE contact_id = ?", (contact_id,)).fetchone()
        return None if row is None else Review.from_json(orjson.loads(row[0]))

    async def reviews_of(self, agent_id: str, limit: int = 50) -> list[Review]:
        rows = self._db.execute(
            "SELECT data FROM reviews WHERE agent_id = ? ORDER BY at DESC LIMIT ?", (agent_id, limit)
        ).fetchall()
        return [Review.from_json(orjson.loads(r[0])) for r in rows]

    async def reviews(self, since: float, until: float) -> list[Review]:
        rows = self._db.execute(
            "SELECT data FROM reviews WHERE at >= ? AND at < ? ORDER BY at", (since, until)
        ).fetchall()
        return [Review.from_json(orjson.loads(r[0])) for r in rows]
