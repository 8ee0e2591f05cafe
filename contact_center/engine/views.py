"""What the engine answers a desk that connects: the agent, its status, its open offers, what it holds.

A plain record; each protocol makes its own JSON of it at the edge (:mod:`channels.wire`).
"""

from __future__ import annotations

from dataclasses import dataclass

from contact_center.engine.state import AgentRuntime
from contact_center.model import Agent, AgentStatus, Contact, Offer

__all__ = ["DeskView", "desk_view"]


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
