"""What the engine answers a desk that connects: the agent, its status, its open offers, what it holds.

A plain record; each protocol makes its own JSON of it at the edge (:mod:`channels.wire`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contact_center.engine.state import AgentRuntime
from contact_center.model import Agent, AgentStatus, Channel, Contact, ContactState, Offer, Presence
from contact_center.queue import IntegratedQueue

__all__ = ["ChannelQueue", "DeskView", "FloorView", "LiveView", "Waiting", "desk_view", "floor_view", "live_view"]


@dataclass(frozen=True, slots=True)
class DeskView:
    agent: Agent
    status: AgentStatus
    offers: tuple[tuple[Offer, Contact], ...]  # each open offer, with its contact
    held: tuple[str, ...]  # ids of the contacts the agent holds, sorted
    status_reason: str = ""  # why the engine last changed the status ("": the agent chose it)


def desk_view(rt: AgentRuntime, contacts: dict[str, Contact]) -> DeskView:
    offers = tuple((o, contacts[o.contact_id]) for o in rt.offers.values())
    return DeskView(rt.agent, rt.presence.status, offers, tuple(sorted(rt.held)), rt.presence.status_reason)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A waiting contact as the floor shows it: its record, its service-level deadline and warning."""

    contact: Contact
    due_at: float | None
    at_risk_at: float | None


@dataclass(frozen=True, slots=True)
class FloorView:
    """The floor now: the first waiting contacts in the order they are served, and every agent."""

    waiting: tuple[Waiting, ...]
    waiting_total: int
    agents: tuple[tuple[Agent, Presence, int], ...]  # each agent, its presence, how many contacts it holds
    scheduled_total: int = 0  # contacts waiting for their time (booked callbacks), not in the queue yet


def floor_view(
    queue: IntegratedQueue, contacts: dict[str, Contact], agents: dict[str, AgentRuntime], now: float, limit: int,
    scheduled: int = 0,
) -> FloorView:  # fmt: skip
    order = queue.order(now)
    waiting = []
    for contact_id in order[:limit]:
        entry = queue.entry(contact_id)
        waiting.append(Waiting(contacts[contact_id], entry.due_at, entry.at_risk_at))
    staff = tuple(
        (rt.agent, rt.presence, len(rt.held)) for rt in sorted(agents.values(), key=lambda rt: rt.agent.username)
    )
    return FloorView(tuple(waiting), len(order), staff, scheduled)


@dataclass(frozen=True, slots=True)
class ChannelQueue:
    """One channel's line now: how many wait, since when the longest has, how many are at risk or past due."""

    channel: str
    waiting: int
    oldest_at: float | None
    at_risk: int
    breached: int


@dataclass(frozen=True, slots=True)
class LiveView:
    """The whole center now, for the supervisors' dashboard (every node's replica holds all of it).

    ``promise``: open emails not answered yet whose deadline is within the at-risk time or past, with it;
    ``callbacks_due``: callbacks (booked or waiting) due within the hour ahead, with when.
    """

    queues: tuple[ChannelQueue, ...]
    scheduled: int
    agents: tuple[tuple[Agent, Presence, tuple[Contact, ...]], ...]
    promise: tuple[tuple[Contact, float, float], ...]  # (contact, due at, at risk from), soonest due first
    callbacks_due: tuple[tuple[Contact, float], ...]  # (contact, due at), soonest first


Deadlines = Callable[[Contact], tuple[float | None, float | None]]


def live_view(
    queue: IntegratedQueue, contacts: dict[str, Contact], agents: dict[str, AgentRuntime], scheduled: set[str],
    promise: Deadlines, now: float, ahead_s: float = 3600.0,
) -> LiveView:  # fmt: skip
    """What :class:`LiveView` holds; ``promise`` gives an open contact's deadlines by its channel's rule."""
    lines: dict[str, list[float]] = {}
    risk: dict[str, list[int]] = {}
    for w in queue.entries():
        lines.setdefault(w.channel, []).append(w.enqueued_at)
        counts = risk.setdefault(w.channel, [0, 0])
        counts[0] += w.at_risk_at is not None and now >= w.at_risk_at and not (w.due_at is not None and now >= w.due_at)
        counts[1] += w.due_at is not None and now >= w.due_at
    queues = tuple(
        ChannelQueue(ch.value, len(lines.get(ch.value, ())), min(lines[ch.value]) if lines.get(ch.value) else None,
                     *risk.get(ch.value, [0, 0]))
        for ch in Channel
    )  # fmt: skip
    watched, due_soon = [], []
    for c in contacts.values():
        if c.channel == Channel.EMAIL and c.answered_at is None:
            due, at_risk = promise(c)
            if due is not None and at_risk is not None and now >= at_risk:
                watched.append((c, due, at_risk))
        elif c.channel == Channel.CALLBACK and c.state in (ContactState.SCHEDULED, ContactState.QUEUED):
            slot = c.details.get("slot")
            when = float(slot) if isinstance(slot, int | float) else (c.due_at if c.due_at is not None else now)
            if when <= now + ahead_s:
                due_soon.append((c, when))
    staff = tuple(
        (rt.agent, rt.presence, tuple(contacts[i] for i in sorted(rt.held) if i in contacts))
        for rt in sorted(agents.values(), key=lambda rt: rt.agent.username)
    )
    watched.sort(key=lambda t: t[1])
    due_soon.sort(key=lambda t: t[1])
    return LiveView(queues, len(scheduled), staff, tuple(watched), tuple(due_soon))
