"""Where every channel is registered: the one list a new channel joins (see docs/architecture.md)."""

from __future__ import annotations

from channels.call.kind import call_kind
from channels.callback.kind import callback_kind
from channels.email.kind import email_kind
from channels.webchat import chat_kind
from contact_center.channel_kinds import ChannelKinds
from contact_center.config import Config

__all__ = ["channel_kinds"]


def channel_kinds(config: Config) -> ChannelKinds:
    return ChannelKinds(
        [
            chat_kind(config.webchat),
            email_kind(config.email, config.sla.calendar),
            callback_kind(config.callback),
            call_kind(config.call),
        ]
    )
