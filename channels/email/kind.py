"""Email as the core sees it: the promise's deadline in working hours, and what a desk shows of a ticket."""

from __future__ import annotations

from typing import Any

from contact_center.channel_kinds import ChannelKind, Deadlines
from contact_center.config import EmailConfig
from contact_center.model import Channel, Contact
from contact_center.sla import BusinessCalendar

__all__ = ["email_kind"]


def email_kind(config: EmailConfig, calendar: BusinessCalendar) -> ChannelKind:
    """Due when the promise says (working hours from arrival) until answered; then the promise is kept or not."""
    promise = config.promise

    def service_level(contact: Contact) -> Deadlines:
        if contact.answered_at is not None:
            return None, None
        return promise.due(calendar, contact.created_at), promise.at_risk(calendar, contact.created_at)

    def payload(contact: Contact) -> dict[str, Any]:
        return {
            "ticket": contact.ticket,
            "due_at": promise.due(calendar, contact.created_at),
            "answered_at": contact.answered_at,
            "breached_at": contact.breached_at,
        }

    return ChannelKind(Channel.EMAIL, service_level, payload, watched=True)
