"""The integrated queue: every waiting contact of every channel, in one order.

What the router needs to know of a waiting contact is kept here as a ready
:class:`routing.WaitingContact`, made from the contact's record: its skills, its original
place, its customer's value, its channel's service-level deadline (seconds for a chat, working
hours for an email not yet answered: see :mod:`contact_center.sla`), and the agents it must not
go to again (those who rejected it or let its offer lapse). The order itself is
:func:`routing.priority_key`.
"""

from __future__ import annotations

from contact_center.config import WebchatConfig
from contact_center.model import Channel, Contact
from contact_center.sla import BusinessCalendar, Promise
from routing import RoutingPolicy, SkillRequirement, WaitingContact, priority_key

__all__ = ["IntegratedQueue"]


class IntegratedQueue:
    def __init__(
        self,
        webchat: WebchatConfig,
        policy: RoutingPolicy,
        calendar: BusinessCalendar | None = None,
        promise: Promise | None = None,
    ) -> None:
        self._webchat = webchat
        self._policy = policy
        self._calendar = calendar or BusinessCalendar()
        self._promise = promise or Promise()
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
        due = at_risk = None
        if contact.channel == Channel.CHAT:
            target = self._webchat.service_level_s
            due = contact.enqueued_at + target
            at_risk = contact.enqueued_at + target * self._webchat.at_risk_fraction
        elif contact.channel == Channel.EMAIL and contact.answered_at is None:
            # Working hours from the email's arrival; once answered, the promise is kept or not.
            due = self._promise.due(self._calendar, contact.created_at)
            at_risk = self._promise.at_risk(self._calendar, contact.created_at)
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
