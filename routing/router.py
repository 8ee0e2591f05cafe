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
_Entry = tuple[_FairKey, str, AgentState]


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
    """The agents of one pass, with the load each has been given so far.

    Everything is built lazily: a pass pays for the skills and channels its contacts
    ask for, not for every agent on the floor.
    """

    def __init__(self, agents: tuple[AgentState, ...], exclusive: frozenset[str], now: float) -> None:
        self._all = agents
        self._exclusive = exclusive
        self._now = now
        self._tick = 0
        self._load: dict[str, dict[str, int]] = {}  # only agents given an offer in this pass
        self._fair: dict[str, _FairKey] = {}
        self._heaps: dict[tuple[str, str], list[list[_Entry]]] = {}

    def _fair_key(self, agent: AgentState) -> _FairKey:
        key = self._fair.get(agent.agent_id)
        return (agent.idle_since, 0) if key is None else key

    def has_room(self, agent: AgentState, channel: str) -> bool:
        load = self._load.get(agent.agent_id) or agent.load
        if load.get(channel, 0) >= agent.capacity.get(channel, 0):
            return False
        if channel in self._exclusive:
            return not any(load.values())
        return not any(load.get(ch, 0) for ch in self._exclusive)

    def take(self, agent: AgentState, channel: str) -> None:
        """Record an offer: more load, and the agent is no longer idle."""
        load = self._load.setdefault(agent.agent_id, dict(agent.load))
        load[channel] = load.get(channel, 0) + 1
        self._tick += 1
        self._fair[agent.agent_id] = (self._now, self._tick)

    def best_for(self, contact: WaitingContact, reqs: tuple[SkillRequirement, ...]) -> tuple[AgentState, int] | None:
        """Return the best agent for ``contact`` and its level, or None."""
        primary = reqs[0]
        levels = self._levels(contact.channel, primary.skill)
        for level in range(MAX_LEVEL, primary.min_level - 1, -1):
            agent = self._top(levels[level - 1], contact, reqs[1:])
            if agent is not None:
                return agent, level
        return None

    def _levels(self, channel: str, skill: str) -> list[list[_Entry]]:
        key = (channel, skill)
        levels = self._heaps.get(key)
        if levels is None:
            levels = [[] for _ in range(MAX_LEVEL)]
            # Only static checks here; an agent that is full is dropped when it reaches a top.
            fair = self._fair
            for agent in self._all:
                level = agent.skills.get(skill, 0)
                if level >= 1 and agent.capacity.get(channel, 0) > 0:
                    fair_key = fair.get(agent.agent_id) or (agent.idle_since, 0)
                    levels[(level if level < MAX_LEVEL else MAX_LEVEL) - 1].append((fair_key, agent.agent_id, agent))
            for heap in levels:
                heapq.heapify(heap)
            self._heaps[key] = levels
        return levels

    def _top(
        self,
        heap: list[_Entry],
        contact: WaitingContact,
        secondary: tuple[SkillRequirement, ...],
    ) -> AgentState | None:
        skipped: list[_Entry] = []
        found = None
        while heap:
            key, agent_id, agent = heap[0]
            current = self._fair_key(agent)
            if not self.has_room(agent, contact.channel):
                # Load only grows during a pass: this agent is done for this channel.
                heapq.heappop(heap)
            elif key != current:
                heapq.heapreplace(heap, (current, agent_id, agent))
            elif agent_id in contact.excluded_agents or not _meets(agent, secondary):
                skipped.append(heapq.heappop(heap))
            else:
                found = agent
                break
        for entry in skipped:
            heapq.heappush(heap, entry)
        return found


def _meets(agent: AgentState, secondary: tuple[SkillRequirement, ...]) -> bool:
    return all(agent.skills.get(r.skill, 0) >= r.min_level for r in secondary)


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
            agent, level = match
            pool.take(agent, contact.channel)
            decisions.append(OfferDecision(contact.contact_id, agent.agent_id, level))
    return decisions
