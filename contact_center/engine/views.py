"""The JSON views of the records that the desk and the REST API show: a contact, an offer, an agent's desk.

One place builds each shape, from the records alone; nothing here does I/O.
"""

from __future__ import annotations

from typing import Any

from contact_center.config import Config
from contact_center.engine.state import AgentRuntime
from contact_center.model import Channel, Contact, Offer

__all__ = ["agent_view", "contact_json", "offer_json"]


def contact_json(contact: Contact, config: Config) -> dict[str, Any]:
    return {
        "id": contact.id,
        "channel": contact.channel.value,
        "customer_id": contact.customer_id,
        "state": contact.state.value,
        "created_at": contact.created_at,
        "enqueued_at": contact.enqueued_at,
        "subject": contact.subject,
        "skills": [list(s) for s in contact.skills],
        "priority": contact.priority,
        "agent_id": contact.agent_id,
        "disposition": contact.disposition,
        "last_seq": contact.last_seq,
        "left_at": contact.left_at,
        **(_email_json(contact, config) if contact.channel == Channel.EMAIL else {}),
    }


def _email_json(contact: Contact, config: Config) -> dict[str, Any]:
    calendar, promise = config.sla.calendar, config.email.promise
    return {
        "ticket": contact.ticket,
        "due_at": promise.due(calendar, contact.created_at),
        "answered_at": contact.answered_at,
        "breached_at": contact.breached_at,
    }


def offer_json(offer: Offer, contact: Contact, config: Config) -> dict[str, Any]:
    return {
        "type": "offer",
        "offer_id": offer.id,
        "contact": contact_json(contact, config),
        "expires_at": offer.expires_at,
        "timeout_s": offer.expires_at - offer.created_at,
    }


def agent_view(rt: AgentRuntime, contacts: dict[str, Contact], config: Config) -> dict[str, Any]:
    """What an agent's desk shows on connecting: the account, its open offers, what it holds."""
    return {
        "agent": {
            "id": rt.agent.id,
            "username": rt.agent.username,
            "name": rt.agent.display_name,
            "role": rt.agent.role.value,
            "status": rt.presence.status.value,
            "skills": rt.agent.skills,
            "capacity": rt.agent.capacity,
        },
        "offers": [offer_json(o, contacts[o.contact_id], config) for o in rt.offers.values()],
        "contacts": sorted(rt.held),
        "dispositions": list(config.desk.dispositions),
    }
