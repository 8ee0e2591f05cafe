"""Offers: routing passes over the queue, and an agent's answer to an offer (accept, reject, let it lapse).

A pass is pure (:func:`routing.route` over a snapshot of the queue and the floor); each offer it
decides is its own unit of work, so one refused as stale (another node offered the contact,
or gave the agent work, first) fails alone and the next pass sees why. Passes run on the node
that routes, whenever the queue changed (:class:`~.signals.Signals`), and every second while
contacts wait, since widening goes by time.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import time
import uuid
from functools import partial

import structlog

from contact_center import topics
from contact_center.clock import Clock, Timer
from contact_center.config import Config
from contact_center.engine.moves import Moves
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.timers import NodeLiveness, Timers
from contact_center.engine.work import Work
from contact_center.events import AgentJoined, Offered
from contact_center.exceptions import NotHeld, Stale
from contact_center.metrics import Metrics
from contact_center.model import AgentStatus, Contact, ContactState, Offer
from routing import Snapshot, route

__all__ = ["Offers"]

log = structlog.get_logger("contact_center.engine")

_TICK_S = 1.0  # a routing pass at least this often while contacts wait (widening goes by time)


def _answer_clock(contact: Contact) -> float:
    """When a contact started waiting for an answer: a booked callback at its hour, anything else on arrival."""
    slot = contact.details.get("slot")
    return float(slot) if isinstance(slot, int | float) and not isinstance(slot, bool) else contact.created_at


class Offers:
    """Routing passes and the answers to offers (see the module's docstring)."""

    def __init__(
        self,
        work: Work,
        replica: Replica,
        moves: Moves,
        timers: Timers,
        signals: Signals,
        clock: Clock,
        config: Config,
        metrics: Metrics,
        liveness: NodeLiveness | None,
    ) -> None:
        self._work = work
        self._replica = replica
        self._moves = moves
        self._clock = clock
        self._config = config
        self._metrics = metrics
        self._liveness = liveness
        self._route_task: asyncio.Task[int] | None = None
        self._route_again = False
        self._route_timer: Timer | None = None
        self._ticker: asyncio.Task[None] | None = None
        timers.handle("offer", self._timed_out)  # argument: the offer's id
        signals.queue_changed.connect(self.route_soon)

    def start(self) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._tick(), context=contextvars.Context())

    def stop(self) -> None:
        for task in (self._route_task, self._ticker):
            if task is not None:
                task.cancel()
        if self._route_timer is not None:
            self._route_timer.cancel()

    # ---------------------------------------------------------------- the agent's answer

    async def accept(self, agent_id: str, offer_id: str) -> Contact:
        answered: list[float] = []  # the wait, when this is the contact's first answer

        def take() -> Contact:
            offer = self._held_offer(agent_id, offer_id)
            held = self._replica.contacts[offer.contact_id]
            first = held.accepted_at if held.accepted_at is not None else self._clock.now()
            contact = dataclasses.replace(held, offer=None, agent_id=agent_id, accepted_at=first)
            contact.move(ContactState.ASSIGNED)
            name = self._replica.agents[agent_id].agent.display_name
            self._work.put(contact, "contact.assigned", f"agent:{agent_id}", agent_id=agent_id, agent_name=name)
            self._moves.offer_closed(offer, "accepted")
            answered[:] = [] if held.accepted_at is not None else [max(0.0, first - _answer_clock(held))]
            return contact

        contact = await self._work.run(take)
        log.info("offer.accepted", contact_id=contact.id, agent_id=agent_id, channel=contact.channel.value)
        for wait in answered:
            self._metrics.observe("cc_answer_wait_seconds", wait, channel=contact.channel.value)
        name = self._replica.agents[agent_id].agent.display_name
        self._work.publish(topics.customer(contact.customer_id), AgentJoined(contact.id, name))
        return contact

    async def reject(self, agent_id: str, offer_id: str) -> None:
        def decline() -> None:
            offer = self._held_offer(agent_id, offer_id)
            self._moves.return_offer(self._replica.contacts[offer.contact_id], "rejected", declined=True)

        await self._work.run(decline)
        self.route_soon()

    def _held_offer(self, agent_id: str, offer_id: str) -> Offer:
        offer = self._replica.offers.get(offer_id)
        if offer is None or offer.agent_id != agent_id:
            raise NotHeld(f"offer {offer_id!r} is not open for you (taken back, expired or never yours)")
        return offer

    async def _timed_out(self, offer_id: str) -> None:
        def lapse() -> None:
            offer = self._replica.offers.get(offer_id)
            if offer is None:
                return
            self._moves.return_offer(self._replica.contacts[offer.contact_id], "timed_out", declined=True)
            rt = self._replica.agents.get(offer.agent_id)
            if rt is not None and rt.presence.status == AgentStatus.AVAILABLE:
                # An agent who lets an offer lapse is likely away from the desk.
                self._work.set_presence(rt, status=AgentStatus.AWAY, status_reason="offer_lapsed")

        await self._work.run(lapse)
        self.route_soon()

    # ---------------------------------------------------------------- routing passes

    def route_soon(self) -> None:
        """Run a routing pass on the next turn of the loop (one pass for many changes).

        Only on the node that routes (the holder of the routing lease, when nodes share a store).
        """
        if self._liveness is not None and not self._liveness.leading():
            return
        if self._route_task is not None and not self._route_task.done():
            self._route_again = True  # the pass under way decided before this change: another follows it
            return
        try:
            # A fresh context: the pass is its own unit, not part of the caller's.
            self._route_task = asyncio.get_running_loop().create_task(self._routing(), context=contextvars.Context())
        except RuntimeError:  # no running loop: the caller routes by hand
            self._route_task = None

    def route_after(self, delay: float) -> None:
        """Route a little later: news from another node, which that node routes first."""
        if self._route_timer is None:

            def due() -> None:
                self._route_timer = None
                self.route_soon()

            self._route_timer = self._clock.call_later(delay, due)

    async def route_now(self) -> int:
        """Run one routing pass and carry out its offers; returns how many were made."""
        replica = self._replica
        async with self._work.lock:
            if not replica.queue or not replica.floor:
                return 0
            now = self._clock.now()
            snapshot = Snapshot(replica.queue.snapshot(), tuple(replica.floor.values()), now)
            started = time.perf_counter()
            decisions = route(snapshot, self._config.routing.policy)
            self._metrics.observe("cc_routing_pass_seconds", time.perf_counter() - started)
            units = [self._work.stage(partial(self._offer, d.contact_id, d.agent_id, d.level, now)) for d in decisions]
        outcomes = await asyncio.gather(*(self._work.commit(unit) for unit in units), return_exceptions=True)
        stale = sum(1 for o in outcomes if isinstance(o, Stale))
        failed = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, Stale)]
        if stale:
            log.info("routing.stale", offers=len(units), stale=stale)
            self._metrics.inc("cc_commits_stale_total", stale, unit="offer")
            self.route_soon()
        if failed:
            log.warning("routing.commit_failed", offers=len(units), failed=len(failed), error=repr(failed[0]))
        made = len(units) - stale - len(failed)
        self._metrics.inc("cc_offers_total", made)
        return made

    async def _routing(self) -> int:
        """Routing passes, one after another while changes come in during a pass's commits."""
        made = 0
        while True:
            self._route_again = False
            made += await self.route_now()
            if not self._route_again:
                return made

    async def _tick(self) -> None:
        """Route while contacts wait: widening goes by time."""
        while True:
            await asyncio.sleep(_TICK_S)
            if self._replica.queue and self._replica.floor:
                self.route_soon()

    def offer_to(self, contact_id: str, agent_id: str, now: float) -> None:
        """Offer a queued contact to this agent, within the caller's unit (a transfer to a colleague)."""
        self._offer(contact_id, agent_id, 0, now)

    def _offer(self, contact_id: str, agent_id: str, level: int, now: float) -> None:
        offer = Offer(
            id=uuid.uuid4().hex[:16],
            contact_id=contact_id,
            agent_id=agent_id,
            created_at=now,
            expires_at=now + self._config.routing.offer_timeout_s,
            level=level,
        )
        contact = dataclasses.replace(self._replica.contacts[contact_id], offer=offer)
        contact.move(ContactState.OFFERED)
        # The agent's load (in its record) goes up with it: two nodes giving it work at once cannot both commit.
        self._work.put(contact, "contact.offered", "system", agent_id=agent_id, offer_id=offer.id, level=level)
        # Given work now: others idle longer go first next time. Set here, not on accept, so that
        # an accept (on whichever node the agent's desk is) changes the contact's record alone.
        self._work.set_presence(self._replica.agents[agent_id], idle_since=now)
        log.info("offer.made", contact_id=contact_id, agent_id=agent_id, offer_id=offer.id, level=level)
        self._work.publish(topics.agent(agent_id), Offered(offer, contact))
