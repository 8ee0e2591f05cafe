"""Customers: new visitors, their pages, their value, one customer from two once proven, and who may read whom.

A customer's record and history are the store's; what the engine keeps in step is the value
and the customer id on their open contacts, changed as one unit of work when a customer is
revalued or merged (the router weighs value, so the queue changed).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Protocol

import structlog

from contact_center import topics
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.work import Work
from contact_center.events import Merged
from contact_center.exceptions import ClientError, Forbidden, NotFound
from contact_center.fields import require_text
from contact_center.mail import Composer
from contact_center.model import Customer, HistoryEvent, IdentityKind, Role
from contact_center.store import AccountStore, ContactStore, CustomerStore, NewEvent

__all__ = ["Customers"]


class _Store(CustomerStore, ContactStore, AccountStore, Protocol):
    """The store as customers use it: their records, their history, and who a reader is."""


log = structlog.get_logger("contact_center.engine")

_HANDLED_LOOKBACK = 5000  # history events read to learn whether an agent handled a customer before


class Customers:
    """Customers and who may read them (see the module's docstring)."""

    def __init__(
        self,
        work: Work,
        replica: Replica,
        signals: Signals,
        store: _Store,
        clock: Clock,
        config: Config,
        composer: Composer | None,
    ) -> None:
        self._work = work
        self._replica = replica
        self._signals = signals
        self._store = store
        self._clock = clock
        self._config = config
        self._composer = composer

    async def new_visitor(self) -> Customer:
        """Create an anonymous chat visitor, known by a fresh visitor id."""
        customer = Customer(
            id=uuid.uuid4().hex,
            created_at=self._clock.now(),
            identities=[(IdentityKind.VISITOR, uuid.uuid4().hex)],
        )
        await self._store.create_customer(customer)
        return customer

    async def page_view(self, customer_id: str, url: object, title: object) -> HistoryEvent:
        url = require_text("url", url, 2048)
        if not url.startswith(("http://", "https://")):
            raise ClientError("url: must start with http:// or https://", "invalid_field")
        data = {"url": url, "title": require_text("title", title, 300, allow_empty=True)}
        event = NewEvent(customer_id, None, "web", "page_view", self._clock.now(), "customer", data)
        recorded = (await self._store.record((), [event]))[0]
        self._work.tell_history([recorded])  # the agents working with them see it as it happens
        return recorded

    async def worth(self, customer_id: str) -> float:
        """The customer's value as recorded (0 for one not recorded)."""
        customer = await self._store.get_customer(customer_id)
        return customer.value if customer else 0.0

    async def set_value(self, customer_id: str, value: float) -> None:
        if await self._store.get_customer(customer_id) is None:
            raise NotFound(f"customer {customer_id} does not exist")
        await self._store.set_customer(customer_id, name=None, value=value)

        def revalue() -> None:
            for contact in self._replica.of_customer(customer_id):
                if contact.value != value:
                    self._work.put(dataclasses.replace(contact, value=value))

        await self._work.run(revalue)
        self._signals.queue_changed()

    async def merge(self, keep: str, gone: str, kind: IdentityKind, value: str, by: str) -> None:
        """``gone`` proved it is ``keep`` (by ``kind:value``, as ``by`` vouched): one customer from now on.

        ``gone``'s identities, contacts, sessions and history become ``keep``'s; its open contacts
        go on under ``keep`` with the higher value of the two; its widget follows (``merged``).
        Only ever for a proven identity (:mod:`~contact_center.identities`): a claim merges nothing.
        """
        now = self._clock.now()
        data = {"merged": gone, "by": kind.value, "value": value, "verified_by": by}
        await self._store.merge_customers(keep, gone, NewEvent(keep, None, None, "identity.merged", now, by, data))
        worth = await self.worth(keep)  # the higher of the two

        def move() -> None:
            for contact in self._replica.of_customer(gone, keep):
                self._work.put(dataclasses.replace(contact, customer_id=keep, value=worth))

        await self._work.run(move)
        log.info("customer.merged", customer_id=keep, merged=gone, by=kind.value, verified_by=by)
        self._work.publish(topics.customer(gone), Merged(keep, kind.value, value))
        self._signals.queue_changed()
        self._signals.reread()  # the finished contacts moved too, in the store alone

    async def send_code(self, address: str, code: str, language: str, minutes: int, event: NewEvent) -> None:
        """Mail a one-time code through the outbox (durable, sent once), with its history event."""
        if self._composer is None:
            raise ClientError("codes cannot be mailed: this engine has no SMTP configured", "verification_unavailable")
        outbound = self._composer.verification(address, code, language, minutes, self._clock.now())
        await self._work.run(lambda: self._work.add(outbound=[outbound], events=[event]))

    # ---------------------------------------------------------------- who reads whom

    def works_for(self, agent_id: str, customer_id: str) -> bool:
        """Whether the agent holds, or is offered, a contact of this customer now."""
        rt = self._replica.agents.get(agent_id)
        if rt is None:
            return False
        ids = [*rt.held, *(offer.contact_id for offer in rt.offers.values())]
        contacts = self._replica.contacts
        return any((c := contacts.get(i)) is not None and c.customer_id == customer_id for i in ids)

    async def may_read(self, user_id: str, customer_id: str) -> None:
        """Let a user read a customer's record and history, or raise :class:`Forbidden`.

        Supervisors read everyone's. An agent reads the customers whose contact it holds or is
        offered, and, with ``desk.history_of_handled``, those it was assigned a contact of before.
        """
        known = self._replica.agents.get(user_id)
        agent = known.agent if known is not None else await self._store.get_agent(user_id)
        if agent is None:
            raise Forbidden("an unknown user reads nothing")
        if agent.role == Role.SUPERVISOR or self.works_for(user_id, customer_id):
            return
        if self._config.desk.history_of_handled and await self._handled(user_id, customer_id):
            return
        raise Forbidden(f"customer {customer_id} is not yours to read: you hold no contact of theirs")

    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]:
        if await self._store.get_customer(customer_id) is None:
            raise NotFound(f"customer {customer_id} does not exist")
        return await self._store.history(customer_id, limit, before_id)

    async def _handled(self, agent_id: str, customer_id: str) -> bool:
        for event in await self._store.history(customer_id, _HANDLED_LOOKBACK):
            if event.kind == "contact.assigned" and event.data.get("agent_id") == agent_id:
                return True
        return False
