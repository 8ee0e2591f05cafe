"""The callback channel as the core sees it: when a waiting callback is due, and what a desk shows of one."""

from __future__ import annotations

from typing import Any

from contact_center.channel_kinds import ChannelKind, Deadlines
from contact_center.config import CallbackConfig
from contact_center.model import Channel, Contact

__all__ = ["callback_kind", "tel_link"]


def tel_link(number: str) -> str:
    """The ``tel:`` URI an agent's own phone dials (RFC 3966: the E.164 number as it is)."""
    return f"tel:{number}"


def callback_kind(config: CallbackConfig) -> ChannelKind:
    """A booked callback is due at its slot's start (offered ``lead_s`` before); one asked for as soon as
    possible ``service_level_s`` after it was asked for; each at risk from ``at_risk_fraction`` of that."""

    def service_level(contact: Contact) -> Deadlines:
        slot = contact.details.get("slot")
        if isinstance(slot, int | float):
            return float(slot), float(slot) - config.lead_s
        target = config.service_level_s
        return contact.enqueued_at + target, contact.enqueued_at + target * config.at_risk_fraction

    def payload(contact: Contact) -> dict[str, Any]:
        d = contact.details
        phone = str(d.get("phone", ""))
        return {
            "phone": phone,
            "tel": tel_link(phone) if phone else None,
            "queue_number": d.get("queue_number"),
            "slot": d.get("slot"),
            "failed": d.get("failed", 0),
            "attempts": config.attempts,
            "language": d.get("language"),
        }

    return ChannelKind(Channel.CALLBACK, service_level, payload, pace_window_s=config.wait_window_s)
