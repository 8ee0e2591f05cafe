"""The engine: one integrated queue, offers, assignments, conversations and history.

Channel adapters and the agent desk call the coroutines here; the engine records every
change in the store *before* it tells anyone (the caller's return value, or a message on
the :class:`Bus`), so whatever a client saw acknowledged survives a crash.

State changes run one at a time under a lock; routing is a pure pass over a snapshot
(:func:`routing.route`) whose decisions are then carried out here.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from contact_center.bus import Bus
from contact_center.clock import Clock, Timer
from contact_center.config import Config
from contact_center.exceptions import ClientError, Forbidden, NotFound, NotHeld
from contact_center.fields import normalise_email, normalise_phone, require_text
from contact_center.model import (
    Agent,
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    Customer,
    HistoryEvent,
    IdentityKind,
    Offer,
    OfferState,
)
from contact_center.queue import IntegratedQueue
from contact_center.store import NewEvent, Store
from routing import AgentState, Snapshot, route

__all__ = ["Answer", "Engine"]

# Told the outcome of a posted message: the recorded event, or the exception that stopped it.
Answer = Callable[[HistoryEvent | BaseException], None]


def _answer_future() -> tuple[asyncio.Future[HistoryEvent], Answer]:
    """A future and the :data:`Answer` that settles it, for callers that would rather wait."""
    future: asyncio.Future[HistoryEvent] = asyncio.get_running_loop().create_future()

    def answer(outcome: HistoryEvent | BaseException) -> None:
        if future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    return future, answer


log = structlog.get_logger("contact_center.engine")

# Messages published inside a unit of work wait here until its records are durable.
_OUTBOX: contextvars.ContextVar[list[tuple[str, dict[str, Any]]] | None] = contextvars.ContextVar(
    "contact_center_outbox", default=None
)

_OPEN_CHAT = (ContactState.QUEUED, ContactState.OFFERED, ContactState.ASSIGNED)
_HELD = (ContactState.ASSIGNED, ContactState.WRAP_UP)
_CHOOSABLE = (AgentStatus.AVAILABLE, AgentStatus.AWAY, AgentStatus.BUSY)


@dataclass(slots=True)
class _AgentRuntime:
    """What the engine knows of an agent beyond its account."""

    agent: Agent
    connections: int = 0
    idle_since: float = 0.0
    offers: dict[str, Offer] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    load: Counter[str] = field(default_factory=Counter)
    grace: Timer | None = None
    snapshot: AgentState | None = None

    def state(self) -> AgentState:
        """This agent as the router sees it; ``load`` is the live counter, read during the pass only."""
        if self.snapshot is None or self.snapshot.idle_since != self.idle_since:
            a = self.agent
            self.snapshot = AgentState(a.id, a.skills, a.capacity, self.load, self.idle_since)
        return self.snapshot


def _has_room(load: Mapping[str, int], capacity: Mapping[str, int]) -> bool:
    return any(load.get(channel, 0) < slots for channel, slots in capacity.items())


class _Written:
    """What to do once a posted message is written: answer its sender, then tell everyone else.

    One small object per message in flight (not a partial with its tuple and bound method):
    it lives until the commit, and what many messages hold meanwhile sets how often the
    garbage collector runs.
    """

    __slots__ = ("answer", "contact", "engine")

    def __init__(self, engine: Engine, contact: Contact, answer: Answer) -> None:
        self.engine = engine
        self.contact = contact
        self.answer = answer

    def __call__(self, outcome: tuple[HistoryEvent, bool] | BaseException) -> None:
        if isinstance(outcome, BaseException):
            self.answer(outcome)
            return
        event, new = outcome
        # The sender first: its socket then knows the message's number and skips the copy.
        self.answer(event)
        if new:
            self.engine._tell_message(self.contact, event)


class Engine:
    """The core service behind every channel and the desk."""

    def __init__(self, store: Store, clock: Clock, config: Config, bus: Bus | None = None) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.bus = bus if bus is not None else Bus()  # in-process, unless nodes share one (RedisBus)
        self._lock = asyncio.Lock()
        self._contacts: dict[str, Contact] = {}
        self._queue = IntegratedQueue(config.webchat, config.routing.policy)
        self._offers: dict[str, Offer] = {}
        self._timers: dict[str, Timer] = {}
        self._agents: dict[str, _AgentRuntime] = {}
        self._floor: dict[str, AgentState] = {}  # agents able to take offers now (see _refresh)
        self._values: dict[str, float] = {}
        self._chat_of: dict[str, str] = {}  # customer id -> its latest chat contact id
        self._open_count: Counter[str] = Counter()  # customer id -> open contacts; drops caches at 0
        self._route_task: asyncio.Task[int] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Load agents and open contacts; contacts offered before a restart queue again."""
        now = self.clock.now()
        for agent in await self.store.list_agents():
            self._add_agent_runtime(agent, now)
            if agent.status != AgentStatus.OFFLINE:
                agent.status = AgentStatus.OFFLINE
                await self.store.set_agent_status(agent.id, AgentStatus.OFFLINE)
        for contact in await self.store.open_contacts():
            await self._value(contact.customer_id)
            await self._restore(contact, now)
        await self.store.barrier()
        for rt in self._agents.values():
            if rt.held:
                self._start_grace(rt)
        log.info("engine.started", open_contacts=len(self._contacts), waiting=len(self._queue))

    async def _restore(self, contact: Contact, now: float) -> None:
        if contact.state == ContactState.OFFERED:
            contact.move(ContactState.QUEUED)
            self._record(contact, "contact.requeued", "system", reason="restart")
        if contact.state == ContactState.WRAP_UP:
            contact.move(ContactState.CLOSED)
            contact.closed_at = now
            self._record(contact, "contact.closed", "system", disposition=contact.disposition)
            return
        rt = self._agents.get(contact.agent_id or "")
        if contact.state == ContactState.ASSIGNED and rt is None:
            self._requeue(contact, "agent_removed")
        self._remember(contact)
        if contact.state == ContactState.QUEUED:
            self._enqueue(contact)
        elif rt is not None:
            rt.held.add(contact.id)
            rt.load[contact.channel.value] += 1
            self._refresh(rt)

    def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for rt in self._agents.values():
            if rt.grace is not None:
                rt.grace.cancel()
        if self._route_task is not None:
            self._route_task.cancel()

    def _add_agent_runtime(self, agent: Agent, now: float) -> _AgentRuntime:
        rt = _AgentRuntime(agent=agent, idle_since=now)
        self._agents[agent.id] = rt
        return rt

    def add_agent(self, agent: Agent) -> None:
        """Make a newly created account known to the running engine."""
        self._add_agent_runtime(agent, self.clock.now())

    # ------------------------------------------------------------------ queries

    def contact(self, contact_id: str) -> Contact | None:
        return self._contacts.get(contact_id)

    def agent(self, agent_id: str) -> Agent:
        rt = self._agents.get(agent_id)
        if rt is None:
            raise NotFound(f"agent {agent_id} does not exist")
        return rt.agent

    def waiting(self) -> list[str]:
        """Ids of the queued contacts in queue order."""
        return self._queue.order(self.clock.now())

    def open_chat(self, customer_id: str) -> Contact | None:
        """The customer's chat that is waiting or being worked, if any."""
        contact = self._contacts.get(self._chat_of.get(customer_id, ""))
        if contact is not None and contact.customer_id == customer_id and contact.state in _OPEN_CHAT:
            return contact
        return None

    def agent_view(self, agent_id: str) -> dict[str, Any]:
        rt = self._runtime(agent_id)
        return {
            "agent": {
                "id": rt.agent.id,
                "username": rt.agent.username,
                "name": rt.agent.display_name,
                "role": rt.agent.role.value,
                "status": rt.agent.status.value,
                "skills": rt.agent.skills,
                "capacity": rt.agent.capacity,
            },
            "offers": [self._offer_json(o) for o in rt.offers.values()],
            "contacts": sorted(rt.held),
            "dispositions": list(self.config.desk.dispositions),
        }

    def contact_json(self, contact: Contact) -> dict[str, Any]:
        return {
            "id": contact.id,
            "channel": contact.channel.value,
            "customer_id": contact.customer_id,
            "state": contact.state.value,
            "created_at": contact.created_at,
            "enqueued_at": contact.enqueued_at,
            "subject": contact.subject,
            "skills": [list(s) for s in contact.skills],
            "priority": contact.priority,
            "agent_id": contact.agent_id,
            "disposition": contact.disposition,
            "last_seq": contact.last_seq,
        }

    def _offer_json(self, offer: Offer) -> dict[str, Any]:
        contact = self._contacts[offer.contact_id]
        return {
            "type": "offer",
            "offer_id": offer.id,
            "contact": self.contact_json(contact),
            "expires_at": offer.expires_at,
            "timeout_s": offer.expires_at - offer.created_at,
        }

    # ------------------------------------------------------------------ customers

    async def new_visitor(self) -> Customer:
        """Create an anonymous chat visitor, known by a fresh visitor id."""
        customer = Customer(
            id=uuid.uuid4().hex,
            created_at=self.clock.now(),
            identities=[(IdentityKind.VISITOR, uuid.uuid4().hex)],
        )
        await self.store.create_customer(customer)
        return customer

    async def page_view(self, customer_id: str, url: object, title: object) -> HistoryEvent:
        url = require_text("url", url, 2048)
        if not url.startswith(("http://", "https://")):
            raise ClientError("url: must start with http:// or https://", "invalid_field")
        event = NewEvent(
            customer_id,
            None,
            "web",
            "page_view",
            self.clock.now(),
            "customer",
            {"url": url, "title": require_text("title", title, 300, allow_empty=True)},
        )
        return (await self.store.record((), [event]))[0]

    async def identify(self, customer_id: str, *, email: object = "", phone: object = "", name: object = "") -> str:
        """Attach an email, phone or name; merge into the customer already known by them.

        Returns the customer id that now stands for this person.
        """
        wanted = []
        if email:
            wanted.append((IdentityKind.EMAIL, normalise_email(email)))
        if phone:
            wanted.append((IdentityKind.PHONE, normalise_phone(phone)))
        if name:
            await self.store.set_customer(customer_id, name=require_text("name", name, 120), value=None)
        async with self._lock:
            for kind, value in wanted:
                customer_id = await self._attach(customer_id, kind, value)
        return customer_id

    async def _attach(self, customer_id: str, kind: IdentityKind, value: str) -> str:
        now = self.clock.now()
        owner = await self.store.find_customer(kind, value)
        if owner == customer_id:
            return customer_id
        if owner is None:
            event = NewEvent(
                customer_id, None, None, "identity.added", now, "customer", {"kind": kind.value, "value": value}
            )
            await self.store.add_identity(customer_id, kind, value, event)
            return customer_id
        event = NewEvent(
            owner,
            None,
            None,
            "identity.merged",
            now,
            "system",
            {"merged": customer_id, "by": kind.value, "value": value},
        )
        await self.store.merge_customers(owner, customer_id, event)
        for contact in self._contacts.values():
            if contact.customer_id == customer_id:
                contact.customer_id = owner
                if contact.channel == Channel.CHAT and contact.state in _OPEN_CHAT:
                    self._chat_of[owner] = contact.id
        self._chat_of.pop(customer_id, None)
        self._open_count[owner] += self._open_count.pop(customer_id, 0)
        self._values.pop(customer_id, None)
        self._values.pop(owner, None)
        await self._value(owner)  # the merged customer's value is the higher of the two
        for contact in self._contacts.values():
            if contact.customer_id == owner:
                self._queue.revalue(contact, self._values.get(owner, 0.0))
        log.info("customer.merged", customer_id=owner, merged=customer_id, by=kind.value)
        self._publish(f"customer:{customer_id}", {"type": "merged", "customer_id": owner})
        return owner

    async def set_customer_value(self, customer_id: str, value: float) -> None:
        if await self.store.get_customer(customer_id) is None:
            raise NotFound(f"customer {customer_id} does not exist")
        await self.store.set_customer(customer_id, name=None, value=value)
        async with self._lock:
            if customer_id in self._open_count:
                self._values[customer_id] = value
            for contact in self._contacts.values():
                if contact.customer_id == customer_id:
                    self._queue.revalue(contact, value)
        self.route_soon()

    async def _value(self, customer_id: str) -> float:
        if customer_id not in self._values:
            customer = await self.store.get_customer(customer_id)
            self._values[customer_id] = customer.value if customer else 0.0
        return self._values[customer_id]

    # ------------------------------------------------------------------ chat, customer side

    def chat_skills(self, topic: str, language: str) -> list[tuple[str, int]]:
        """The skills a chat needs: the topic's, then the language as ``lang_<code>``."""
        topics = self.config.webchat.topics
        if topic not in topics:
            raise ClientError(f"topic: unknown topic {topic!r} (one of {', '.join(topics)})", "invalid_field")
        if language not in self.config.webchat.languages:
            langs = ", ".join(self.config.webchat.languages)
            raise ClientError(f"language: unknown language {language!r} (one of {langs})", "invalid_field")
        return [*topics[topic].skills, (f"lang_{language}", 1)]

    async def customer_message(
        self, customer_id: str, text: object, client_id: object, *, topic: str = "general", language: str = "en"
    ) -> tuple[Contact, HistoryEvent]:
        """A chat message from a customer; opens a chat contact when none is open.

        A repeat of ``client_id`` returns the message already recorded and changes nothing.
        """
        text = require_text("text", text, self.config.webchat.max_message_chars)
        client_id = require_text("client_id", client_id, 64)
        contact = self.open_chat(customer_id)
        if contact is None:
            skills = self.chat_skills(topic, language)
            await self._value(customer_id)
            first = None
            async with self._unit():
                contact = self.open_chat(customer_id)
                if contact is None:
                    contact, first = self._open_chat_contact(customer_id, text, client_id, skills, topic, language)
            if first is not None:
                event, _ = await first
                self._publish_message(contact, event)
                return contact, event
        # Appending to an open conversation needs no lock: the store numbers messages.
        future, answer = _answer_future()
        self._post(contact, "customer", text, client_id, answer)
        return contact, await future

    def post_customer_message(self, customer_id: str, text: object, client_id: object, answer: Answer) -> bool:
        """Append to the customer's open chat without waiting; False (and nothing done) when none is open.

        ``answer`` is told the recorded message (or what stopped it) once it is durable, before
        anyone else hears of it; a socket can go on reading meanwhile, so the messages a client
        has in flight share one commit. A first message, which opens a chat, goes through
        :meth:`customer_message`.
        """
        text = require_text("text", text, self.config.webchat.max_message_chars)
        client_id = require_text("client_id", client_id, 64)
        contact = self.open_chat(customer_id)
        if contact is None:
            return False
        self._post(contact, "customer", text, client_id, answer)
        return True

    def _open_chat_contact(
        self, customer_id: str, text: str, client_id: str, skills: list[tuple[str, int]], topic: str, language: str
    ) -> tuple[Contact, Awaitable[tuple[HistoryEvent, bool]]]:
        contact = self._new_contact(customer_id, Channel.CHAT, skills)
        created = self._event(contact, "contact.created", "customer", topic=topic, language=language)
        first = self.store.add_message(contact, "customer", text, client_id, self.clock.now(), [created], create=True)
        contact.last_seq = 1
        self._remember(contact)
        self._enqueue(contact)
        log.info("contact.created", contact_id=contact.id, channel="chat", customer_id=customer_id)
        return contact, first

    def _post(self, contact: Contact, actor: str, text: str, client_id: str, answer: Answer) -> None:
        """Stage a message; once durable, answer its sender, then tell everyone else (a repeat: no one)."""
        self.store.post_message(contact, actor, text, client_id, self.clock.now(), _Written(self, contact, answer))

    def _tell_message(self, contact: Contact, event: HistoryEvent) -> None:
        """A new message is durable: keep the conversation's number, and publish it to both sides."""
        current = self._contacts.get(contact.id, contact)
        current.last_seq = max(current.last_seq, event.seq or 0)
        self._publish_message(current, event)

    def customer_typing(self, customer_id: str) -> None:
        contact = self.open_chat(customer_id)
        if contact is not None and contact.agent_id:
            self._publish(f"agent:{contact.agent_id}", {"type": "typing", "contact_id": contact.id})

    async def customer_left(self, customer_id: str) -> Contact | None:
        """The customer ended the chat: abandoned if no agent had it yet."""
        async with self._unit():
            contact = self.open_chat(customer_id)
            if contact is None:
                return None
            if contact.state == ContactState.ASSIGNED:
                self._record(contact, "customer.left", "customer")
                self._publish(f"agent:{contact.agent_id}", {"type": "customer_left", "contact_id": contact.id})
            else:
                self._abandon(contact)
        self._publish(f"customer:{customer_id}", {"type": "ended", "contact_id": contact.id, "by": "customer"})
        return contact

    def _abandon(self, contact: Contact) -> None:
        for offer in list(self._offers.values()):
            if offer.contact_id == contact.id:
                self._end_offer(offer, OfferState.REVOKED, "abandoned")
        updated = dataclasses.replace(contact)
        updated.move(ContactState.ABANDONED)
        updated.closed_at = self.clock.now()
        self._record(updated, "contact.abandoned", "customer")
        self._forget(updated)

    def _remember(self, contact: Contact) -> None:
        """A contact the engine starts working on (created, or found open at start)."""
        self._contacts[contact.id] = contact
        self._open_count[contact.customer_id] += 1
        if contact.channel == Channel.CHAT:
            self._chat_of[contact.customer_id] = contact.id

    def _forget(self, contact: Contact) -> None:
        """A contact that is finished: drop it and, with the customer's last one, the caches."""
        self._contacts.pop(contact.id, None)
        self._queue.settled(contact.id)
        customer = contact.customer_id
        if self._chat_of.get(customer) == contact.id:
            del self._chat_of[customer]
        self._open_count[customer] -= 1
        if self._open_count[customer] <= 0:
            del self._open_count[customer]
            self._values.pop(customer, None)

    # ------------------------------------------------------------------ agents

    def _runtime(self, agent_id: str) -> _AgentRuntime:
        rt = self._agents.get(agent_id)
        if rt is None:
            raise NotFound(f"agent {agent_id} does not exist")
        return rt

    async def agent_connected(self, agent_id: str) -> dict[str, Any]:
        """A desk connected; returns what it must show (offers, held contacts, status)."""
        async with self._unit():
            rt = self._runtime(agent_id)
            rt.connections += 1
            self._refresh(rt)
            if rt.grace is not None:
                rt.grace.cancel()
                rt.grace = None
            if rt.agent.status == AgentStatus.OFFLINE:
                self._set_status(rt, AgentStatus.AWAY)
            return self.agent_view(agent_id)

    async def agent_disconnected(self, agent_id: str) -> None:
        """A desk went away: its offers go back at once; held contacts after a grace period."""
        async with self._unit():
            rt = self._runtime(agent_id)
            rt.connections = max(0, rt.connections - 1)
            self._refresh(rt)
            if rt.connections:
                return
            for offer in list(rt.offers.values()):
                self._return_offer(offer, OfferState.REVOKED, "agent_disconnected")
            self._start_grace(rt)
        self.route_soon()

    def _start_grace(self, rt: _AgentRuntime) -> None:
        def expire() -> None:
            rt.grace = None
            self._spawn(self._agent_gone(rt.agent.id))

        rt.grace = self.clock.call_later(self.config.desk.reconnect_grace_s, expire)

    async def _agent_gone(self, agent_id: str) -> None:
        async with self._unit():
            rt = self._agents[agent_id]
            if rt.connections:
                return
            for contact_id in sorted(rt.held):
                contact = self._contacts[contact_id]
                if contact.state == ContactState.WRAP_UP:
                    self._finish_wrap_up_locked(contact_id)
                else:
                    self._requeue(contact, "agent_offline")
                    self._release(rt, contact)
                    self._enqueue(contact)
            self._set_status(rt, AgentStatus.OFFLINE)
        log.info("agent.offline", agent_id=agent_id)
        self.route_soon()

    async def set_status(self, agent_id: str, status: str) -> AgentStatus:
        """The agent chose a status: available, away or busy."""
        try:
            target = AgentStatus(status)
        except ValueError:
            target = None
        if target not in _CHOOSABLE:
            raise ClientError(f"status: must be one of {', '.join(s.value for s in _CHOOSABLE)}", "invalid_field")
        assert target is not None
        async with self._unit():
            rt = self._runtime(agent_id)
            self._set_status(rt, target)
            if target != AgentStatus.AVAILABLE:
                for offer in list(rt.offers.values()):
                    self._return_offer(offer, OfferState.REVOKED, "agent_unavailable")
        self.route_soon()
        return target

    def _set_status(self, rt: _AgentRuntime, status: AgentStatus) -> None:
        if rt.agent.status == status:
            return
        rt.agent.move(status)
        self.store.stage_agent_status(rt.agent.id, status)
        if status == AgentStatus.AVAILABLE and not rt.held:
            rt.idle_since = self.clock.now()
        self._refresh(rt)
        self._publish(f"agent:{rt.agent.id}", {"type": "status", "status": status.value})
        log.info("agent.status", agent_id=rt.agent.id, status=status.value)

    async def accept(self, agent_id: str, offer_id: str) -> Contact:
        async with self._unit():
            offer = self._held_offer(agent_id, offer_id)
            contact = dataclasses.replace(self._contacts[offer.contact_id])
            contact.move(ContactState.ASSIGNED)
            contact.agent_id = agent_id
            rt = self._agents[agent_id]
            self._record(
                contact, "contact.assigned", f"agent:{agent_id}", agent_id=agent_id, agent_name=rt.agent.display_name
            )
            self._contacts[contact.id] = contact
            self._end_offer(offer, OfferState.ACCEPTED, "accepted")
            rt.held.add(contact.id)
            rt.load[contact.channel.value] += 1
            self._refresh(rt)
            rt.idle_since = self.clock.now()
            self._refresh(rt)
            self._queue.settled(contact.id)
        log.info("offer.accepted", contact_id=contact.id, agent_id=agent_id, channel=contact.channel.value)
        self._publish(
            f"customer:{contact.customer_id}",
            {"type": "agent_joined", "contact_id": contact.id, "agent": rt.agent.display_name},
        )
        return contact

    async def reject(self, agent_id: str, offer_id: str) -> None:
        async with self._unit():
            offer = self._held_offer(agent_id, offer_id)
            self._return_offer(offer, OfferState.REJECTED, "rejected")
        self.route_soon()

    def _held_offer(self, agent_id: str, offer_id: str) -> Offer:
        offer = self._offers.get(offer_id)
        if offer is None or offer.agent_id != agent_id:
            raise NotHeld(f"offer {offer_id!r} is not open for you (taken back, expired or never yours)")
        return offer

    async def agent_reply(self, agent_id: str, contact_id: str, text: object, client_id: object) -> HistoryEvent:
        future, answer = _answer_future()
        self.post_agent_reply(agent_id, contact_id, text, client_id, answer)
        return await future

    def post_agent_reply(self, agent_id: str, contact_id: str, text: object, client_id: object, answer: Answer) -> None:
        """Append the agent's reply without waiting; ``answer`` is told once it is durable."""
        text = require_text("text", text, self.config.webchat.max_message_chars)
        client_id = require_text("client_id", client_id, 64)
        contact = self._held_contact(agent_id, contact_id, ContactState.ASSIGNED)
        self._post(contact, f"agent:{agent_id}", text, client_id, answer)

    def agent_typing(self, agent_id: str, contact_id: str) -> None:
        contact = self._held_contact(agent_id, contact_id, ContactState.ASSIGNED)
        self._publish(f"customer:{contact.customer_id}", {"type": "typing", "contact_id": contact_id})

    def held(self, agent_id: str, contact_id: str) -> Contact:
        """The contact if this agent holds it (assigned or in wrap-up); else :class:`NotHeld`."""
        contact = self._contacts.get(contact_id)
        if contact is None or contact.agent_id != agent_id or contact.state not in _HELD:
            raise NotHeld(f"contact {contact_id!r} is not assigned to you")
        return contact

    def _held_contact(self, agent_id: str, contact_id: str, state: ContactState) -> Contact:
        contact = self._contacts.get(contact_id)
        if contact is None or contact.agent_id != agent_id:
            raise NotHeld(f"contact {contact_id!r} is not assigned to you")
        if contact.state != state:
            raise NotHeld(f"contact {contact_id!r} is {contact.state.value}, not {state.value}")
        return contact

    async def close(self, agent_id: str, contact_id: str, disposition: str) -> Contact:
        """The agent ends a contact with a disposition; wrap-up time follows."""
        if disposition not in self.config.desk.dispositions:
            choices = ", ".join(self.config.desk.dispositions)
            raise ClientError(f"disposition: must be one of {choices}, got {disposition!r}", "invalid_field")
        async with self._unit():
            held = self._held_contact(agent_id, contact_id, ContactState.ASSIGNED)
            contact = dataclasses.replace(held)
            contact.move(ContactState.WRAP_UP)
            contact.disposition = disposition
            self._record(contact, "contact.wrap_up", f"agent:{agent_id}", disposition=disposition)
            self._contacts[contact.id] = contact
            wrap = self._agents[agent_id].agent.wrap_up_s
            self._timers[f"wrap:{contact.id}"] = self.clock.call_later(
                wrap, lambda: self._spawn(self._finish_wrap_up(contact.id))
            )
        self._publish(f"customer:{contact.customer_id}", {"type": "ended", "contact_id": contact.id, "by": "agent"})
        self._publish(
            f"agent:{agent_id}",
            {"type": "contact_state", "contact_id": contact.id, "state": "wrap_up", "wrap_up_s": wrap},
        )
        return contact

    async def _finish_wrap_up(self, contact_id: str) -> None:
        async with self._unit():
            self._finish_wrap_up_locked(contact_id)
        self.route_soon()

    def _finish_wrap_up_locked(self, contact_id: str) -> None:
        timer = self._timers.pop(f"wrap:{contact_id}", None)
        if timer is not None:
            timer.cancel()
        held = self._contacts.get(contact_id)
        if held is None or held.state != ContactState.WRAP_UP:
            return
        contact = dataclasses.replace(held)
        contact.move(ContactState.CLOSED)
        contact.closed_at = self.clock.now()
        self._record(contact, "contact.closed", "system", disposition=contact.disposition)
        self._forget(contact)
        rt = self._agents.get(contact.agent_id or "")
        if rt is not None:
            self._release(rt, contact)
            if not rt.held:
                rt.idle_since = self.clock.now()
                self._refresh(rt)
            self._publish(
                f"agent:{rt.agent.id}", {"type": "contact_state", "contact_id": contact_id, "state": "closed"}
            )

    def _release(self, rt: _AgentRuntime, contact: Contact) -> None:
        rt.held.discard(contact.id)
        rt.load[contact.channel.value] -= 1
        self._refresh(rt)

    # ------------------------------------------------------------------ the queue and routing

    def _new_contact(self, customer_id: str, channel: Channel, skills: list[tuple[str, int]]) -> Contact:
        now = self.clock.now()
        return Contact(
            id=uuid.uuid4().hex[:16],
            channel=channel,
            customer_id=customer_id,
            state=ContactState.QUEUED,
            created_at=now,
            enqueued_at=now,
            skills=skills,
        )

    def _enqueue(self, contact: Contact) -> None:
        """Put the contact in the queue; its customer's value must be cached (see _value)."""
        self._queue.put(contact, self._values.get(contact.customer_id, 0.0))
        self.route_soon()

    def route_soon(self) -> None:
        """Run a routing pass on the next turn of the loop (one pass for many changes)."""
        if self._route_task is None or self._route_task.done():
            try:
                # A fresh context: the pass is its own unit, not part of the caller's.
                self._route_task = asyncio.get_running_loop().create_task(
                    self.route_now(), context=contextvars.Context()
                )
            except RuntimeError:  # no running loop: the caller routes by hand
                self._route_task = None

    async def route_now(self) -> int:
        """Run one routing pass and carry out its offers; returns how many were made."""
        async with self._unit():
            if not self._queue:
                return 0
            now = self.clock.now()
            agents = tuple(self._floor.values())
            if not agents:
                return 0
            decisions = route(Snapshot(self._queue.snapshot(), agents, now), self.config.routing.policy)
            for decision in decisions:
                self._offer(decision.contact_id, decision.agent_id, decision.level, now)
            return len(decisions)

    def _refresh(self, rt: _AgentRuntime) -> None:
        """Keep the floor up to date: the agents that may be offered work now, as the router sees them.

        Called whenever an agent's connections, status, idle time or load change. An agent
        full on every channel is left off, so a pass never looks at it.
        """
        if rt.connections > 0 and rt.agent.status == AgentStatus.AVAILABLE and _has_room(rt.load, rt.agent.capacity):
            self._floor[rt.agent.id] = rt.state()
        else:
            self._floor.pop(rt.agent.id, None)

    def _offer(self, contact_id: str, agent_id: str, level: int, now: float) -> None:
        contact = dataclasses.replace(self._contacts[contact_id])
        contact.move(ContactState.OFFERED)
        offer = Offer(
            id=uuid.uuid4().hex[:16],
            contact_id=contact_id,
            agent_id=agent_id,
            created_at=now,
            expires_at=now + self.config.routing.offer_timeout_s,
        )
        self._record(contact, "contact.offered", "system", agent_id=agent_id, offer_id=offer.id, level=level)
        self._contacts[contact_id] = contact
        self._queue.take(contact_id)
        rt = self._agents[agent_id]
        rt.offers[offer.id] = offer
        rt.load[contact.channel.value] += 1
        self._refresh(rt)
        self._offers[offer.id] = offer
        self._timers[f"offer:{offer.id}"] = self.clock.call_later(
            self.config.routing.offer_timeout_s, lambda: self._spawn(self._offer_timed_out(offer.id))
        )
        log.info("offer.made", contact_id=contact_id, agent_id=agent_id, offer_id=offer.id, level=level)
        self._publish(f"agent:{agent_id}", self._offer_json(offer))

    async def _offer_timed_out(self, offer_id: str) -> None:
        async with self._unit():
            offer = self._offers.get(offer_id)
            if offer is None:
                return
            self._return_offer(offer, OfferState.TIMED_OUT, "timed_out")
            rt = self._agents[offer.agent_id]
            if rt.agent.status == AgentStatus.AVAILABLE:
                # An agent who lets an offer lapse is likely away from the desk.
                self._set_status(rt, AgentStatus.AWAY)
        self.route_soon()

    def _return_offer(self, offer: Offer, state: OfferState, reason: str) -> None:
        """Put an offered contact back in the queue at its original place."""
        contact = dataclasses.replace(self._contacts[offer.contact_id])
        contact.move(ContactState.QUEUED)
        self._record(contact, "contact.requeued", "system", agent_id=offer.agent_id, reason=reason)
        self._contacts[contact.id] = contact
        self._end_offer(offer, state, reason)
        if state in (OfferState.REJECTED, OfferState.TIMED_OUT):
            self._queue.declined(contact.id, offer.agent_id)
        self._enqueue(contact)
        log.info("offer.returned", contact_id=contact.id, agent_id=offer.agent_id, reason=reason)

    def _end_offer(self, offer: Offer, state: OfferState, reason: str, *, notify: bool = True) -> None:
        offer.move(state)
        self._offers.pop(offer.id, None)
        timer = self._timers.pop(f"offer:{offer.id}", None)
        if timer is not None:
            timer.cancel()
        rt = self._agents[offer.agent_id]
        rt.offers.pop(offer.id, None)
        contact = self._contacts[offer.contact_id]
        rt.load[contact.channel.value] -= 1
        self._refresh(rt)
        if notify:
            self._publish(
                f"agent:{offer.agent_id}",
                {"type": "offer_closed", "offer_id": offer.id, "contact_id": offer.contact_id, "reason": reason},
            )

    def _requeue(self, contact: Contact, reason: str) -> None:
        agent_id = contact.agent_id
        contact.move(ContactState.QUEUED)
        contact.agent_id = None
        self._record(contact, "contact.requeued", "system", agent_id=agent_id, reason=reason)
        self._publish(f"customer:{contact.customer_id}", {"type": "agent_left", "contact_id": contact.id})

    # ------------------------------------------------------------------ history and helpers

    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]:
        if await self.store.get_customer(customer_id) is None:
            raise NotFound(f"customer {customer_id} does not exist")
        return await self.store.history(customer_id, limit, before_id)

    async def transcript(self, agent_id: str, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]:
        contact = self._contacts.get(contact_id)
        offered = any(o.contact_id == contact_id and o.agent_id == agent_id for o in self._offers.values())
        if contact is None or (contact.agent_id != agent_id and not offered):
            raise Forbidden(f"contact {contact_id!r} is not yours")
        return await self.store.messages(contact_id, after_seq)

    def _event(self, contact: Contact, kind: str, actor: str, **data: Any) -> NewEvent:
        return NewEvent(contact.customer_id, contact.id, contact.channel.value, kind, self.clock.now(), actor, data)

    def _record(self, contact: Contact, kind: str, actor: str, **data: Any) -> None:
        """Stage the contact as it is now and one history event; a unit waits for both."""
        self.store.stage([contact], [self._event(contact, kind, actor, **data)])

    def _publish(self, topic: str, message: dict[str, Any]) -> None:
        """Publish now, or, inside a unit of work, once what it recorded is durable."""
        outbox = _OUTBOX.get()
        if outbox is None:
            self.bus.publish(topic, message)
        else:
            outbox.append((topic, message))

    @contextlib.asynccontextmanager
    async def _unit(self) -> AsyncIterator[None]:
        """One state change: made under the lock, recorded, then told.

        The body changes the in-memory state and stages its records without waiting;
        the lock is released, the records are committed (shared with whatever else was
        staged meanwhile), and only then do the messages it published go out.
        """
        outbox: list[tuple[str, dict[str, Any]]] = []
        async with self._lock:
            token = _OUTBOX.set(outbox)
            try:
                yield
            finally:
                _OUTBOX.reset(token)
        if not outbox:
            await self.store.barrier()
            return
        durable = asyncio.ensure_future(self.store.barrier())

        def tell(done: asyncio.Future[None]) -> None:
            # Runs even if the caller was cancelled meanwhile: a change made is always told.
            if not done.cancelled() and done.exception() is None:
                for topic, message in outbox:
                    self.bus.publish(topic, message)

        durable.add_done_callback(tell)
        await asyncio.shield(durable)

    def _publish_message(self, contact: Contact, event: HistoryEvent) -> None:
        message = event.as_message()
        self._publish(f"customer:{contact.customer_id}", message)
        if contact.agent_id:
            self._publish(f"agent:{contact.agent_id}", message)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
