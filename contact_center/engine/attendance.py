"""Whether a chat's customer is still there: their sockets, and what follows when the last one closes.

A widget socket that greets an open chat makes its node the chat's ``customer_node``. When a
node's last socket of the customer closes, it sets the chat's ``gone_at`` (now and the leave
grace) and says so on the customer's topic: a socket of theirs open on another node answers by
claiming the chat again. If ``gone_at`` comes and nobody claimed it, the customer has left
(:meth:`.Moves.customer_left`): a waiting chat is abandoned, an assigned one's agent is told.
A node that dies leaves its customers' chats the same way, and so does a chat a start finds with
no node named (the embedded store keeps no node: its restart is the node dying).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import structlog

from contact_center import topics
from contact_center.clock import Clock
from contact_center.config import WebchatConfig
from contact_center.engine.moves import Moves
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.state import is_open_chat
from contact_center.engine.timers import Timers
from contact_center.engine.work import Work
from contact_center.events import CustomerAway, Ended
from contact_center.model import Channel, Contact

__all__ = ["Attendance"]

log = structlog.get_logger("contact_center.engine")


class Attendance:
    """Whether chats' customers are still there (see the module's docstring)."""

    def __init__(
        self,
        work: Work,
        replica: Replica,
        moves: Moves,
        timers: Timers,
        signals: Signals,
        clock: Clock,
        config: WebchatConfig,
        node_id: str,
    ) -> None:
        self._work = work
        self._replica = replica
        self._moves = moves
        self._signals = signals
        self._clock = clock
        self._grace = config.leave_grace_s
        self._node = node_id
        timers.handle("gone", self._gone)

    async def here(self, customer_id: str) -> None:
        """A socket of the customer greeted on this node: their chat is held here, and they are there."""

        def claim() -> None:
            contact = self._replica.open_chat(customer_id)
            if contact is not None and (contact.customer_node != self._node or contact.gone_at is not None):
                self._work.put(dataclasses.replace(contact, customer_node=self._node, gone_at=None))

        if self._claim_needed(customer_id):
            await self._work.run(claim)

    async def away(self, customer_id: str) -> None:
        """The last socket of the customer on this node closed: gone at the end of the grace, unless back."""

        def leave() -> Contact | None:
            contact = self._replica.open_chat(customer_id)
            if contact is None or contact.gone_at is not None or contact.customer_node not in ("", self._node):
                return None  # held by a socket elsewhere, or going already
            self._work.put(dataclasses.replace(contact, gone_at=self._clock.now() + self._grace))
            return contact

        contact = await self._work.run(leave)
        if contact is not None:
            self._work.publish(topics.customer(customer_id), CustomerAway(contact.id))

    async def nodes_gone(self, nodes: Iterable[str]) -> None:
        """Nodes that died (or a start found a chat held by no node): their customers are away from now."""
        dead = set(nodes)

        def strike() -> list[Contact]:
            struck = []
            for contact in self.held_by(dead):
                self._work.put(dataclasses.replace(contact, gone_at=self._clock.now() + self._grace))
                struck.append(contact)
            return struck

        struck = await self._work.run(strike)
        for contact in struck:
            self._work.publish(topics.customer(contact.customer_id), CustomerAway(contact.id))
        if struck:  # their records are this node's now, and so are their timers
            log.info("chat.customers_away", nodes=sorted(dead), contacts=[c.id for c in struck])

    def held_by(self, nodes: set[str]) -> list[Contact]:
        """Open chats whose customer's socket was on one of ``nodes`` ("": none known), not already going."""
        return [
            c
            for c in self._replica.contacts.values()
            if c.channel == Channel.CHAT and is_open_chat(c) and c.gone_at is None and c.customer_node in nodes
        ]

    def nodes(self) -> set[str]:
        """The nodes holding customers' sockets, as the records say."""
        return {c.customer_node for c in self._replica.contacts.values() if c.customer_node}

    def _claim_needed(self, customer_id: str) -> bool:
        contact = self._replica.open_chat(customer_id)
        return contact is not None and (contact.customer_node != self._node or contact.gone_at is not None)

    async def _gone(self, contact_id: str) -> None:
        def gone() -> Contact | None:
            contact = self._replica.contacts.get(contact_id)
            if contact is None or contact.gone_at is None or not is_open_chat(contact):
                return None
            if contact.gone_at > self._clock.now():  # came back and went again: a later timer
                return None
            self._moves.customer_left(contact)
            return contact

        contact = await self._work.run(gone)
        if contact is not None:
            log.info("chat.customer_gone", contact_id=contact.id, state=contact.state.value)
            self._work.publish(topics.customer(contact.customer_id), Ended(contact.id, "customer"))
            self._signals.queue_changed()
