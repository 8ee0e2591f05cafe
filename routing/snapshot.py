"""Plain, frozen values the router reads and writes.

Times are seconds since the epoch as floats; the router never asks what time it is,
it is told (:attr:`Snapshot.now`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "AgentState",
    "OfferDecision",
    "RoutingPolicy",
    "SkillRequirement",
    "Snapshot",
    "WaitingContact",
    "WideningStep",
]

MIN_LEVEL = 1
MAX_LEVEL = 5


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    """A skill a contact needs, at ``min_level`` (1-5) or better."""

    skill: str
    min_level: int = MIN_LEVEL


@dataclass(frozen=True, slots=True)
class WaitingContact:
    """A contact waiting in the integrated queue.

    ``skills[0]`` is the primary skill: proficiency is measured in it. Further
    requirements must be met as well, unless widening drops them.
    ``enqueued_at`` is the contact's original place in the queue; it is kept when a
    contact comes back after a reject or a timeout. ``due_at`` and ``at_risk_at``
    are the channel's service-level deadline and the moment it counts as at risk,
    computed by the core (working hours for email, seconds for chat).
    """

    contact_id: str
    channel: str
    skills: tuple[SkillRequirement, ...]
    enqueued_at: float
    priority: int = 0
    value: float = 0.0
    due_at: float | None = None
    at_risk_at: float | None = None
    excluded_agents: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.skills:
            raise ValueError(f"contact {self.contact_id}: at least one skill is required")


@dataclass(frozen=True, slots=True)
class AgentState:
    """An agent able to take offers now, with what it already holds.

    ``load`` counts contacts offered, assigned or in wrap-up, per channel.
    ``idle_since`` is when the agent last finished or was last given work; the agent
    idle longest wins among equals.
    """

    agent_id: str
    skills: Mapping[str, int]
    capacity: Mapping[str, int]
    load: Mapping[str, int] = field(default_factory=dict)
    idle_since: float = 0.0


@dataclass(frozen=True, slots=True)
class WideningStep:
    """After ``after_s`` seconds of waiting, relax a contact's requirements.

    ``relax_levels`` lowers every minimum level (never below 1);
    ``drop_secondary`` keeps only the primary skill.
    """

    after_s: float
    relax_levels: int = 0
    drop_secondary: bool = False


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """How the router orders and matches.

    ``value_bands`` are ascending thresholds of customer value: a customer's band is
    the number of thresholds its value reaches, and a higher band goes first.
    ``exclusive_channels`` are channels (voice) that exclude all other work: an agent
    on a call is offered nothing else, and a call goes only to an agent holding
    nothing.
    """

    widening: tuple[WideningStep, ...] = ()
    value_bands: tuple[float, ...] = ()
    exclusive_channels: frozenset[str] = frozenset({"call", "callback"})


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one routing pass looks at."""

    contacts: tuple[WaitingContact, ...]
    agents: tuple[AgentState, ...]
    now: float


@dataclass(frozen=True, slots=True)
class OfferDecision:
    """Offer ``contact_id`` to ``agent_id``; ``level`` is the agent's primary skill level."""

    contact_id: str
    agent_id: str
    level: int
