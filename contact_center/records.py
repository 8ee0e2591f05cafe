"""Contacts, presences and history events as plain JSON-ready dicts: the one codec of each record.

The Redis store keeps each record in this form; the embedded store keeps the fields it needs as
columns named like the record's keys (``store/sqlite/codec.py`` only projects); a committed change
is announced to the other nodes in it (:mod:`contact_center.events`). Reading tolerates missing
keys, so records written before a field existed still load.
"""

from __future__ import annotations

from typing import Any

from contact_center.model import (
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    HistoryEvent,
    Offer,
    OfferState,
    Presence,
)

__all__ = [
    "contact_from_record",
    "contact_record",
    "event_from_record",
    "event_record",
    "presence_from_record",
    "presence_record",
]


def contact_record(c: Contact) -> dict[str, Any]:
    offer = c.offer
    return {
        "id": c.id,
        "channel": c.channel.value,
        "customer_id": c.customer_id,
        "state": c.state.value,
        "created_at": c.created_at,
        "enqueued_at": c.enqueued_at,
        "skills": c.skills,
        "priority": c.priority,
        "subject": c.subject,
        "agent_id": c.agent_id,
        "disposition": c.disposition,
        "closed_at": c.closed_at,
        "last_seq": c.last_seq,
        "value": c.value,
        "offer": None
        if offer is None
        else [offer.id, offer.agent_id, offer.created_at, offer.expires_at, offer.state.value, offer.level],
        "declined": c.declined,
        "wrap_until": c.wrap_until,
        "version": c.version,
        "node": c.node,
        "ticket": c.ticket,
        "answered_at": c.answered_at,
        "breached_at": c.breached_at,
        "left_at": c.left_at,
        "customer_node": c.customer_node,
        "gone_at": c.gone_at,
        "rating": c.rating,
        "due_at": c.due_at,
        "details": c.details,
        "accepted_at": c.accepted_at,
    }


def contact_from_record(d: dict[str, Any]) -> Contact:
    raw = d.get("offer")
    offer = None
    if raw:
        offer_id, agent_id, created_at, expires_at, state, level = raw
        offer = Offer(offer_id, d["id"], agent_id, created_at, expires_at, OfferState(state), level)
    return Contact(
        id=d["id"],
        channel=Channel(d["channel"]),
        customer_id=d["customer_id"],
        state=ContactState(d["state"]),
        created_at=d["created_at"],
        enqueued_at=d["enqueued_at"],
        skills=[(s, int(n)) for s, n in d["skills"]],
        priority=d.get("priority", 0),
        subject=d.get("subject", ""),
        agent_id=d.get("agent_id"),
        disposition=d.get("disposition"),
        closed_at=d.get("closed_at"),
        last_seq=d.get("last_seq", 0),
        value=d.get("value", 0.0),
        offer=offer,
        declined=tuple(d.get("declined", ())),
        wrap_until=d.get("wrap_until"),
        version=d.get("version", 0),
        node=d.get("node", ""),
        ticket=d.get("ticket", ""),
        answered_at=d.get("answered_at"),
        breached_at=d.get("breached_at"),
        left_at=d.get("left_at"),
        customer_node=d.get("customer_node", ""),
        gone_at=d.get("gone_at"),
        rating=d.get("rating"),
        due_at=d.get("due_at"),
        details=dict(d.get("details") or {}),
        accepted_at=d.get("accepted_at"),
    )


def presence_record(p: Presence) -> dict[str, Any]:
    return {
        "agent_id": p.agent_id,
        "status": p.status.value,
        "connections": p.connections,
        "load": p.load,
        "idle_since": p.idle_since,
        "grace_until": p.grace_until,
        "version": p.version,
        "node": p.node,
        "status_reason": p.status_reason,
        "status_since": p.status_since,
    }


def presence_from_record(d: dict[str, Any]) -> Presence:
    return Presence(
        agent_id=d["agent_id"],
        status=AgentStatus(d["status"]),
        connections={node: int(n) for node, n in d.get("connections", {}).items() if n},
        load={channel: int(n) for channel, n in d.get("load", {}).items() if n},
        idle_since=d.get("idle_since", 0.0),
        grace_until=d.get("grace_until"),
        version=d.get("version", 0),
        node=d.get("node", ""),
        status_reason=d.get("status_reason", ""),
        status_since=d.get("status_since", 0.0),
    )


def event_record(e: HistoryEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "customer_id": e.customer_id,
        "contact_id": e.contact_id,
        "channel": e.channel,
        "kind": e.kind,
        "at": e.at,
        "actor": e.actor,
        "data": dict(e.data),
        "seq": e.seq,
        "client_id": e.client_id,
    }


def event_from_record(d: dict[str, Any]) -> HistoryEvent:
    return HistoryEvent(
        id=d["id"],
        customer_id=d["customer_id"],
        contact_id=d.get("contact_id"),
        channel=d.get("channel"),
        kind=d["kind"],
        at=d["at"],
        actor=d["actor"],
        data=d.get("data", {}),
        seq=d.get("seq"),
        client_id=d.get("client_id"),
    )
