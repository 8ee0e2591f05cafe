"""Replication: how the replica comes to hold what the store holds, at start, from other nodes, after an outage.

Alone on its store, a starting engine was the only one running: contacts offered before a
restart queue again, wrap-ups end, agents are offline until their desks come back. Sharing a
store (Redis), it listens for the records every other node commits (the bus topic ``state``)
and reads them all from the store: at start, and whenever it may have missed news or failed
to record a change (Redis away, the bus reconnected, its lease lapsed).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Protocol

import structlog

from contact_center import topics
from contact_center.bus import Bus
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.moves import Moves
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.state import AgentRuntime, burden
from contact_center.engine.timers import NodeLiveness
from contact_center.engine.work import Work
from contact_center.events import Committed
from contact_center.model import AgentStatus, Contact, ContactState, Presence
from contact_center.store import AccountStore, ContactStore, CustomerStore

__all__ = ["Replication"]


class _Store(AccountStore, CustomerStore, ContactStore, Protocol):
    """The store as replication reads it: agents, customers' values, every open record."""


log = structlog.get_logger("contact_center.engine")

_RETRY_MAX_S = 2.0  # a resync that failed is tried again after at most this long


class Replication:
    """The replica kept in line with the store (see the module's docstring).

    ``recount`` is staged in the unit that ends each resync: this node's desks counted in again.
    ``route_after`` routes news from another node a little later, so that the node that made the
    change routes it first (when every node routes).
    """

    def __init__(
        self,
        work: Work,
        replica: Replica,
        moves: Moves,
        signals: Signals,
        store: _Store,
        bus: Bus,
        clock: Clock,
        config: Config,
        liveness: NodeLiveness | None,
        recount: Callable[[], None],
        route_after: Callable[[float], None],
    ) -> None:
        self._work = work
        self._replica = replica
        self._moves = moves
        self._signals = signals
        self._store = store
        self._bus = bus
        self._clock = clock
        self._config = config
        self._liveness = liveness
        self._recount = recount
        self.shared = store.shared
        self._stop_listening: Callable[[], None] | None = None
        self._resyncing: asyncio.Task[None] | None = None
        self._wanted = False
        self._after: list[Callable[[], None]] = []
        self._route_after = route_after
        if self.shared:
            signals.out_of_step.connect(self.resync_soon)

    async def start(self) -> None:
        """Load the agents and the open contacts (see the module's docstring)."""
        now = self._clock.now()
        for agent in await self._store.list_agents():
            self._replica.agents[agent.id] = AgentRuntime(agent, Presence(agent.id, agent.status, idle_since=now))
        if self.shared:
            self._stop_listening = self._bus.subscribe(topics.STATE, self._heard)
            await self.resync()
            return
        contacts = await self._store.open_contacts()
        for contact in contacts:
            customer = await self._store.get_customer(contact.customer_id)
            contact.value = customer.value if customer else 0.0
        await self._work.run(partial(self._restore, contacts, now))

    def stop(self) -> None:
        if self._resyncing is not None:
            self._resyncing.cancel()
        if self._stop_listening is not None:
            self._stop_listening()

    def _restore(self, contacts: list[Contact], now: float) -> None:
        """Within a unit, alone on the store: the contacts and loads as they were, every agent offline for now."""
        agents = self._replica.agents
        for rt in agents.values():
            if rt.presence.status != AgentStatus.OFFLINE:
                self._work.set_presence(rt, status=AgentStatus.OFFLINE)
        loads: dict[str, Counter[str]] = {}
        for loaded in contacts:
            counted = burden(loaded)
            if counted is not None and counted[0] in agents:
                loads.setdefault(counted[0], Counter())[counted[1]] += 1
        for agent_id, load in loads.items():
            self._work.set_presence(agents[agent_id], load=dict(load))
        for loaded in contacts:
            self._replica.apply(loaded)
            self._restart(dataclasses.replace(loaded), now)
        for rt in agents.values():
            if rt.held:
                self._work.set_presence(rt, grace_until=now + self._config.desk.reconnect_grace_s)

    def _restart(self, contact: Contact, now: float) -> None:
        """A contact as a restart leaves it: an offer lapses, a wrap-up ends, an agent removed gives it back."""
        if contact.state == ContactState.OFFERED:
            contact.move(ContactState.QUEUED)
            contact.offer = None
            self._work.put(contact, "contact.requeued", "system", reason="restart")
        elif contact.state == ContactState.WRAP_UP:
            contact.move(ContactState.CLOSED)
            contact.closed_at = now
            self._work.put(contact, "contact.closed", "system", disposition=contact.disposition)
        elif contact.state == ContactState.ASSIGNED and contact.agent_id not in self._replica.agents:
            self._moves.requeue(contact, "agent_removed")

    async def resync(self) -> None:
        """Take every open contact and every presence as the store has them, and count this node's desks in.

        What this node holds in memory becomes what the store holds, and the agents' presences
        say again how many desks each has on this node.
        """
        replica = self._replica
        async with self._work.lock:  # no unit is made meanwhile; those queued are written first
            await self._store.barrier()
            contacts = await self._store.open_contacts()
            _, presences = await self._store.current((), list(replica.agents))
            for presence in presences:
                replica.heard_presence(presence, force=True)
            open_ids = {c.id for c in contacts}
            for contact in contacts:
                replica.heard_contact(contact, force=True)
            for contact_id in [cid for cid in replica.contacts if cid not in open_ids]:
                gone = await self._store.get_contact(contact_id)
                if gone is not None:
                    replica.heard_contact(gone, force=True)
        await self._work.run(self._recount)
        self._signals.queue_changed()
        self._signals.reread()

    def resync_soon(self, then: Callable[[], None] | None = None) -> None:
        """Resync once the store answers again; many calls meanwhile make one resync, after which ``then`` runs."""
        if not self.shared:
            return
        if then is not None:
            self._after.append(then)
        self._wanted = True
        if self._resyncing is None or self._resyncing.done():
            self._resyncing = asyncio.get_running_loop().create_task(self._until_done(), context=contextvars.Context())

    async def _until_done(self) -> None:
        pause = 0.1
        while self._wanted:
            self._wanted = False
            try:
                await self.resync()
            except Exception as exc:  # the store is still away: a little later each time
                self._wanted = True
                log.warning("engine.resync_failed", error=repr(exc), retry_in_s=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, _RETRY_MAX_S)
            else:
                log.info("engine.resynced", node=self._work.node_id, open_contacts=len(self._replica.contacts))
                if not self._wanted:
                    after, self._after = self._after, []
                    for then in after:
                        then()

    def _heard(self, committed: Committed) -> None:
        """Records another node committed (the bus topic ``state``)."""
        for contact in committed.contacts:
            self._replica.heard_contact(contact)
        for presence in committed.presences:
            self._replica.heard_presence(presence)
        if committed.contacts or committed.presences:
            if self._liveness is not None and self._liveness.sole_router:
                self._signals.queue_changed()
            else:  # every node routes: let the node that made the change go first
                self._route_after(0.05)
