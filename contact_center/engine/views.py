"""What the engine answers a desk that connects: the agent, its status, its open offers, what it holds.

A plain record; each protocol makes its own JSON of it at the edge (:mod:`channels.wire`).
"""

from __future__ import annotations

from dataclasses import dataclass

from contact_center.engine.state import AgentRuntime
from contact_center.model import Agent, AgentStatus, Contact, Offer, Presence
from contact_center.queue import IntegratedQueue

__all__ = ["DeskView", "FloorView", "Waiting", "desk_view", "floor_view"]


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
