"""How the embedded store writes a record into its rows and reads it back: contacts, events, conversations."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from contact_center.model import (
    Channel,
    Contact,
    ContactState,
    HistoryEvent,
)

__all__ = [
    "CONTACT_COLS",
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


OPEN = (ContactState.QUEUED, ContactState.OFFERED, ContactState.ASSIGNED, ContactState.WRAP_UP)


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


def contact_of(row: sqlite3.Row) -> Contact:
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


def contact_row(c: Contact) -> tuple[Any, ...]:
    """The contact's column values now: a staged write must not see later changes to ``c``."""
    return (
        c.id,
        c.channel.value,
        c.customer_id,
        c.state.value,
        c.created_at,
        c.enqueued_at,
        json_text(c.skills),
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
class Conversation:
    """What the writer knows of an open conversation: its last message number, and the
    number each sender's ``client_id`` got, so a resend is answered with the same message."""

    last_seq: int = 0
    clients: dict[str, int] = field(default_factory=dict)
