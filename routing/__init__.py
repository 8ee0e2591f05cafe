"""Pure routing: which waiting contact is offered to which agent.

Nothing here performs I/O, reads a clock or imports an event loop. The core hands
:func:`route` a frozen :class:`Snapshot` and gets back a list of
:class:`OfferDecision`; carrying them out is the core's business.
"""

from routing.priority import priority_key, urgency
from routing.router import route
from routing.snapshot import (
    AgentState,
    OfferDecision,
    RoutingPolicy,
    SkillRequirement,
    Snapshot,
    WaitingContact,
    WideningStep,
)

__all__ = [
    "AgentState",
    "OfferDecision",
    "RoutingPolicy",
    "SkillRequirement",
    "Snapshot",
    "WaitingContact",
    "WideningStep",
    "priority_key",
    "route",
    "urgency",
]
