"""Channels as plug-ins: what the core needs to know of a channel, given by the channel itself.

A channel registers a :class:`ChannelKind` (see ``channels/registry.py``): its service-level
rule (when a waiting contact of it is due, and when it is at risk of missing that), which the
integrated queue's urgency comes from, and its contact payload (what a desk shows of one of its
contacts beyond the fields every contact has). The core holds the registration and asks it; it
knows no channel's rule itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from contact_center.model import Channel, Contact

__all__ = ["ChannelKind", "ChannelKinds", "Deadlines"]

Deadlines = tuple[float | None, float | None]  # (due at, at risk from); None: no deadline


def _nothing(contact: Contact) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class ChannelKind:
    """``watched``: the channel makes a promise of its own (email's 90 % in 2 working hours), so a contact's
    deadlines are watched until it is first answered: supervisors are warned when it is at risk, and a breach
    is recorded (the ``risk`` and ``sla`` timers). ``pace_window_s``: how far back the pace its waiting
    contacts were answered at is taken, for the wait a customer is told to expect."""

    channel: Channel
    service_level: Callable[[Contact], Deadlines]  # of a waiting contact of this channel
    payload: Callable[[Contact], dict[str, Any]] = field(default=_nothing)  # JSON fields of its own
    watched: bool = False
    pace_window_s: float = 600.0


class ChannelKinds:
    """Every registered channel, by its :class:`~contact_center.model.Channel`."""

    def __init__(self, kinds: Iterable[ChannelKind]) -> None:
        self._kinds: dict[Channel, ChannelKind] = {}
        for kind in kinds:
            if kind.channel in self._kinds:
                raise ValueError(f"channel {kind.channel.value} is registered twice")
            self._kinds[kind.channel] = kind

    def __iter__(self) -> Iterator[ChannelKind]:
        return iter(self._kinds.values())

    def deadlines(self, contact: Contact) -> Deadlines:
        """When the waiting ``contact`` is due and at risk, by its channel's rule (none if not registered)."""
        kind = self._kinds.get(contact.channel)
        return (None, None) if kind is None else kind.service_level(contact)

    def promise(self, contact: Contact) -> Deadlines:
        """The deadlines to watch for ``contact`` (none unless its channel is ``watched``, or once it is answered)."""
        kind = self._kinds.get(contact.channel)
        if kind is None or not kind.watched or contact.answered_at is not None or contact.breached_at is not None:
            return None, None
        return kind.service_level(contact)

    def payload(self, contact: Contact) -> dict[str, Any]:
        kind = self._kinds.get(contact.channel)
        return {} if kind is None else kind.payload(contact)
