"""How the embedded store lays a record into its rows and reads it back: contacts, events, conversations.

The records themselves are :mod:`contact_center.records`' (the codec the Redis store and the bus
share); this module only says which of a record's fields are columns and which are JSON text.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from contact_center.model import OPEN_STATES, Contact, HistoryEvent
from contact_center.records import contact_from_record, contact_record, event_from_record

__all__ = [
    "CONTACT_COLS",
    "CONTACT_FIELDS",
    "EVENT_COLS",
    "HISTORY",
    "OPEN",
    "Conversation",
    "contact_of",
    "contact_row",
    "event_of",
    "json_text",
]


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


OPEN = tuple(sorted(OPEN_STATES))


CONTACT_COLS = (
    "*, (SELECT COALESCE(MAX(seq), 0) FROM events e WHERE e.contact_id = contacts.id AND e.seq IS NOT NULL) AS last_seq"
)


EVENT_COLS = "id, customer_id, contact_id, channel, kind, at, actor, data, seq, client_id"


# A customer's events, newest first: the messages of its contacts (by events_seq) and every
# other event (by events_by_customer). A merge moves both contacts and events to the survivor.
HISTORY = f"""
SELECT {EVENT_COLS} FROM events WHERE customer_id = ? AND seq IS NULL AND id < ?
UNION ALL
SELECT {EVENT_COLS} FROM events
 WHERE contact_id IN (SELECT id FROM contacts WHERE customer_id = ?) AND seq IS NOT NULL AND id < ?
ORDER BY id DESC LIMIT ?
"""  # noqa: S608


def event_of(row: sqlite3.Row) -> HistoryEvent:
    record = dict(zip(row.keys(), row, strict=True))
    record["data"] = orjson.loads(record["data"])
    return event_from_record(record)


# The fields of a contact's record (:mod:`contact_center.records`) the embedded store keeps, in
# the order of its columns, which are named like them. The rest (the offer, the agents who
# declined, the wrap-up's end, the version and the node) is what only a running engine needs: a
# restart re-queues. ``last_seq`` is counted from the events when read (CONTACT_COLS).
CONTACT_FIELDS = (
    "id",
    "channel",
    "customer_id",
    "state",
    "created_at",
    "enqueued_at",
    "skills",
    "priority",
    "subject",
    "agent_id",
    "disposition",
    "closed_at",
    "ticket",
    "answered_at",
    "breached_at",
    "left_at",
    "rating",
    "due_at",
    "details",
    "accepted_at",
)
# Fields kept as JSON text in their column.
_JSON_FIELDS = frozenset({"skills", "details"})


def contact_of(row: sqlite3.Row) -> Contact:
    record = dict(zip(row.keys(), row, strict=True))
    for name in _JSON_FIELDS:
        record[name] = orjson.loads(record[name])
    return contact_from_record(record)


def contact_row(c: Contact) -> tuple[Any, ...]:
    """The contact's column values now: a staged write must not see later changes to ``c``."""
    record = contact_record(c)
    return tuple(json_text(record[f]) if f in _JSON_FIELDS else record[f] for f in CONTACT_FIELDS)


@dataclass(slots=True)
class Conversation:
    """What the writer knows of an open conversation: its last message number, and the
    number each sender's ``client_id`` got, so a resend is answered with the same message."""

    last_seq: int = 0
    clients: dict[str, int] = field(default_factory=dict)
