"""The routing rules written the slow, obvious way: every contact scans every agent.

It decides exactly what :func:`routing.route` decides and exists to check it (the tests
compare both on random snapshots) and to be the baseline of the router benchmark.
"""

from __future__ import annotations

from functools import partial

from routing.priority import priority_key
from routing.router import requirements
from routing.snapshot import MAX_LEVEL, OfferDecision, RoutingPolicy, Snapshot

__all__ = ["route_by_scan"]


def route_by_scan(snapshot: Snapshot, policy: RoutingPolicy) -> list[OfferDecision]:
    """Same contract as :func:`routing.route`, in O(contacts x agents)."""
    load = {a.agent_id: dict(a.load) for a in snapshot.agents}
    fair = {a.agent_id: (a.idle_since, 0) for a in snapshot.agents}
    tick = 0
    decisions = []

    def has_room(agent_id: str, capacity: dict[str, int], channel: str) -> bool:
        held = load[agent_id]
        if held.get(channel, 0) >= capacity.get(channel, 0):
            return False
        if channel in policy.exclusive_channels:
            return not any(held.values())
        return not any(held.get(ch, 0) for ch in policy.exclusive_channels)

    order = partial(priority_key, policy=policy, now=snapshot.now)
    for contact in sorted(snapshot.contacts, key=order):
        reqs = requirements(contact, policy, snapshot.now)
        best = None
        for agent in snapshot.agents:
            level = min(agent.skills.get(reqs[0].skill, 0), MAX_LEVEL)
            if (
                level >= reqs[0].min_level
                and agent.agent_id not in contact.excluded_agents
                and all(agent.skills.get(r.skill, 0) >= r.min_level for r in reqs[1:])
                and has_room(agent.agent_id, dict(agent.capacity), contact.channel)
            ):
                key = (-level, fair[agent.agent_id], agent.agent_id)
                if best is None or key < best:
                    best = key
        if best is not None:
            level, _, agent_id = -best[0], best[1], best[2]
            held = load[agent_id]
            held[contact.channel] = held.get(contact.channel, 0) + 1
            tick += 1
            fair[agent_id] = (snapshot.now, tick)
            decisions.append(OfferDecision(contact.contact_id, agent_id, level))
    return decisions
