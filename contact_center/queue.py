"""The integrated queue: every waiting contact of every channel, in one order.

What the router needs to know of a waiting contact is kept here as a ready
:class:`routing.WaitingContact`, made from the contact's record: its skills, its original
place, its customer's value, its channel's service-level deadline (by the rule the channel
registered: :mod:`contact_center.channel_kinds`), and the agents it must not go to again
(those who rejected it or let its offer lapse). The order itself is
:func:`routing.priority_key`.
"""

from __future__ import annotations

from contact_center.channel_kinds import ChannelKinds
from contact_center.model import Contact
from routing import RoutingPolicy, SkillRequirement, WaitingContact, priority_key

__all__ = ["IntegratedQueue"]


class IntegratedQueue:
    def __init__(self, kinds: ChannelKinds, policy: RoutingPolicy) -> None:
        self._kinds = kinds
        self._policy = policy
        self._waiting: dict[str, WaitingContact] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, contact_id: object) -> bool:
        return contact_id in self._waiting

    def put(self, contact: Contact) -> None:
        """Enter the queue, at the contact's original place (``enqueued_at``), or update its entry."""
        self._waiting[contact.id] = self._entry(contact)

    def remove(self, contact_id: str) -> None:
        """The contact left the queue (offered, finished); nothing if it was not in it."""
        self._waiting.pop(contact_id, None)

    def snapshot(self) -> tuple[WaitingContact, ...]:
        return tuple(self._waiting.values())

    def order(self, now: float) -> list[str]:
        """Contact ids in the order they are served."""
        return [w.contact_id for w in sorted(self._waiting.values(), key=lambda w: priority_key(w, self._policy, now))]

    def _entry(self, contact: Contact) -> WaitingContact:
        due, at_risk = self._kinds.deadlines(contact)
        return WaitingContact(
            contact_id=contact.id,
            channel=contact.channel.value,
            skills=tuple(SkillRequirement(s, lvl) for s, lvl in contact.skills),
            enqueued_at=contact.enqueued_at,
            priority=contact.priority,
            value=contact.value,
            due_at=due,
            at_risk_at=at_risk,
            excluded_agents=frozenset(contact.declined),
        )
