"""What the desks see of the floor: the waiting contacts (read only), and to supervisors every agent's state.

Every ``every_s`` the node builds the floor once (:meth:`Engine.floor`) and each of its desks gets
it as a ``floor`` message when it changed since the last one that desk had. A waiting contact
shows its customer's name, read from the store once per customer and kept while they wait.
"""

from __future__ import annotations

from typing import Any, Protocol

from channels.wire import Wire
from contact_center.clock import Clock
from contact_center.engine import Engine
from contact_center.model import Customer
from contact_center.periodic import Periodic

__all__ = ["FloorNews", "Watcher"]


class Watcher(Protocol):
    """A desk socket, as the floor's news sees it."""

    @property
    def supervisor(self) -> bool | None: ...  # None: not signed in yet

    def tell_floor(self, floor: dict[str, Any]) -> None: ...


class Customers(Protocol):
    async def get_customer(self, customer_id: str) -> Customer | None: ...


class FloorNews:
    """The loop that keeps every desk's view of the floor up to date (see the module's docstring)."""

    def __init__(
        self,
        engine: Engine,
        customers: Customers,
        wire: Wire,
        clock: Clock,
        sessions: set[Watcher],
        every_s: float = 2.0,
    ) -> None:
        self._engine = engine
        self._customers = customers
        self._wire = wire
        self._clock = clock
        self._sessions = sessions
        self._names: dict[str, str] = {}
        self._loop = Periodic("floor_news", every_s, self._round)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        await self.tell()

    async def tell(self) -> None:
        """One round: every signed-in desk of this node gets the floor, if it changed for it."""
        watching = [s for s in self._sessions if s.supervisor is not None]
        if not watching:
            return
        view = self._engine.floor()
        await self._learn_names({w.contact.customer_id for w in view.waiting})
        now = self._clock.now()
        built: dict[bool, dict[str, Any]] = {}
        for session in watching:
            supervisor = bool(session.supervisor)
            if supervisor not in built:
                built[supervisor] = self._wire.floor(view, self._names, now, supervisor=supervisor)
            session.tell_floor(built[supervisor])

    async def _learn_names(self, customer_ids: set[str]) -> None:
        for customer_id in customer_ids - set(self._names):
            customer = await self._customers.get_customer(customer_id)
            self._names[customer_id] = "" if customer is None else customer.name
        for gone in set(self._names) - customer_ids:  # kept only while they wait
            del self._names[gone]
