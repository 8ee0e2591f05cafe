"""The routing pass: waiting contacts in queue order, each to the best agent with room.

For every contact, best means, in order:

1. the agent has room on the contact's channel (capacity per channel; an exclusive
   channel such as a call needs an agent holding nothing, and an agent on a call
   takes nothing else) and is not excluded for this contact (it rejected it, or let
   an offer time out);
2. the agent meets every requirement in force after widening;
3. the highest level in the contact's primary skill (the most proficient);
4. among equals, the agent idle longest.

Agents are indexed per (channel, skill) in five heaps, one per level, ordered by idle
time. Entries go stale when an agent is given an offer during the pass; a stale entry
is re-keyed when it reaches the top, so each decision costs a few heap operations
rather than a scan of all agents.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from functools import partial

from routing.priority import priority_key
from routing.snapshot import (
    MAX_LEVEL,
    AgentState,
    OfferDecision,
    RoutingPolicy,
    SkillRequirement,
    Snapshot,
    WaitingContact,
)

__all__ = ["requirements", "route"]

_FairKey = tuple[float, int]
_Entry = tuple[_FairKey, str]


def requirements(contact: WaitingContact, policy: RoutingPolicy, now: float) -> tuple[SkillRequirement, ...]:
    """Return the requirements in force for ``contact`` at ``now``.

    The latest widening step whose ``after_s`` the contact has waited applies.
    """
    waited = now - contact.enqueued_at
    step = None
    for candidate in policy.widening:
        if waited >= candidate.after_s:
            step = candidate
    if step is None:
        return contact.skills
    reqs = contact.skills[:1] if step.drop_secondary else contact.skills
    return tuple(SkillRequirement(r.skill, max(1, r.min_level - step.relax_levels)) for r in reqs)


class _Pool:
    """The agents of one pass, with the load each has been given so far."""

    def __init__(self, agents: Iterable[AgentState], exclusive: frozenset[str], now: float) -> None:
        self._agents = {a.agent_id: a for a in agents}
        self._load = {a.agent_id: dict(a.load) for a in self._agents.values()}
        self._fair: dict[str, _FairKey] = {a.agent_id: (a.idle_since, 0) for a in self._agents.values()}
        self._exclusive = exclusive
        self._now = now
        self._tick = 0
        self._heaps: dict[tuple[str, str], list[list[_Entry]]] = {}

    def has_room(self, agent_id: str, channel: str) -> bool:
        load = self._load[agent_id]
        if load.get(channel, 0) >= self._agents[agent_id].capacity.get(channel, 0):
            return False
        if channel in self._exclusive:
            return not any(load.values())
        return not any(load.get(ch, 0) for ch in self._exclusive)

    def take(self, agent_id: str, channel: str) -> None:
        """Record an offer: more load, and the agent is no longer idle."""
        load = self._load[agent_id]
        load[channel] = load.get(channel, 0) + 1
        self._tick += 1
        self._fair[agent_id] = (self._now, self._tick)

    def best_for(self, contact: WaitingContact, reqs: tuple[SkillRequirement, ...]) -> tuple[str, int] | None:
        """Return the best agent for ``contact`` and its level, or None."""
        primary = reqs[0]
        levels = self._levels(contact.channel, primary.skill)
        for level in range(MAX_LEVEL, primary.min_level - 1, -1):
            agent_id = self._top(levels[level - 1], contact, reqs[1:])
            if agent_id is not None:
                return agent_id, level
        return None

    def _levels(self, channel: str, skill: str) -> list[list[_Entry]]:
        key = (channel, skill)
        levels = self._heaps.get(key)
        if levels is None:
            levels = [[] for _ in range(MAX_LEVEL)]
            for agent in self._agents.values():
                level = agent.skills.get(skill, 0)
                if level >= 1 and self.has_room(agent.agent_id, channel):
                    levels[min(level, MAX_LEVEL) - 1].append((self._fair[agent.agent_id], agent.agent_id))
            for heap in levels:
                heapq.heapify(heap)
            self._heaps[key] = levels
        return levels

    def _top(
        self,
        heap: list[_Entry],
        contact: WaitingContact,
        secondary: tuple[SkillRequirement, ...],
    ) -> str | None:
        skipped: list[_Entry] = []
        found = None
        while heap:
            key, agent_id = heap[0]
            if not self.has_room(agent_id, contact.channel):
                # Load only grows during a pass: this agent is done for this channel.
                heapq.heappop(heap)
            elif key != self._fair[agent_id]:
                heapq.heapreplace(heap, (self._fair[agent_id], agent_id))
            elif agent_id in contact.excluded_agents or not self._meets(agent_id, secondary):
                skipped.append(heapq.heappop(heap))
            else:
                found = agent_id
                break
        for entry in skipped:
            heapq.heappush(heap, entry)
        return found

    def _meets(self, agent_id: str, secondary: tuple[SkillRequirement, ...]) -> bool:
        skills = self._agents[agent_id].skills
        return all(skills.get(r.skill, 0) >= r.min_level for r in secondary)


def route(snapshot: Snapshot, policy: RoutingPolicy) -> list[OfferDecision]:
    """Decide which waiting contacts to offer to which agents.

    Args:
        snapshot: the waiting contacts, the agents able to take offers, and ``now``.
        policy: ordering and matching rules.

    Returns:
        One decision per contact that found an agent, in queue order. A contact gets at
        most one offer; an agent gets as many as its free capacity allows.
    """
    pool = _Pool(snapshot.agents, policy.exclusive_channels, snapshot.now)
    decisions: list[OfferDecision] = []
    order = partial(priority_key, policy=policy, now=snapshot.now)
    for contact in sorted(snapshot.contacts, key=order):
        match = pool.best_for(contact, requirements(contact, policy, snapshot.now))
        if match is not None:
            agent_id, level = match
            pool.take(agent_id, contact.channel)
            decisions.append(OfferDecision(contact.contact_id, agent_id, level))
    return decisions
