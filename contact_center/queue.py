"""The integrated queue: every waiting contact of every channel, in one order.

What the router needs to know of a waiting contact is kept here as a ready
:class:`routing.WaitingContact`, made from the contact's record: its skills, its original
place, its customer's value, its channel's service-level deadline (by the rule the channel
registered: :mod:`contact_center.channel_kinds`), and the agents it must not go to again
(those who rejected it or let its offer lapse). The order itself is
:func:`routing.priority_key`.
"""

from __future__ import annotations

from collections import deque

from contact_center.channel_kinds import ChannelKinds
from contact_center.model import Contact
from routing import RoutingPolicy, SkillRequirement, WaitingContact, priority_key

__all__ = ["AnswerPace", "IntegratedQueue"]


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

    def entries(self) -> list[WaitingContact]:
        """Every waiting contact as the router knows it, in no particular order."""
        return list(self._waiting.values())

    def entry(self, contact_id: str) -> WaitingContact:
        """What the router knows of a waiting contact (KeyError if it does not wait)."""
        return self._waiting[contact_id]

    def places(self, channel: str, now: float) -> dict[str, int]:
        """Each waiting contact of ``channel`` and its place among them: 1 is served next."""
        ids = self.order(now)
        waiting = self._waiting
        return {cid: n for n, cid in enumerate((c for c in ids if waiting[c].channel == channel), start=1)}

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


class AnswerPace:
    """How fast a channel's waiting contacts are being answered lately, and so how long a place waits.

    The moments contacts were assigned, over the last ``window_s``; the pace is their count over
    the time they span (at least ``min_span_s``, so that a burst is not taken for a steady rate).
    With fewer than ``min_answers`` in the window there is no estimate: better none than a wild one.
    """

    def __init__(self, window_s: float = 600.0, min_span_s: float = 60.0, min_answers: int = 3) -> None:
        self._window = window_s
        self._min_span = min_span_s
        self._min_answers = min_answers
        self._at: deque[float] = deque()

    def answered(self, at: float) -> None:
        self._at.append(at)
        self._forget(at)

    def expected_wait(self, place: int, now: float) -> float | None:
        """Seconds until the contact at ``place`` (1: next) is likely answered; None without enough to go on."""
        self._forget(now)
        if len(self._at) < self._min_answers:
            return None
        per_s = len(self._at) / max(self._min_span, now - self._at[0])
        return place / per_s

    def _forget(self, now: float) -> None:
        while self._at and self._at[0] < now - self._window:
            self._at.popleft()
