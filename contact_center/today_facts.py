"""Today's contacts' facts, kept as they change, for the figures read every second or so (the dashboard while a
supervisor watches it, the service-level gauges of ``/metrics`` always).

The day is read from the store once; after that each contact record the node applies (its own units', other
nodes' announcements, see :meth:`contact_center.engine.Engine.follow_records`) is noted, and a reading lays what
was noted since the last one into the columns: a few rows in place, new arrivals at the end. Reading the whole day
each time had made every reading cost time and memory in proportion to the day's contacts (a soak at five new
chats a second: 80 ms and a peak of 8 MiB a reading by the first hour's end, and the engine's memory rising
about 25 MiB an hour).

The day is read whole again when it turns, when the engine says records changed without it applying them (it
read every record again, customers merged), and every :data:`RELOAD_S` as a net for what no node announced (a
merge made on another node moves that customer's finished contacts in the store alone: today's share resolved at
first contact may be off by them until then). Each whole reading costs what every reading had cost: rarely.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from contact_center.contact_facts import (
    FIELDS,
    ContactFacts,
    arrival_order,
    columns_of,
    facts_row,
    in_arrival_order,
)
from contact_center.model import Contact, ContactState
from contact_center.store.base import ReportStore

__all__ = ["RELOAD_S", "TodayFacts"]

RELOAD_S = 6 * 3600.0
_FINAL = frozenset({ContactState.CLOSED.value, ContactState.ABANDONED.value})
_STATE = FIELDS.index("state")


def _open_rows(facts: ContactFacts, first: int = 0) -> dict[str, int]:
    """Contact id -> row, of the rows from ``first`` on whose contact is not finished (those change most)."""
    rows = zip(facts.id[first:].tolist(), facts.state[first:].tolist(), strict=True)
    return {cid: first + k for k, (cid, state) in enumerate(rows) if state not in _FINAL}


class TodayFacts:
    """The facts of the contacts that arrived in one span (a day and what follows it), kept up to date."""

    def __init__(self) -> None:
        self._since = math.inf  # the span kept: [since, until); none yet
        self._until = math.inf
        self._facts = columns_of(())
        self._row: dict[str, int] = {}  # contact id -> its row in _facts, for contacts not finished
        self._noted: dict[str, tuple[Any, ...]] = {}  # rows changed since the last reading, by contact id
        self._read_at = -math.inf
        self._stale = True

    def heard(self, contact: Contact) -> None:
        """A contact record as this node applied it: laid in at the next reading (if it arrived in the span)."""
        if self._since <= contact.created_at < self._until:
            self._noted[contact.id] = facts_row(contact)

    def reread(self) -> None:
        """Records changed without passing here: the next reading reads the span whole."""
        self._stale = True

    async def facts(self, store: ReportStore, since: float, until: float, beat: float) -> ContactFacts:
        """The facts of the contacts that arrived in [since, until), in arrival order, as of now. ``beat`` is
        ``time.monotonic()``. Do not keep the result past the caller's turn: a later reading changes it in place."""
        if self._stale or (since, until) != (self._since, self._until) or beat - self._read_at >= RELOAD_S:
            await self._load(store, since, until, beat)
        elif self._noted:
            self._lay_in()
        return self._facts

    async def _load(self, store: ReportStore, since: float, until: float, beat: float) -> None:
        # Records applied while the store is read are noted (the span is set first) and laid in on top: they
        # are as new as what the read finds, or newer.
        self._since, self._until, self._stale, self._noted = since, until, False, {}
        try:
            facts = await store.contact_facts(since, until)
        except BaseException:
            self._stale = True
            raise
        self._facts, self._row = facts, _open_rows(facts)
        self._read_at = beat
        if self._noted:
            self._lay_in()

    def _lay_in(self) -> None:
        noted, self._noted = self._noted, {}
        at: list[int] = []
        known: list[tuple[Any, ...]] = []
        fresh: list[tuple[Any, ...]] = []
        for cid, row in noted.items():
            finished = row[_STATE] in _FINAL
            i = self._row.pop(cid, None) if finished else self._row.get(cid)
            if i is None and finished:  # a finished contact changed again (rated), or one that came finished
                i = self._find(cid)
            if i is None:
                fresh.append(row)
            else:
                at.append(i)
                known.append(row)
        if known:
            self._facts.put(np.array(at, dtype=np.intp), columns_of(known))
        if fresh:
            self._append(columns_of(fresh))

    def _find(self, contact_id: str) -> int | None:
        """The row of a contact no longer indexed (a look through the ids: a rating's, now and then)."""
        hits = np.flatnonzero(self._facts.id == contact_id)
        return int(hits[0]) if len(hits) else None

    def _append(self, part: ContactFacts) -> None:
        start = len(self._facts)
        joined = ContactFacts.joined((self._facts, part))
        if in_arrival_order(joined):
            self._row.update(_open_rows(joined, start))
        else:  # one arrived before the last one kept (its unit committed later): the rows in order again
            joined = joined.take(arrival_order(joined))
            self._row = _open_rows(joined)
        self._facts = joined
