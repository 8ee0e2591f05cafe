"""The call channel as the core sees it: when a waiting call is due, and what a desk shows of one."""

from __future__ import annotations

from typing import Any

from contact_center.channel_kinds import ChannelKind, Deadlines
from contact_center.config import CallConfig
from contact_center.model import Channel, Contact

__all__ = ["call_kind"]


def call_kind(config: CallConfig) -> ChannelKind:
    """A call is due ``service_level_s`` after it was placed, at risk from ``at_risk_fraction`` of that."""
    target = config.service_level_s

    def service_level(contact: Contact) -> Deadlines:
        return contact.enqueued_at + target, contact.enqueued_at + target * config.at_risk_fraction

    def payload(contact: Contact) -> dict[str, Any]:
        call = contact.details.get("call", {})
        return {
            "phase": call.get("phase", "waiting"),
            "placed_at": call.get("placed_at"),
            "connected_at": call.get("connected_at"),
            "ended_at": call.get("ended_at"),
            "ended_by": call.get("ended_by"),
            "reason": call.get("reason"),
            "language": contact.details.get("language"),
            "connect_timeout_s": config.connect_timeout_s,
        }

    return ChannelKind(Channel.CALL, service_level, payload, pace_window_s=600.0)
