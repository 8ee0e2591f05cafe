"""How the Redis store writes a record and reads it back: contacts, customers, presences, events, mails.

A contact, a presence and a history event are kept as the JSON of their record
(:mod:`contact_center.records`, the codec the SQLite store and the bus share); the rest of a hash is
what Redis indexes by, and an event's id, number and customer are in its key and its place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from contact_center.contact_facts import slot_of
from contact_center.mail import MailRecord
from contact_center.model import (
    OPEN_STATES,
    Channel,
    Contact,
    Customer,
    HistoryEvent,
    IdentityKind,
    Presence,
)
from contact_center.records import (
    contact_from_record,
    contact_record,
    event_from_record,
    event_record,
    presence_from_record,
)
from contact_center.store.base import NewEvent
from contact_center.store.redis.keys import ms as _ms

__all__ = [
    "Row",
    "contact_from_hash",
    "customer_from_hash",
    "event_json",
    "facts_of_row",
    "identity_of",
    "mail_from_hash",
    "month_of",
    "presence_from_hash",
    "rating_of",
    "row_of",
    "sla_of",
    "status_change",
    "stored_event",
    "stored_json",
]

# What an event's key and place say, so its stored JSON leaves them out.
_IMPLIED = frozenset({"id", "customer_id", "seq"})


def mail_from_hash(h: dict[bytes, bytes]) -> MailRecord:
    meta = orjson.loads(h[b"meta"])
    blobs = [h.get(f"p:{i}".encode()) for i in range(len(meta["attachments"]))]
    return MailRecord.from_meta(meta, h[b"raw"], blobs)


def event_json(e: NewEvent) -> str:
    """An event's stored JSON: everything but its id, sequence number and customer (which the key says)."""
    return stored_json(e.contact_id, e.channel, e.kind, e.at, e.actor, dict(e.data), None)


def stored_json(
    contact_id: str | None, channel: str | None, kind: str, at: float, actor: str, data: Any, client_id: str | None
) -> str:

    record = event_record(HistoryEvent(0, "", contact_id, channel, kind, at, actor, data, None, client_id))
    return orjson.dumps({k: v for k, v in record.items() if k not in _IMPLIED}).decode()


def stored_event(stored: str, customer_id: str) -> HistoryEvent:
    """Read ``{id}:{seq}:{json}`` back into an event of ``customer_id``."""
    event_id, seq, body = stored.split(":", 2)
    implied = {"id": int(event_id), "customer_id": customer_id, "seq": int(seq) if seq else None}
    return event_from_record({**orjson.loads(body), **implied})


@dataclass(frozen=True, slots=True)
class Row:
    """A contact as it is written: taken when the write is asked for, not when it runs."""

    id: str
    customer_id: str
    open: bool
    enqueued_at: float
    version: int
    record: dict[str, Any]
    json: str


def row_of(c: Contact) -> Row:
    record = contact_record(c)
    is_open = c.state in OPEN_STATES
    return Row(c.id, c.customer_id, is_open, c.enqueued_at, c.version, record, orjson.dumps(record).decode())


def sla_of(row: Row) -> list[Any] | str:
    """What the SLA clock keeps of an email contact: [arrival (ms), first response (s) or ""]; "" for others."""
    r = row.record
    if r["channel"] != Channel.EMAIL.value:
        return ""
    answered = r.get("answered_at")
    return [_ms(r["created_at"]), "" if answered is None else repr(answered)]


def month_of(at: float) -> str:
    """The UTC month an instant falls in, as the service reports' buckets name it (``year * 12 + month - 1``)."""
    t = time.gmtime(at)
    return str(t.tm_year * 12 + t.tm_mon - 1)


def facts_of_row(row: Row) -> list[Any]:
    """What the service reports keep of every contact: [the month it arrived in, its facts as JSON]."""
    r = row.record
    facts = [
        r["id"], r["channel"], row.customer_id, r["state"], r.get("agent_id") or "", r.get("disposition") or "",
        r["created_at"], r.get("accepted_at"), r.get("answered_at"), r.get("closed_at"),
        slot_of(r.get("details") or {}), r.get("rating"),
    ]  # fmt: skip
    return [month_of(r["created_at"]), orjson.dumps(facts).decode()]


def status_change(presence: dict[str, Any]) -> list[Any] | str:
    """A presence record's latest status change as the ``statuses`` index keeps it: [ms, member]; "" for none."""
    since = presence.get("status_since") or 0
    if not since:
        return ""
    return [_ms(since), f"{presence['agent_id']}|{presence['status']}|{_ms(since)}"]


def rating_of(row: Row) -> list[Any] | str:
    """What the ratings report keeps of a rated contact: [its start (ms), its score]; "" for one not rated."""
    r = row.record
    return "" if r.get("rating") is None else [_ms(r["created_at"]), int(r["rating"])]


def contact_from_hash(h: dict[str, str], last_seq: str | None) -> Contact:
    contact = contact_from_record(orjson.loads(h["record"]))
    contact.customer_id = h["customer_id"]  # a merge moves contacts to the surviving customer
    contact.version = int(h["v"])
    contact.last_seq = int(last_seq or 0)
    return contact


def identity_of(member: str) -> tuple[IdentityKind, str]:
    kind, value = member.split(":", 1)
    return IdentityKind(kind), value


def customer_from_hash(customer_id: str, h: dict[str, str], ids: set[str], claims: list[str]) -> Customer | None:
    if not h or h.get("merged_into"):
        return None
    identities = sorted(identity_of(iv) for iv in ids)
    return Customer(
        id=customer_id,
        name=h.get("name", ""),
        value=float(h.get("value", 0.0)),
        created_at=float(h.get("created_at", 0.0)),
        identities=identities,
        claims=[c for c in map(identity_of, claims) if c not in identities],
    )


def presence_from_hash(h: dict[str, str]) -> Presence:
    presence = presence_from_record(orjson.loads(h["record"]))
    presence.version = int(h["v"])
    return presence
