"""What the engine derives from its records: which contacts are open, held or a chat, and each agent's runtime.

Shared by the engine's parts; nothing here does I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from contact_center.model import OPEN_STATES, Agent, AgentStatus, Contact, ContactState, Offer, Presence
from routing import AgentState

__all__ = ["CHOOSABLE", "HELD", "OPEN", "OPEN_CHAT", "AgentRuntime", "burden", "has_room", "is_open_chat"]

OPEN = OPEN_STATES
OPEN_CHAT = (ContactState.QUEUED, ContactState.OFFERED, ContactState.ASSIGNED)


def is_open_chat(contact: Contact) -> bool:
    """Whether the chat is the customer's to write into: waiting or being worked, and not left by them."""
    return contact.state in OPEN_CHAT and contact.left_at is None


HELD = (ContactState.ASSIGNED, ContactState.WRAP_UP)
CHOOSABLE = (AgentStatus.AVAILABLE, AgentStatus.AWAY, AgentStatus.BUSY)


@dataclass(slots=True)
class AgentRuntime:
    """An agent's account and presence, with what is derived from the open contacts."""

    agent: Agent
    presence: Presence
    offers: dict[str, Offer] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    load: Counter[str] = field(default_factory=Counter)
    snapshot: AgentState | None = None

    def state(self) -> AgentState:
        """This agent as the router sees it; ``load`` is the live counter, read during the pass only."""
        idle = self.presence.idle_since
        if self.snapshot is None or self.snapshot.idle_since != idle:
            a = self.agent
            self.snapshot = AgentState(a.id, a.skills, a.capacity, self.load, idle)
        return self.snapshot


def burden(contact: Contact | None) -> tuple[str, str] | None:
    """The agent and channel a contact counts against (offered, assigned or in wrap-up), if any."""
    if contact is None:
        return None
    if contact.state == ContactState.OFFERED and contact.offer is not None:
        return contact.offer.agent_id, contact.channel.value
    if contact.state in HELD and contact.agent_id:
        return contact.agent_id, contact.channel.value
    return None


def has_room(load: Mapping[str, int], capacity: Mapping[str, int]) -> bool:
    return any(load.get(channel, 0) < slots for channel, slots in capacity.items())


def may_take(rt: AgentRuntime, channel: str) -> bool:
    """Whether the agent could be handed a contact of ``channel`` now: at a desk, available, with room."""
    p = rt.presence
    return (
        bool(p.connected)
        and p.status == AgentStatus.AVAILABLE
        and p.load.get(channel, 0) < rt.agent.capacity.get(channel, 0)
    )
