"""The JSON both sockets (and the REST API) send: built here, once, from the core's events and records.

The core publishes frozen events (:mod:`contact_center.events`) and returns records; this is
where each gets the shape a client sees. An event's JSON is its ``type`` and its fields, except
where a record needs a view of its own: an offer (with its contact), a message (as a line of the
conversation). A contact's JSON has the fields of its channel's own that the channel registered
(for an email, its ticket and when the promise falls due).
"""

from __future__ import annotations

from typing import Any

from contact_center import events
from contact_center.channel_kinds import ChannelKinds
from contact_center.config import Config
from contact_center.engine.transfers import transfer_skills
from contact_center.engine.views import DeskView, FloorView
from contact_center.model import Contact, Customer, HistoryEvent, Offer
from contact_center.records import event_record
from routing.priority import value_band

__all__ = ["Wire", "event_json", "json_of", "message_json"]


def message_json(e: HistoryEvent) -> dict[str, Any]:
    """A conversation message as both sockets show it (``type: message``), with the files it carries, if any."""
    data = e.data
    shown = {
        "type": "message",
        "contact_id": e.contact_id,
        "seq": e.seq,
        "from": e.actor,
        "text": data.get("text", ""),
        "at": e.at,
        "client_id": e.client_id,
    }
    if "files" in data:
        shown["files"] = data["files"]
    return shown


def event_json(e: HistoryEvent) -> dict[str, Any]:
    """A history event, as the history panel and the REST API show it: its record, but the sender's client id."""
    shown = event_record(e)
    del shown["client_id"]
    return shown


def json_of(event: events.Event) -> dict[str, Any]:
    """An event as a socket sends it, for every event but an offer (which needs the deployment's promise)."""
    if isinstance(event, events.MessagePosted):
        return message_json(event.message)
    if isinstance(event, events.Offered):
        raise TypeError("an offer's JSON is Wire.offer's")
    if isinstance(event, events.HistoryAdded):
        return {"type": event.kind, "event": event_json(event.event)}
    if isinstance(event, events.ChannelNews):
        return event.message
    data = events.encode(event)
    if isinstance(event, events.ContactStateChanged) and event.wrap_up_s is None:
        del data["wrap_up_s"]
    return data


class Wire:
    """The JSON of events and records, for one deployment (its channels, its dispositions)."""

    def __init__(self, config: Config, kinds: ChannelKinds) -> None:
        self._config = config
        self._kinds = kinds

    def json(self, event: events.Event) -> dict[str, Any]:
        """An event as a socket sends it."""
        if isinstance(event, events.Offered):
            return self.offer(event.offer, event.contact)
        return json_of(event)

    def value_band(self, value: float) -> dict[str, Any]:
        """The band of a customer's value, by number (0: lowest) and by its configured names."""
        level = value_band(value, self._config.routing.policy.value_bands)
        return {"level": level, "name": dict(self._config.desk.value_band_names[level])}

    def customer(self, customer: Customer) -> dict[str, Any]:
        """A customer as the desk shows it: proven identities, what the customer only claimed, the value band."""
        return {
            "id": customer.id,
            "name": customer.name,
            "value": customer.value,
            "value_band": self.value_band(customer.value),
            "identities": [[k.value, v] for k, v in customer.identities],
            "claims": [[k.value, v] for k, v in customer.claims],
        }

    def contact(self, contact: Contact) -> dict[str, Any]:
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
            "value_band": self.value_band(contact.value),
            **self._kinds.payload(contact),  # the channel's own fields (an email's ticket and promise)
        }

    def offer(self, offer: Offer, contact: Contact) -> dict[str, Any]:
        return {
            "type": "offer",
            "offer_id": offer.id,
            "contact": self.contact(contact),
            "expires_at": offer.expires_at,
            "timeout_s": offer.expires_at - offer.created_at,
        }

    def floor(self, view: FloorView, names: dict[str, str], now: float, *, supervisor: bool) -> dict[str, Any]:
        """The floor as a desk shows it: the waiting contacts (read only); to a supervisor, every agent too.

        Agents ask for the colleagues they may transfer to when they need them (``colleagues``): a
        large floor's every change is not sent to every desk.
        """
        waiting = [
            {
                "id": w.contact.id,
                "channel": w.contact.channel.value,
                "customer_name": names.get(w.contact.customer_id, ""),
                "subject": w.contact.subject,
                "value_band": self.value_band(w.contact.value),
                "enqueued_at": w.contact.enqueued_at,
                "due_at": w.due_at,
                "at_risk": w.at_risk_at is not None and now >= w.at_risk_at,
                "breached": w.due_at is not None and now >= w.due_at,
            }
            for w in view.waiting
        ]
        floor: dict[str, Any] = {"type": "floor", "waiting": waiting, "waiting_total": view.waiting_total,
                                 "scheduled_total": view.scheduled_total}  # fmt: skip
        if not supervisor:
            return floor
        floor["agents"] = [
            {
                "id": agent.id,
                "name": agent.display_name,
                "status": presence.status.value,
                "status_reason": presence.status_reason,
                "connected": presence.connected > 0,
                "load": dict(presence.load),
                "capacity": dict(agent.capacity),
                "held": held,
            }
            for agent, presence, held in view.agents
        ]
        return floor

    def desk_view(self, view: DeskView) -> dict[str, Any]:
        """What a desk shows on connecting (``contacts``: the ids of those it holds)."""
        a = view.agent
        return {
            "agent": {
                "id": a.id,
                "username": a.username,
                "name": a.display_name,
                "role": a.role.value,
                "status": view.status.value,
                "status_reason": view.status_reason,
                "skills": a.skills,
                "capacity": a.capacity,
            },
            "offers": [self.offer(o, c) for o, c in view.offers],
            "contacts": list(view.held),
            "dispositions": list(self._config.desk.dispositions),
            "office": {"time_zone": self._config.sla.time_zone},  # the desk shows times in the office's zone
            "transfer_skills": transfer_skills(self._config),
        }
