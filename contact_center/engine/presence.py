"""Agents' presence: their desks, the status they choose, the grace period when every desk is gone.

An agent's presence record counts its desks per node. With none left, its offers go back at
once and what it holds waits out ``desk.reconnect_grace_s`` (the ``grace`` timer) before it is
queued again. A node that died (its lease lapsed) is struck off every presence by the node
that notices; and a node reading the store again counts its own desks in again.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter
from collections.abc import Iterable
from typing import Protocol

import structlog

from contact_center import topics
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.moves import Moves
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.state import CHOOSABLE, AgentRuntime
from contact_center.engine.timers import NodeLiveness, Timers
from contact_center.engine.views import DeskView, desk_view
from contact_center.engine.work import Work
from contact_center.events import StatusChanged
from contact_center.exceptions import ClientError, NotFound
from contact_center.model import Agent, AgentStatus, ContactState
from contact_center.store import AccountStore, ContactStore

__all__ = ["AgentPresence"]


class _Store(AccountStore, ContactStore, Protocol):
    """The store as presence uses it: accounts, and the records as they are now."""


log = structlog.get_logger("contact_center.engine")

_REAP_EVERY_S = 1.0  # how often to ask whether a node with desks of ours has died (at most once a lease)


class HeldByNodes(Protocol):
    """Something else engine nodes hold, looked after when a node dies (:class:`~.attendance.Attendance`)."""

    def nodes(self) -> set[str]: ...

    async def nodes_gone(self, nodes: Iterable[str]) -> None: ...


class AgentPresence:
    """Agents' desks, status and grace (see the module's docstring)."""

    def __init__(
        self,
        work: Work,
        replica: Replica,
        moves: Moves,
        timers: Timers,
        signals: Signals,
        store: _Store,
        clock: Clock,
        config: Config,
        liveness: NodeLiveness | None,
        also: HeldByNodes | None = None,
    ) -> None:
        self._work = work
        self._also = also  # what else nodes hold (customers' sockets), struck off with their desks
        self._replica = replica
        self._moves = moves
        self._signals = signals
        self._store = store
        self._clock = clock
        self._config = config
        self._liveness = liveness
        self._node_id = work.node_id
        self._desks: Counter[str] = Counter()  # agent id -> desks connected to this node
        self._reaper: asyncio.Task[None] | None = None
        self._stopped = False  # a cancel can be lost in a request's own time limit: the loop looks too
        timers.handle("grace", self._grace_over)  # subject: the agent

    def start(self) -> None:
        if self._liveness is not None:
            self._reaper = asyncio.get_running_loop().create_task(self._reap_dead(), context=contextvars.Context())

    def stop(self) -> None:
        self._stopped = True
        if self._reaper is not None:
            self._reaper.cancel()

    # ---------------------------------------------------------------- accounts

    def add_agent(self, agent: Agent) -> None:
        """Make a newly created account known to the running engine."""
        self._replica.add_agent(agent)

    async def learn(self, agent_id: str) -> AgentRuntime:
        """An agent created on another node: its account (and presence) from the store."""
        agent = await self._store.get_agent(agent_id)
        if agent is None:
            raise NotFound(f"agent {agent_id} does not exist")
        rt = self._replica.add_agent(agent)
        _, presences = await self._store.current((), [agent_id])
        for presence in presences:
            self._replica.heard_presence(presence, force=True)
        return rt

    # ---------------------------------------------------------------- desks

    async def connected(self, agent_id: str) -> DeskView:
        """A desk connected; returns what it must show (offers, held contacts, status)."""
        if agent_id not in self._replica.agents:
            await self.learn(agent_id)

        def connect() -> DeskView:
            rt = self._replica.runtime(agent_id)
            connections = dict(rt.presence.connections)
            connections[self._node_id] = connections.get(self._node_id, 0) + 1
            if rt.presence.status == AgentStatus.OFFLINE:  # back after the grace, or a restart: told, not available
                self._work.set_presence(
                    rt, connections=connections, grace_until=None, status=AgentStatus.AWAY, status_reason="was_offline"
                )
            else:
                self._work.set_presence(rt, connections=connections, grace_until=None)
            return desk_view(rt, self._replica.contacts)

        view = await self._work.run(connect)
        self._desks[agent_id] += 1
        self._signals.queue_changed()
        return view

    async def disconnected(self, agent_id: str) -> None:
        """A desk went away: its offers go back at once; held contacts after a grace period."""

        def disconnect() -> None:
            rt = self._replica.runtime(agent_id)
            connections = dict(rt.presence.connections)
            left = connections.get(self._node_id, 0) - 1
            if left > 0:
                connections[self._node_id] = left
            else:
                connections.pop(self._node_id, None)
            self._work.set_presence(rt, connections=connections)
            if not connections:
                self._moves.gone_for_now(rt, "agent_disconnected")

        self._desks[agent_id] -= 1
        if self._desks[agent_id] <= 0:
            del self._desks[agent_id]
        await self._work.run(disconnect)
        self._signals.queue_changed()

    def recount_desks(self) -> None:
        """Within a unit: make each agent's presence count the desks it has on this node now."""
        for agent_id, rt in self._replica.agents.items():
            mine = self._desks.get(agent_id, 0)
            if rt.presence.connections.get(self._node_id, 0) == mine:
                continue
            connections = {n: c for n, c in rt.presence.connections.items() if n != self._node_id}
            if mine:
                connections[self._node_id] = mine
            grace = None if connections else rt.presence.grace_until
            self._work.set_presence(rt, connections=connections, grace_until=grace)
            if not connections:
                self._moves.gone_for_now(rt, "agent_disconnected")

    async def nodes_gone(self, nodes: set[str]) -> None:
        """Engine nodes that died (their leases lapsed): their agents' desks there count no more."""

        def strike() -> None:
            for rt in self._replica.agents.values():
                connections = rt.presence.connections
                if not any(node in connections for node in nodes):
                    continue
                kept = {node: n for node, n in connections.items() if node not in nodes}
                self._work.set_presence(rt, connections=kept)
                if not kept:
                    self._moves.gone_for_now(rt, "node_gone")
                log.info("agent.node_gone", agent_id=rt.agent.id, nodes=sorted(nodes & set(connections)))

        await self._work.run(strike)
        self._signals.queue_changed()

    async def _grace_over(self, agent_id: str) -> None:
        def gone() -> None:
            rt = self._replica.agents[agent_id]
            if rt.presence.grace_until is None or rt.presence.connected:
                return
            for contact_id in sorted(rt.held):
                contact = self._replica.contacts[contact_id]
                if contact.state == ContactState.WRAP_UP:
                    self._moves.finish_wrap_up(contact_id)
                else:
                    self._moves.requeue(contact, "agent_offline")
            self._work.set_presence(rt, grace_until=None, status=AgentStatus.OFFLINE, status_reason="desk_gone")
            log.info("agent.offline", agent_id=agent_id)

        await self._work.run(gone)
        self._signals.queue_changed()

    async def _reap_dead(self) -> None:
        """Strike off the desks of nodes that died, looking at most once a lease."""
        assert self._liveness is not None
        reaped = 0.0
        while not self._stopped:
            await asyncio.sleep(_REAP_EVERY_S)
            if self._stopped or reaped + self._liveness.takeover_s > self._clock.now():
                continue
            reaped = self._clock.now()
            try:
                peers = {n for rt in self._replica.agents.values() for n in rt.presence.connections}
                if self._also is not None:
                    peers |= self._also.nodes()
                dead = await self._liveness.dead(peers - {self._node_id})
                if dead:
                    log.warning("engine.nodes_gone", nodes=sorted(dead))
                    await self.nodes_gone(dead)
                    if self._also is not None:
                        await self._also.nodes_gone(dead)
            except Exception as exc:  # Redis away: next time
                log.warning("engine.reap_failed", error=repr(exc))

    # ---------------------------------------------------------------- status

    async def set_status(self, agent_id: str, status: str, reason: str = "") -> AgentStatus:
        """The agent chose a status: available, away or busy (``reason``: who else chose it, if anyone)."""
        try:
            target = AgentStatus(status)
        except ValueError:
            target = None
        if target not in CHOOSABLE:
            raise ClientError(f"status: must be one of {', '.join(s.value for s in CHOOSABLE)}", "invalid_field")
        assert target is not None

        def choose() -> None:
            rt = self._replica.runtime(agent_id)
            if rt.presence.status == target:  # confirmed all the same, to every desk of the agent
                self._work.publish(topics.agent(agent_id), StatusChanged(target.value))
            self._work.set_presence(rt, status=target, status_reason=reason)
            if target != AgentStatus.AVAILABLE:
                self._moves.return_offers(rt, "agent_unavailable")

        await self._work.run(choose)
        self._signals.queue_changed()
        return target
