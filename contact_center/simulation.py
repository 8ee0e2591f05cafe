"""The routing simulator: a day of traffic through the real integrated queue and router, faster than real time.

Each arrival becomes a :class:`~contact_center.model.Contact` put in an
:class:`~contact_center.queue.IntegratedQueue` (with its channel's own deadlines, from the
registered channel rules), and routing passes are :func:`routing.route` itself, run whenever a
contact arrives while an agent has room or an agent comes free while contacts wait. An offer is
taken at once; the agent then holds the contact for its handle time (wrap-up included). A
waiting customer whose patience runs out leaves (abandons).

The policies compared (:data:`POLICIES`):

- ``configured``: the deployment's routing policy as it is;
- ``value_off``: the same without customer-value bands (everyone in arrival order, deadlines aside);
- ``longest_idle``: skill levels are not preferred, only required: the agent idle longest gets it;
- ``round_robin``: agents take turns in a fixed rotation, whoever has been idle.

Pure: no clock, no I/O; time is the arrivals' own.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from contact_center.channel_kinds import ChannelKinds
from contact_center.model import Channel, Contact, ContactState
from contact_center.queue import IntegratedQueue
from routing import AgentState, RoutingPolicy, Snapshot, WaitingContact, route
from routing.priority import value_band

__all__ = ["POLICIES", "Arrival", "ChannelResult", "SimAgent", "SimResult", "simulate"]

POLICIES = ("configured", "value_off", "longest_idle", "round_robin")
_ARRIVE, _FINISH, _GIVE_UP = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Arrival:
    """A contact of the day: when, on which channel, needing which skills, for how long an agent, how patient."""

    at: float
    channel: str
    handle_s: float
    skills: tuple[tuple[str, int], ...] = (("general", 1),)
    patience_s: float = math.inf
    value: float = 0.0


@dataclass(frozen=True, slots=True)
class SimAgent:
    agent_id: str
    skills: Mapping[str, int]
    capacity: Mapping[str, int]


@dataclass(slots=True)
class ChannelResult:
    """One channel's day: offered, answered (within the threshold), abandoned, and the waits of the answered."""

    channel: str
    threshold_s: float
    offered: int = 0
    answered: int = 0
    in_time: int = 0
    abandoned: int = 0
    wait_s: float = 0.0
    longest_s: float = 0.0

    @property
    def service_level(self) -> float | None:
        decided = self.answered + self.abandoned
        return self.in_time / decided if decided else None

    @property
    def asa_s(self) -> float | None:
        return self.wait_s / self.answered if self.answered else None

    def to_json(self) -> dict[str, object]:
        return {
            "channel": self.channel, "threshold_s": self.threshold_s, "offered": self.offered,
            "answered": self.answered, "in_time": self.in_time, "abandoned": self.abandoned,
            "service_level": self.service_level, "asa_s": self.asa_s, "longest_s": self.longest_s,
        }  # fmt: skip


@dataclass(slots=True)
class SimResult:
    policy: str
    channels: dict[str, ChannelResult]
    passes: int = 0
    busy_s: float = 0.0  # agent time spent on contacts
    span_s: float = 0.0
    handled: Counter[str] = field(default_factory=Counter)  # contacts each agent was given
    bands: dict[tuple[str, int], ChannelResult] = field(default_factory=dict)  # by channel and value band

    def to_json(self) -> dict[str, object]:
        return {"policy": self.policy, "passes": self.passes, "span_s": self.span_s,
                "channels": [c.to_json() for c in self.channels.values()]}  # fmt: skip


@dataclass(slots=True)
class _Desk:
    agent: SimAgent
    skills: Mapping[str, int]
    load: Counter[str] = field(default_factory=Counter)
    idle_since: float = 0.0
    takes: frozenset[str] = frozenset()  # the channels it could be offered a contact of now

    def could_take(self, exclusive: frozenset[str]) -> frozenset[str]:
        """The channels the router would find room on (an exclusive one only with nothing held, and nothing
        else while holding one of those)."""
        holding = any(self.load.values())
        if any(self.load[ch] for ch in exclusive):
            return frozenset()
        return frozenset(
            ch for ch, n in self.agent.capacity.items()
            if n > 0 and (not holding if ch in exclusive else self.load[ch] < n)
        )  # fmt: skip


def _policy_of(name: str, policy: RoutingPolicy) -> RoutingPolicy:
    if name not in POLICIES:
        raise ValueError(f"policy: one of {', '.join(POLICIES)}, got {name!r}")
    return replace(policy, value_bands=()) if name == "value_off" else policy


def simulate(
    arrivals: Sequence[Arrival], agents: Sequence[SimAgent], kinds: ChannelKinds, policy: RoutingPolicy,
    thresholds: Mapping[str, float], name: str = "configured",
) -> SimResult:  # fmt: skip
    """Run the day (arrivals in any order) with ``agents`` under the policy ``name``; each channel's figures."""
    run = _Run(agents, kinds, _policy_of(name, policy), name, thresholds, policy.value_bands)
    return run.day(sorted(arrivals, key=lambda a: a.at))


class _Run:
    def __init__(
        self, agents: Sequence[SimAgent], kinds: ChannelKinds, policy: RoutingPolicy, name: str,
        thresholds: Mapping[str, float], bands: tuple[float, ...] = (),
    ) -> None:  # fmt: skip
        self.bands = bands  # the configured value bands, for the figures by band under every policy
        flat = name in ("longest_idle", "round_robin")  # skills required, their levels not preferred
        self.desks = {a.agent_id: _Desk(a, {s: 5 for s in a.skills} if flat else a.skills) for a in agents}
        self.exclusive = policy.exclusive_channels
        # Per channel, the desks that could be offered one of its contacts now (as the router sees them).
        self.takers: dict[str, dict[str, AgentState]] = {}
        self.lines: dict[str, dict[str, WaitingContact]] = {}  # per channel, its waiting contacts as queued
        for d in self.desks.values():
            self._changed(d)
        self.rotation = name == "round_robin"
        self.turns = itertools.count(1)
        self.queue = IntegratedQueue(kinds, policy)
        self.policy = policy
        self.events: list[tuple[float, int, int, Any]] = []
        self.seq = itertools.count()
        self.waiting: dict[str, tuple[Arrival, Contact]] = {}
        self.result = SimResult(name, {ch: ChannelResult(ch, thresholds.get(ch, math.inf)) for ch in thresholds})

    @staticmethod
    def _state(d: _Desk) -> AgentState:
        return AgentState(d.agent.agent_id, d.skills, d.agent.capacity, d.load, d.idle_since)

    def _changed(self, d: _Desk) -> None:
        """The desk's load or idle time changed: it is offered work again only on the channels it has room on."""
        takes = d.could_take(self.exclusive)
        agent_id = d.agent.agent_id
        for channel in d.takes - takes:
            del self.takers[channel][agent_id]
        if takes:
            state = self._state(d)
            for channel in takes:
                self.takers.setdefault(channel, {})[agent_id] = state
        d.takes = takes

    def day(self, arrivals: Iterable[Arrival]) -> SimResult:
        first = None
        for n, a in enumerate(arrivals):
            first = a.at if first is None else first
            self._push(a.at, _ARRIVE, (n, a))
        now = first or 0.0
        while self.events:
            now = self.events[0][0]
            while self.events and self.events[0][0] == now:
                _, _, kind, payload = heapq.heappop(self.events)
                self._event(kind, payload, now)
            self._route(now)
        self.result.span_s = now - (first or 0.0)
        return self.result

    def _push(self, at: float, kind: int, payload: Any) -> None:
        heapq.heappush(self.events, (at, next(self.seq), kind, payload))

    def _event(self, kind: int, payload: Any, now: float) -> None:
        if kind == _ARRIVE:
            n, arrival = payload
            self._arrive(n, arrival, now)
        elif kind == _FINISH:
            agent_id, channel = payload
            self._finish(agent_id, channel, now)
        else:
            self._give_up(payload)

    def _arrive(self, n: int, a: Arrival, now: float) -> None:
        contact = Contact(
            f"s{n}", Channel(a.channel), "sim", ContactState.QUEUED, now, now, list(a.skills), value=a.value
        )
        self.queue.put(contact)
        self.waiting[contact.id] = (a, contact)
        self.lines.setdefault(a.channel, {})[contact.id] = self.queue.entry(contact.id)
        for got in self._results(a):
            got.offered += 1
        if math.isfinite(a.patience_s):
            self._push(now + a.patience_s, _GIVE_UP, contact.id)

    def _finish(self, agent_id: str, channel: str, now: float) -> None:
        desk = self.desks[agent_id]
        desk.load[channel] -= 1
        if not self.rotation:
            desk.idle_since = now
        self._changed(desk)

    def _give_up(self, contact_id: str) -> None:
        gone = self.waiting.pop(contact_id, None)
        if gone is not None:  # not answered yet: the customer leaves
            self.queue.remove(contact_id)
            del self.lines[gone[0].channel][contact_id]
            for got in self._results(gone[0]):
                got.abandoned += 1

    def _results(self, a: Arrival) -> tuple[ChannelResult, ChannelResult]:
        """The contact's channel's figures, and those of its channel and value band."""
        found = self.result.channels.get(a.channel)
        if found is None:
            found = self.result.channels[a.channel] = ChannelResult(a.channel, math.inf)
        key = (a.channel, value_band(a.value, self.bands))
        band = self.result.bands.get(key)
        if band is None:
            band = self.result.bands[key] = ChannelResult(a.channel, found.threshold_s)
        return found, band

    def _candidates(self) -> tuple[tuple[WaitingContact, ...], tuple[AgentState, ...]] | None:
        """What a routing pass is given: the lines someone has room for, and the agents with room on one of them
        (None: no pass). Load only grows during a pass, so a contact nobody could be offered, or an agent who
        could be offered none of the contacts, changes no decision (and a long line of calls costs nothing while
        everyone is busy); the tests compare this with passes given every contact and every agent."""
        open_lines = [ch for ch, line in self.lines.items() if line and self.takers.get(ch)]
        if not open_lines:
            return None
        waiting = tuple(itertools.chain.from_iterable(self.lines[ch].values() for ch in open_lines))
        if len(open_lines) == 1:
            return waiting, tuple(self.takers[open_lines[0]].values())
        return waiting, tuple({k: v for ch in open_lines for k, v in self.takers[ch].items()}.values())

    def _route(self, now: float) -> None:
        given = self._candidates()
        if given is None:
            return
        self.result.passes += 1
        waiting, able = given
        for decision in route(Snapshot(waiting, able, now), self.policy):
            a, contact = self.waiting.pop(decision.contact_id)
            self.queue.remove(contact.id)
            del self.lines[a.channel][contact.id]
            desk = self.desks[decision.agent_id]
            desk.load[a.channel] += 1
            desk.idle_since = next(self.turns) if self.rotation else now
            self._changed(desk)
            wait = now - a.at
            for got in self._results(a):
                got.answered += 1
                got.in_time += wait <= got.threshold_s
                got.wait_s += wait
                got.longest_s = max(got.longest_s, wait)
            self.result.busy_s += a.handle_s
            self.result.handled[decision.agent_id] += 1
            self._push(now + a.handle_s, _FINISH, (decision.agent_id, a.channel))
