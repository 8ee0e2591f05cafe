"""The embedded store's reports: the email promise's arrivals and first responses; the customers' ratings."""

from __future__ import annotations

import itertools

import numpy as np

from contact_center.collector import collector_held
from contact_center.contact_facts import FIELDS, ContactFacts, facts_of
from contact_center.store.base import STATUS_LOOKBACK_S, FirstResponses, Ratings, StatusChange
from contact_center.store.sqlite.writer import SqliteWriter

__all__ = ["SqliteReports"]

# A booked callback's hour is in its details (only callbacks' are read); a slot that is not a number is none.
_COLUMNS = ", ".join(
    "CASE WHEN channel = 'callback' THEN (CASE WHEN json_type(details, '$.slot') IN ('integer', 'real')"
    " THEN json_extract(details, '$.slot') END) END"
    if f == "slot"
    else f"IFNULL({f}, '')"
    if f in ("agent_id", "disposition")
    else f
    for f in FIELDS
)


_CHUNK_ROWS = 4096


class SqliteReports(SqliteWriter):
    """What the reports read from the file."""

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

    async def ratings(self, since: float, until: float) -> Ratings:
        """Each rated contact that started in [since, until): its start and score (1-5), by ``contacts_rated``."""
        cursor = self._db.cursor()
        cursor.row_factory = None
        rows = cursor.execute(
            "SELECT created_at, rating FROM contacts WHERE rating IS NOT NULL AND created_at >= ? AND created_at < ?",
            (since, until),
        ).fetchall()
        started = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.int8, count=len(rows))
        return started, scores

    async def contact_facts(self, since: float, until: float) -> ContactFacts:
        """Every contact that arrived in [since, until), in arrival order by the ``contacts_created`` index.

        Laid out in columns a few thousand rows at a time: the dashboard reads the whole day every few
        seconds, and all of its rows at once (a tuple, its texts and its floats each) made the memory of
        the engine rise with the day's contacts.
        """
        cursor = self._db.cursor()
        cursor.row_factory = None
        parts: list[ContactFacts] = []
        with collector_held():  # a tuple per row, all dropped once laid out in columns
            cursor.execute(
                f"SELECT {_COLUMNS} FROM contacts WHERE created_at >= ? AND created_at < ?"  # noqa: S608
                " ORDER BY created_at",
                (since, until),
            )
            while rows := cursor.fetchmany(_CHUNK_ROWS):
                parts.append(facts_of(rows))
        return ContactFacts.joined(parts) if parts else facts_of(())

    async def status_changes(self, since: float, until: float) -> list[StatusChange]:
        """See :data:`~contact_center.store.base.StatusChange`; by ``agent_statuses_at``."""
        rows = self._db.execute(
            "SELECT agent_id, at, status FROM agent_statuses WHERE at >= ? AND at < ?"
            " UNION ALL"
            " SELECT agent_id, MAX(at), status FROM agent_statuses WHERE at >= ? AND at < ? GROUP BY agent_id",
            (since, until, since - STATUS_LOOKBACK_S, since),
        ).fetchall()
        return sorted((str(a), float(at), str(s)) for a, at, s in rows)
