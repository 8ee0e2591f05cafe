"""The order of the integrated queue.

A contact's place is decided by, in this order:

1. explicit priority (higher first),
2. the customer's value band (higher first),
3. service-level urgency of its channel: breached, then at risk, then the rest,
4. waiting time: the original time it entered the queue (earlier first),

with the contact id as a final, stable tie-break.
"""

from __future__ import annotations

from bisect import bisect_right

from routing.snapshot import RoutingPolicy, WaitingContact

__all__ = ["URGENCY_AT_RISK", "URGENCY_BREACHED", "URGENCY_NONE", "priority_key", "urgency", "value_band"]

URGENCY_NONE = 0
URGENCY_AT_RISK = 1
URGENCY_BREACHED = 2


def value_band(value: float, bands: tuple[float, ...]) -> int:
    """Return how many of the ascending ``bands`` thresholds ``value`` reaches."""
    return bisect_right(bands, value)


def urgency(contact: WaitingContact, now: float) -> int:
    """Return the service-level urgency of ``contact`` at ``now``."""
    if contact.due_at is not None and now >= contact.due_at:
        return URGENCY_BREACHED
    if contact.at_risk_at is not None and now >= contact.at_risk_at:
        return URGENCY_AT_RISK
    return URGENCY_NONE


def priority_key(contact: WaitingContact, policy: RoutingPolicy, now: float) -> tuple[int, int, int, float, str]:
    """Return a sort key: smaller keys are served first."""
    return (
        -contact.priority,
        -value_band(contact.value, policy.value_bands),
        -urgency(contact, now),
        contact.enqueued_at,
        contact.contact_id,
    )
