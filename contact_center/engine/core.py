"""The engine: one integrated queue, offers, assignments, conversations and history.

Channel adapters and the agent desk call the coroutines here; the engine records every
change in the store *before* it tells anyone (the caller's return value, or a message on
the :class:`Bus`), so whatever a client saw acknowledged survives a crash.

What the engine works on is two kinds of record: contacts (:class:`Contact`, with their open
offer) and agents' presences (:class:`Presence`). Everything else it keeps (the queue, each
agent's load, held contacts and offers, the timers) is derived from those records by
:meth:`Engine._apply`, whether a record was changed here, announced by another node, or read
again from the store. A change runs under a lock as one unit: the records it makes are
applied at once and committed together; only then do its messages go out. Routing is a pure
pass over a snapshot (:func:`routing.route`) whose decisions are carried out the same way.

Several nodes can share one store (Redis). Each keeps the records in memory as every node
committed them (announced on the bus topic ``state``), and each commit names the version of
every record it changed: a change made on a record another node changed first is refused
whole (:class:`Stale`), the records are read again and the change is tried afresh. So two
nodes deciding at once never give one contact to two agents, nor an agent more than its room.
Timers are the work of the node that made the change; another node takes them over when that
node's lease has lapsed (:class:`~contact_center.leases.Leases`).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import uuid
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

import structlog

from contact_center.bus import Bus
from contact_center.clock import Clock, Timer
from contact_center.config import Config
from contact_center.engine.state import (
    CHOOSABLE,
    HELD,
    OPEN,
    OPEN_CHAT,
    AgentRuntime,
    burden,
    has_room,
    is_open_chat,
)
from contact_center.engine.timers import Timers
from contact_center.engine.units import CURRENT_UNIT, Answer, Unit, Written, answer_future
from contact_center.exceptions import ClientError, Conflict, Forbidden, NotFound, NotHeld, Stale
from contact_center.fields import normalise_email, require_text
from contact_center.mail import Arrival, Composer, MailOutcome, MailRecord, Outbound, OutboundState, recipients
from contact_center.mail_threads import thread_for
from contact_center.metrics import Metrics
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
    Presence,
    Role,
)
from contact_center.queue import IntegratedQueue
from contact_center.records import contact_from_record, presence_from_record
from contact_center.store import Changes, NewEvent, Store
from routing import AgentState, Snapshot, route

__all__ = ["Engine", "NodeLiveness"]

T = TypeVar("T")

# Told the outcome of a posted message: the recorded event, or the exception that stopped it.

log = structlog.get_logger("contact_center.engine")

_ATTEMPTS = 4  # a change refused as stale is tried again this many times in all
_TICK_S = 1.0  # a routing pass at least this often while contacts wait (widening goes by time)
_REMEMBERED = 50_000  # versions of finished contacts kept, so a late announcement cannot revive one
_MAX_EMAIL_CHARS = 50_000  # an agent's email reply


class NodeLiveness(Protocol):
    """Whether another engine node still holds its lease, and whether this one routes (:mod:`~.leases`)."""

    @property
    def takeover_s(self) -> float: ...

    @property
    def sole_router(self) -> bool: ...

    def leading(self) -> bool: ...

    async def alive(self, node_id: str) -> bool: ...

    async def dead(self, nodes: Iterable[str]) -> set[str]: ...


class Engine:
    """The core service behind every channel and the desk."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: Config,
        bus: Bus | None = None,
        *,
        node_id: str = "local",
        liveness: NodeLiveness | None = None,
        metrics: Metrics | None = None,
        composer: Composer | None = None,
        on_outbound: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.bus = bus if bus is not None else Bus()  # in-process, unless nodes share one (RedisBus)
        self.node_id = node_id
        self.shared = store.shared
        self._liveness = liveness
        self.metrics = metrics if metrics is not None else Metrics()
        self.metrics.gauge("cc_contacts_waiting", lambda: len(self._queue))
        self.metrics.gauge("cc_agents_on_floor", lambda: len(self._floor))
        self._lock = asyncio.Lock()
        self._contacts: dict[str, Contact] = {}  # open contacts, by id
        self._queue = IntegratedQueue(config.webchat, config.routing.policy, config.sla.calendar, config.email.promise)
        self._offers: dict[str, Offer] = {}
        self._timers = Timers(clock, node_id, liveness, self._spawn)
        self._timers.handle("offer", self._offer_timed_out)  # argument: the offer's id
        self._timers.handle("wrap", self._finish_wrap_up)
        self._timers.handle("risk", self._at_risk)
        self._timers.handle("sla", self._breach)
        self._timers.handle("grace", self._agent_gone)  # subject: the agent
        self._agents: dict[str, AgentRuntime] = {}
        self._floor: dict[str, AgentState] = {}  # agents able to take offers now (see _refresh)
        self._chat_of: dict[str, str] = {}  # customer id -> its latest chat contact id
        self._known: OrderedDict[str, int] = OrderedDict()  # record key -> version the store confirmed
        self._route_task: asyncio.Task[int] | None = None
        self._route_again = False
        self._route_timer: Timer | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._stop_listening: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._desks: Counter[str] = Counter()  # agent id -> desks connected to this node
        self._resyncing: asyncio.Task[None] | None = None
        self._resync_wanted = False
        self._after_resync: list[Callable[[], None]] = []
        self.composer = composer  # makes the mails the engine sends (the email channel's, given by the root)
        self.on_outbound = on_outbound  # told when a unit queued mail to send

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Load agents and open contacts.

        Alone on its store, the engine was the only one running: contacts offered before a
        restart queue again, wrap-ups end, agents are offline until their desks come back.
        Sharing a store, it joins the nodes already running and takes the records as they are.
        """
        now = self.clock.now()
        agents = await self.store.list_agents()
        for agent in agents:
            self._agents[agent.id] = AgentRuntime(agent, Presence(agent.id, agent.status, idle_since=now))
        if self.shared:
            self._stop_listening = self.bus.subscribe("state", self._heard)
            await self.resync()
        else:
            contacts = await self.store.open_contacts()
            for contact in contacts:
                customer = await self.store.get_customer(contact.customer_id)
                contact.value = customer.value if customer else 0.0
            await self._run(partial(self._restore, contacts, now))
        self._ticker = asyncio.get_running_loop().create_task(self._tick(), context=contextvars.Context())
        log.info("engine.started", node=self.node_id, open_contacts=len(self._contacts), waiting=len(self._queue))

    def _restore(self, contacts: list[Contact], now: float) -> None:
        for rt in self._agents.values():
            if rt.presence.status != AgentStatus.OFFLINE:
                self._set_presence(rt, status=AgentStatus.OFFLINE)
        loads: dict[str, Counter[str]] = {}
        for loaded in contacts:
            counted = burden(loaded)
            if counted is not None and counted[0] in self._agents:
                loads.setdefault(counted[0], Counter())[counted[1]] += 1
        for agent_id, load in loads.items():
            self._set_presence(self._agents[agent_id], load=dict(load))
        for loaded in contacts:
            self._apply(loaded)
            contact = dataclasses.replace(loaded)
            if contact.state == ContactState.OFFERED:
                contact.move(ContactState.QUEUED)
                contact.offer = None
                self._put(contact, "contact.requeued", "system", reason="restart")
            elif contact.state == ContactState.WRAP_UP:
                contact.move(ContactState.CLOSED)
                contact.closed_at = now
                self._put(contact, "contact.closed", "system", disposition=contact.disposition)
            elif contact.state == ContactState.ASSIGNED and contact.agent_id not in self._agents:
                self._requeue(contact, "agent_removed")
        for rt in self._agents.values():
            if rt.held:
                self._set_presence(rt, grace_until=now + self.config.desk.reconnect_grace_s)

    async def resync(self) -> None:
        """Take every open contact and every presence as the store has them, and count this node's desks in.

        For a node joining the others, and for one that may have missed news or failed to
        record a change (Redis away, the bus reconnected, its lease lapsed): what it holds in
        memory becomes what the store holds, and the agents' presences say again how many
        desks each has on this node.
        """
        async with self._lock:  # no unit is made meanwhile; those queued are written first
            await self.store.barrier()
            contacts = await self.store.open_contacts()
            _, presences = await self.store.current((), list(self._agents))
            for presence in presences:
                self._heard_presence(presence, force=True)
            open_ids = {c.id for c in contacts}
            for contact in contacts:
                self._heard_contact(contact, force=True)
            for contact_id in [cid for cid in self._contacts if cid not in open_ids]:
                gone = await self.store.get_contact(contact_id)
                if gone is not None:
                    self._heard_contact(gone, force=True)
        await self._run(self._recount_desks)
        self.route_soon()

    def resync_soon(self, then: Callable[[], None] | None = None) -> None:
        """Resync once the store answers again; many calls meanwhile make one resync, after which ``then`` runs."""
        if not self.shared:
            return
        if then is not None:
            self._after_resync.append(then)
        self._resync_wanted = True
        if self._resyncing is None or self._resyncing.done():
            self._resyncing = asyncio.get_running_loop().create_task(
                self._resync_until_done(), context=contextvars.Context()
            )

    async def _resync_until_done(self) -> None:
        pause = 0.1
        while self._resync_wanted:
            self._resync_wanted = False
            try:
                await self.resync()
            except Exception as exc:  # the store is still away: a little later each time
                self._resync_wanted = True
                log.warning("engine.resync_failed", error=repr(exc), retry_in_s=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
            else:
                log.info("engine.resynced", node=self.node_id, open_contacts=len(self._contacts))
                if not self._resync_wanted:
                    after, self._after_resync = self._after_resync, []
                    for then in after:
                        then()

    def _recount_desks(self) -> None:
        """Make each agent's presence count the desks it has on this node now."""
        for agent_id, rt in self._agents.items():
            mine = self._desks.get(agent_id, 0)
            if rt.presence.connections.get(self.node_id, 0) == mine:
                continue
            connections = {n: c for n, c in rt.presence.connections.items() if n != self.node_id}
            if mine:
                connections[self.node_id] = mine
            grace = None if connections else rt.presence.grace_until
            self._set_presence(rt, connections=connections, grace_until=grace)
            if not connections:
                self._gone_for_now(rt, "agent_disconnected")

    def stop(self) -> None:
        self._timers.stop()
        for task in (self._route_task, self._ticker, self._resyncing):
            if task is not None:
                task.cancel()
        if self._route_timer is not None:
            self._route_timer.cancel()
        if self._stop_listening is not None:
            self._stop_listening()

    def leading(self) -> bool:
        """This node does the work done once for all: routing, reading mailboxes, sending mail."""
        return self._liveness is None or self._liveness.leading()

    def add_agent(self, agent: Agent) -> None:
        """Make a newly created account known to the running engine."""
        self._agents.setdefault(agent.id, AgentRuntime(agent, Presence(agent.id, idle_since=self.clock.now())))

    async def _learn_agent(self, agent_id: str) -> AgentRuntime:
        """An agent created on another node: its account (and presence) from the store."""
        agent = await self.store.get_agent(agent_id)
        if agent is None:
            raise NotFound(f"agent {agent_id} does not exist")
        self.add_agent(agent)
        rt = self._agents[agent_id]
        _, presences = await self.store.current((), [agent_id])
        for presence in presences:
            self._heard_presence(presence, force=True)
        for contact in list(self._contacts.values()):  # contacts heard of before the agent
            if agent_id in (contact.agent_id, contact.offer.agent_id if contact.offer else None):
                self._apply(contact)
        return rt

    # ------------------------------------------------------------------ queries

    def contact(self, contact_id: str) -> Contact | None:
        return self._contacts.get(contact_id)

    def agent(self, agent_id: str) -> Agent:
        return self._runtime(agent_id).agent

    def waiting(self) -> list[str]:
        """Ids of the queued contacts in queue order."""
        return self._queue.order(self.clock.now())

    def open_chat(self, customer_id: str) -> Contact | None:
        """The customer's chat that is waiting or being worked, if any."""
        contact = self._contacts.get(self._chat_of.get(customer_id, ""))
        if contact is not None and contact.customer_id == customer_id and is_open_chat(contact):
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
                "status": rt.presence.status.value,
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
            "left_at": contact.left_at,
            **(self._email_json(contact) if contact.channel == Channel.EMAIL else {}),
        }

    def _email_json(self, contact: Contact) -> dict[str, Any]:
        calendar, promise = self.config.sla.calendar, self.config.email.promise
        return {
            "ticket": contact.ticket,
            "due_at": promise.due(calendar, contact.created_at),
            "answered_at": contact.answered_at,
            "breached_at": contact.breached_at,
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

    async def merge_customers(self, keep: str, gone: str, kind: IdentityKind, value: str, by: str) -> None:
        """``gone`` proved it is ``keep`` (by ``kind:value``, as ``by`` vouched): one customer from now on.

        ``gone``'s identities, contacts, sessions and history become ``keep``'s; its open contacts
        go on under ``keep`` with the higher value of the two; its widget follows (``merged``).
        Only ever for a proven identity (:mod:`~contact_center.identities`): a claim merges nothing.
        """
        now = self.clock.now()
        data = {"merged": gone, "by": kind.value, "value": value, "verified_by": by}
        await self.store.merge_customers(keep, gone, NewEvent(keep, None, None, "identity.merged", now, by, data))
        merged = await self.store.get_customer(keep)
        worth = merged.value if merged is not None else 0.0  # the higher of the two

        def move() -> None:
            for contact in list(self._contacts.values()):
                if contact.customer_id in (gone, keep):
                    self._put(dataclasses.replace(contact, customer_id=keep, value=worth))

        await self._run(move)
        log.info("customer.merged", customer_id=keep, merged=gone, by=kind.value, verified_by=by)
        self._publish(f"customer:{gone}", {"type": "merged", "customer_id": keep, "by": kind.value, "value": value})
        self.route_soon()

    def works_for(self, agent_id: str, customer_id: str) -> bool:
        """Whether the agent holds, or is offered, a contact of this customer now."""
        rt = self._agents.get(agent_id)
        if rt is None:
            return False
        ids = [*rt.held, *(offer.contact_id for offer in rt.offers.values())]
        return any((c := self._contacts.get(i)) is not None and c.customer_id == customer_id for i in ids)

    async def may_read(self, user_id: str, customer_id: str) -> None:
        """Let a user read a customer's record and history, or raise :class:`Forbidden`.

        Supervisors read everyone's. An agent reads the customers whose contact it holds or is
        offered, and, with ``desk.history_of_handled``, those it was assigned a contact of before.
        """
        agent = self._agents[user_id].agent if user_id in self._agents else await self.store.get_agent(user_id)
        if agent is None:
            raise Forbidden("an unknown user reads nothing")
        if agent.role == Role.SUPERVISOR or self.works_for(user_id, customer_id):
            return
        if self.config.desk.history_of_handled and await self._handled(user_id, customer_id):
            return
        raise Forbidden(f"customer {customer_id} is not yours to read: you hold no contact of theirs")

    async def _handled(self, agent_id: str, customer_id: str) -> bool:
        for event in await self.store.history(customer_id, 5000):
            if event.kind == "contact.assigned" and event.data.get("agent_id") == agent_id:
                return True
        return False

    async def send_code(self, address: str, code: str, language: str, minutes: int, event: NewEvent) -> None:
        """Mail a one-time code through the outbox (durable, sent once), with its history event."""
        if self.composer is None:
            raise ClientError("codes cannot be mailed: this engine has no SMTP configured", "verification_unavailable")
        outbound = self.composer.verification(address, code, language, minutes, self.clock.now())

        def queue() -> None:
            unit = CURRENT_UNIT.get()
            assert unit is not None
            unit.outbound.append(outbound)
            unit.events.append(event)

        await self._run(queue)

    async def set_customer_value(self, customer_id: str, value: float) -> None:
        if await self.store.get_customer(customer_id) is None:
            raise NotFound(f"customer {customer_id} does not exist")
        await self.store.set_customer(customer_id, name=None, value=value)

        def revalue() -> None:
            for contact in list(self._contacts.values()):
                if contact.customer_id == customer_id and contact.value != value:
                    self._put(dataclasses.replace(contact, value=value))

        await self._run(revalue)
        self.route_soon()

    async def _value(self, customer_id: str) -> float:
        customer = await self.store.get_customer(customer_id)
        return customer.value if customer else 0.0

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

    def customer_writes(
        self,
        customer_id: str,
        text: object,
        client_id: object,
        answer: Answer,
        *,
        topic: str = "general",
        language: str = "en",
    ) -> Contact | Awaitable[Contact | None]:
        """A customer's chat message: the one way in, whether it goes into their open chat or opens one.

        ``answer`` is told the recorded message (or what stopped it) once it is durable, before
        anyone else hears of it. Into an open chat, the message is staged and the chat returned at
        once: a socket reads on meanwhile, so the messages a client has in flight share one commit.
        A message that opens a chat returns an awaitable of the new chat (None if it could not be
        opened: ``answer`` was told why), to be awaited before the customer's next message (which
        then joins it). A repeat of ``client_id`` is answered with
        the message first recorded and changes nothing. Bad fields raise at once.
        """
        text = require_text("text", text, self.config.webchat.max_message_chars)
        client_id = require_text("client_id", client_id, 64)
        contact = self.open_chat(customer_id)
        if contact is not None:
            # Appending to an open conversation needs no lock: the store numbers messages.
            self._post(contact, "customer", text, client_id, answer)
            return contact
        skills = self.chat_skills(topic, language)
        return self._open_chat(customer_id, text, client_id, answer, skills, topic, language)

    async def customer_message(
        self, customer_id: str, text: object, client_id: object, *, topic: str = "general", language: str = "en"
    ) -> tuple[Contact, HistoryEvent]:
        """:meth:`customer_writes`, waiting until the message is durable: the chat it is in, and the message."""
        future, answer = answer_future()
        written = self.customer_writes(customer_id, text, client_id, answer, topic=topic, language=language)
        contact = written if isinstance(written, Contact) else await written
        event = await future  # what stopped it, if anything, is raised here
        assert contact is not None
        return contact, event

    async def _open_chat(
        self,
        customer_id: str,
        text: str,
        client_id: str,
        answer: Answer,
        skills: list[tuple[str, int]],
        topic: str,
        language: str,
    ) -> Contact | None:
        """Open a chat with its first message (or join one opened meanwhile); ``answer`` is told as for any message."""
        try:
            value = await self._value(customer_id)

            def open_or_join() -> tuple[Contact, Awaitable[tuple[HistoryEvent, bool]] | None]:
                found = self.open_chat(customer_id)
                if found is not None:
                    return found, None
                return self._open_chat_contact(customer_id, value, text, client_id, skills, topic, language)

            contact, first = await self._run(open_or_join)
            if first is None:  # another message of this customer's opened it first
                self._post(contact, "customer", text, client_id, answer)
                return contact
            try:
                event, _ = await first
            except BaseException:
                self._drop(contact)  # not recorded: it never was
                raise
        except Exception as exc:  # told to the sender alone, like a message that could not be recorded
            answer(exc)
            return None
        self._known_version(f"contact:{contact.id}", contact.version)
        self.route_soon()
        answer(event)  # the sender first, as for every message
        self._publish_message(contact, event)
        return contact

    def _open_chat_contact(
        self,
        customer_id: str,
        value: float,
        text: str,
        client_id: str,
        skills: list[tuple[str, int]],
        topic: str,
        language: str,
    ) -> tuple[Contact, Awaitable[tuple[HistoryEvent, bool]]]:
        """A new chat and its first message, written together (the store announces the new record)."""
        now = self.clock.now()
        contact = Contact(
            id=uuid.uuid4().hex[:16],
            channel=Channel.CHAT,
            customer_id=customer_id,
            state=ContactState.QUEUED,
            created_at=now,
            enqueued_at=now,
            skills=skills,
            value=value,
            last_seq=1,
            version=1,
            node=self.node_id,
        )
        created = self._event(contact, "contact.created", "customer", topic=topic, language=language)
        first = self.store.add_message(contact, "customer", text, client_id, now, [created], create=True)
        self._apply(contact)
        log.info("contact.created", contact_id=contact.id, channel="chat", customer_id=customer_id)
        return contact, first

    def _post(self, contact: Contact, actor: str, text: str, client_id: str, answer: Answer) -> None:
        """Stage a message; once durable, answer its sender, then tell everyone else (a repeat again)."""
        self.store.post_message(contact, actor, text, client_id, self.clock.now(), Written(self, contact, answer))

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

        def leave() -> Contact | None:
            contact = self.open_chat(customer_id)
            if contact is None:
                return None
            if (
                contact.state == ContactState.ASSIGNED
            ):  # the agent wraps it up; the customer's next message is a new chat
                left = dataclasses.replace(contact, left_at=self.clock.now())
                self._put(left, "customer.left", "customer")
                self._publish(f"agent:{contact.agent_id}", {"type": "customer_left", "contact_id": contact.id})
            else:
                self._abandon(contact)
            return contact

        contact = await self._run(leave)
        if contact is not None:
            self._publish(f"customer:{customer_id}", {"type": "ended", "contact_id": contact.id, "by": "customer"})
            self.route_soon()
        return contact

    def _abandon(self, contact: Contact) -> None:
        offer = contact.offer
        ended = dataclasses.replace(contact, offer=None, closed_at=self.clock.now())
        ended.move(ContactState.ABANDONED)
        self._put(ended, "contact.abandoned", "customer")
        if offer is not None:
            self._offer_closed(offer, "abandoned")

    # ------------------------------------------------------------------ email

    async def receive_mail(self, arrival: Arrival) -> MailOutcome:
        """File a fetched mail: into the open contact of its thread, or a new contact in the queue.

        The mail, the contact, the history events and the acknowledgement (once per thread, never
        to a machine, at most ``acks_per_sender`` per window) are recorded as one unit, with the
        mail's place in its mailbox: a place recorded before files nothing (``recorded``). The
        same bytes filed before under another place are noted as a ``duplicate``, nothing more.
        """
        record = arrival.record
        # One look-up for the mail's own Message-ID and the ids it answers.
        found = await self.store.thread([record.message_id, *arrival.thread_ids])
        known = [e for e in found if e.message_id == record.message_id]
        parents = [e for e in found if e.message_id != record.message_id]
        if known and known[0].digest == record.digest:
            again = dataclasses.replace(record, duplicate_of=known[0].mail_id, thread_ids=())
            self.metrics.inc("cc_mails_filed_total", outcome="duplicate")
            return await self._file_alone(again, MailOutcome("duplicate", known[0].contact_id, known[0].ticket))
        if known:  # the sender used this Message-ID for another mail: this one gets its own
            own = f"<{record.digest[:40]}@reused-message-id.invalid>"
            problems = [
                *record.summary.get("problems", ()),
                f"Message-ID {record.message_id} was reused; kept as {own}",
            ]
            record = dataclasses.replace(record, message_id=own, summary={**record.summary, "problems": problems})
        customer_id = await self._customer_by_email(arrival.address, arrival.name)
        threading = await thread_for(self.store, arrival, parents, customer_id)
        ticket, latest = threading.ticket, threading.latest
        first = not ticket
        if first:
            ticket = f"{self.config.email.ticket_prefix}-{await self.store.next_ticket()}"
        if threading.named:
            log.warning("email.thread_refused", ticket=threading.named, reason=threading.refused)
            refused = {"ticket": threading.named, "reason": threading.refused}
            record = dataclasses.replace(record, summary={**record.summary, "thread_refused": refused})
        no_ack = await self._ack_refusal(arrival) if first else "not the first mail of its thread"
        value = await self._value(customer_id)
        file = partial(self._file_mail, arrival, record, customer_id, value, ticket, latest, no_ack)
        try:
            outcome = await self._run(file)
        except Conflict:
            log.info("email.recorded_already", mail_id=record.id, source=str(record.source))
            outcome = MailOutcome("recorded", None, ticket)
        self.metrics.inc("cc_mails_filed_total", outcome=outcome.kind)
        return outcome

    async def quarantine_mail(self, record: MailRecord) -> MailOutcome:
        """Keep a fetched mail that cannot be read, with the reason, for supervisors; it files nothing."""
        log.warning("email.quarantined", mail_id=record.id, reason=record.quarantine, source=str(record.source))
        self.metrics.inc("cc_mails_quarantined_total")
        return await self._file_alone(record, MailOutcome("quarantined"))

    async def _file_alone(self, record: MailRecord, outcome: MailOutcome) -> MailOutcome:
        try:
            await self.store.commit(Changes(mails=(record,), node=self.node_id))
        except Conflict:
            return MailOutcome("recorded", outcome.contact_id, outcome.ticket)
        return outcome

    async def _customer_by_email(self, address: str, name: str) -> str:
        try:
            address = normalise_email(address)
        except ClientError:
            address = address.strip().lower()  # as the mail has it: still the person to answer
        found = await self.store.find_customer(IdentityKind.EMAIL, address)
        if found is not None:
            return found
        customer = Customer(uuid.uuid4().hex[:16], name[:120], 0.0, self.clock.now(), [(IdentityKind.EMAIL, address)])
        try:
            await self.store.create_customer(customer)
        except Conflict:  # created meanwhile by a chat's identify or another mail
            found = await self.store.find_customer(IdentityKind.EMAIL, address)
            if found is not None:
                return found
            raise
        return customer.id

    async def _ack_refusal(self, arrival: Arrival) -> str | None:
        if arrival.ack_refusal is not None:
            return arrival.ack_refusal
        if self.composer is None:
            return "no mail composer is configured"
        cfg = self.config.email
        since = self.clock.now() - cfg.ack_window_min * 60
        sent = await self.store.acks_to(arrival.address, since)
        if len(sent) >= cfg.acks_per_sender:
            return f"{len(sent)} acknowledgements went to {arrival.address} in the last {cfg.ack_window_min:g} minutes"
        domain = arrival.address.rsplit("@", 1)[-1]
        to_domain = await self.store.acks_to_domain(domain, since)
        if len(to_domain) >= cfg.acks_per_domain:
            return f"{len(to_domain)} acknowledgements went to {domain} in the last {cfg.ack_window_min:g} minutes"
        return None

    def _file_mail(
        self,
        arrival: Arrival,
        record: MailRecord,
        customer_id: str,
        value: float,
        ticket: str,
        latest: str | None,
        no_ack: str | None,
    ) -> MailOutcome:
        unit = CURRENT_UNIT.get()
        assert unit is not None
        now = self.clock.now()
        contact = self._contacts.get(latest) if latest else None
        if contact is None or contact.state not in OPEN_CHAT:
            # A new thread, or one whose contact is finished or being wrapped up: a new contact.
            contact = Contact(
                id=uuid.uuid4().hex[:16],
                channel=Channel.EMAIL,
                customer_id=customer_id,
                state=ContactState.QUEUED,
                created_at=now,
                enqueued_at=now,
                skills=list(arrival.skills),
                subject=arrival.subject[:300],
                value=value,
                ticket=ticket,
            )
            refused = record.summary.get("thread_refused")
            linked = {"linked_ticket": refused["ticket"], "unverified_sender": True} if refused else {}
            self._put(contact, "contact.created", "customer", ticket=ticket, follows=latest,
                      mailbox=arrival.mailbox_address, **linked)  # fmt: skip
            kind = "new"
        else:
            kind = "joined"
        mail = dataclasses.replace(
            record,
            contact_id=contact.id,
            customer_id=contact.customer_id,
            ticket=ticket,
            thread_ids=(record.message_id,),
        )
        unit.mails.append(mail)
        self._note(contact, "email.received", "customer", mail_id=mail.id, subject=arrival.subject[:300],
                   address=arrival.address, preview=arrival.text[:300])  # fmt: skip
        acknowledged = False
        if kind == "new" and no_ack is None and self.composer is not None:
            due = self.config.email.promise.due(self.config.sla.calendar, now)
            ack, outbound = self.composer.acknowledgement(arrival, contact, due, now)
            unit.mails.append(ack)
            unit.outbound.append(outbound)
            self._note(contact, "email.acknowledged", "system", mail_id=ack.id, due_at=due)
            acknowledged = True
        elif no_ack is not None and kind == "new":
            self._note(contact, "email.not_acknowledged", "system", reason=no_ack)
        if kind == "joined" and contact.agent_id:
            self._publish(f"agent:{contact.agent_id}", {"type": "email", "contact_id": contact.id, "mail_id": mail.id})
        log.info("email.filed", contact_id=contact.id, ticket=ticket, outcome=kind, acknowledged=acknowledged)
        return MailOutcome("filed" if kind == "joined" else "new", contact.id, ticket, acknowledged, no_ack)

    async def email_reply(
        self,
        agent_id: str,
        contact_id: str,
        text: object,
        client_id: object,
        *,
        reply_to: object = None,
        cc: object = (),
    ) -> dict[str, Any]:
        """The agent answers an email contact: the reply goes to the outbox, once per ``client_id``.

        It goes to the thread's customer (:func:`~contact_center.mail.recipients`); to a
        ``Reply-To`` of the thread's mails only when the agent names it (``reply_to``), and to
        the addresses in ``cc`` besides, whose mails may then join the thread. The first reply is
        the contact's first response (``answered_at``), measured by the SLA clock; each reply is an
        ``email.sent`` history event. A repeat of ``client_id`` queues nothing and returns the reply
        queued first.
        """
        text = require_text("text", text, _MAX_EMAIL_CHARS)
        client_id = require_text("client_id", client_id, 64)
        copies = self._copies(cc)
        held = self._held_contact(agent_id, contact_id, ContactState.ASSIGNED)
        if held.channel != Channel.EMAIL:
            raise ClientError(f"contact {contact_id!r} is a {held.channel.value}, not an email", "wrong_channel")
        if self.composer is None:
            raise ClientError("email is not configured on this engine (no SMTP)", "email_unavailable")
        thread = await self.store.mails_of(contact_id)
        to = await self._reply_address(held, thread, reply_to)
        author = self._runtime(agent_id).agent.display_name
        key = f"reply:{contact_id}:{client_id}"

        def send() -> dict[str, Any]:
            unit = CURRENT_UNIT.get()
            assert unit is not None and self.composer is not None
            contact = self._held_contact(agent_id, contact_id, ContactState.ASSIGNED)
            now = self.clock.now()
            mail, outbound = self.composer.reply(contact, thread, text, author, key, now, to=to, cc=copies)
            unit.mails.append(mail)
            unit.outbound.append(outbound)
            first = contact.answered_at is None
            data = {"mail_id": mail.id, "first_response": first, "text": text[:300], "to": to, "cc": copies}
            if first:
                due = self.config.email.promise.due(self.config.sla.calendar, contact.created_at)
                self._put(dataclasses.replace(contact, answered_at=now), "email.sent", f"agent:{agent_id}",
                          within_promise=now <= due, **data)  # fmt: skip
            else:
                self._note(contact, "email.sent", f"agent:{agent_id}", **data)
            return {"contact_id": contact_id, "mail_id": mail.id, "outbound_id": outbound.id, "first_response": first}

        try:
            sent = await self._run(send)
        except Conflict:  # this client_id's reply is queued already
            queued = next((m for m in await self.store.mails_of(contact_id) if m.summary.get("key") == key), None)
            if queued is None:
                raise
            return {"contact_id": contact_id, "mail_id": queued.id, "outbound_id": None, "first_response": False}
        self._publish(f"agent:{agent_id}", {"type": "email_sent", "contact_id": contact_id, "mail_id": sent["mail_id"]})
        return sent

    async def mail_failed(self, pending: Outbound, error: str) -> None:
        """The outbox gave up on a mail (refused, or out of time): marked failed, and told in the contact's history."""
        await self.store.update_outbound(dataclasses.replace(pending, state=OutboundState.FAILED, last_error=error))
        contact = await self.store.get_contact(pending.contact_id) if pending.contact_id else None
        if contact is None:
            return
        data = {"mail_id": pending.mail_id, "kind": pending.kind, "error": error, "attempts": pending.attempts}
        event = NewEvent(contact.customer_id, contact.id, "email", "email.failed", self.clock.now(), "system", data)
        await self.store.record((), [event])

    def _copies(self, cc: object) -> list[str]:
        """The addresses an agent copies a reply to: at most ten, never the engine's own."""
        if not isinstance(cc, list | tuple) or len(cc) > 10:
            raise ClientError("cc: a list of at most 10 email addresses", "invalid_field")
        copies = list(dict.fromkeys(normalise_email(a) for a in cc))
        own = [a for a in copies if a in self.config.email.own_addresses]
        if own:
            raise ClientError(f"cc: {own[0]} is this engine's own mailbox", "invalid_field")
        return copies

    async def reply_addresses(self, contact: Contact, thread: Sequence[MailRecord]) -> tuple[str | None, list[str]]:
        """Where a reply to the contact goes, and the Reply-To addresses its mails asked for instead."""
        customer = await self.store.get_customer(contact.customer_id)
        emails = [v for k, v in customer.identities if k == IdentityKind.EMAIL] if customer is not None else []
        return recipients(thread, emails)

    async def _reply_address(self, contact: Contact, thread: Sequence[MailRecord], reply_to: object) -> str:
        to, offered = await self.reply_addresses(contact, thread)
        if reply_to is not None:
            wanted = normalise_email(reply_to)
            if wanted != to and wanted not in offered:
                raise ClientError(
                    f"reply_to: {wanted} is not a Reply-To of this thread's mails; replies go to {to}",
                    "invalid_field",
                )
            to = wanted
        if to is None:
            raise ClientError(f"contact {contact.id!r} has no mail from the customer to answer", "invalid_field")
        return to

    async def _at_risk(self, contact_id: str) -> None:
        contact = self._contacts.get(contact_id)
        if contact is None or contact.answered_at is not None:
            return
        due = self.config.email.promise.due(self.config.sla.calendar, contact.created_at)
        log.warning("sla.at_risk", contact_id=contact_id, due_at=due)
        self._publish("supervisors", {"type": "sla_at_risk", "contact_id": contact_id, "due_at": due})

    async def _breach(self, contact_id: str) -> None:
        def breach() -> None:
            contact = self._contacts.get(contact_id)
            if contact is None or contact.answered_at is not None or contact.breached_at is not None:
                return
            due = self.config.email.promise.due(self.config.sla.calendar, contact.created_at)
            self._put(dataclasses.replace(contact, breached_at=self.clock.now()), "sla.breached", "system", due_at=due)
            log.warning("sla.breached", contact_id=contact_id, due_at=due)
            self._publish("supervisors", {"type": "sla_breached", "contact_id": contact_id, "due_at": due})

        await self._run(breach)

    # ------------------------------------------------------------------ agents

    def _runtime(self, agent_id: str) -> AgentRuntime:
        rt = self._agents.get(agent_id)
        if rt is None:
            raise NotFound(f"agent {agent_id} does not exist")
        return rt

    async def agent_connected(self, agent_id: str) -> dict[str, Any]:
        """A desk connected; returns what it must show (offers, held contacts, status)."""
        if agent_id not in self._agents:
            await self._learn_agent(agent_id)

        def connect() -> dict[str, Any]:
            rt = self._runtime(agent_id)
            connections = dict(rt.presence.connections)
            connections[self.node_id] = connections.get(self.node_id, 0) + 1
            status = AgentStatus.AWAY if rt.presence.status == AgentStatus.OFFLINE else rt.presence.status
            self._set_presence(rt, connections=connections, grace_until=None, status=status)
            return self.agent_view(agent_id)

        view = await self._run(connect)
        self._desks[agent_id] += 1
        self.route_soon()
        return view

    async def agent_disconnected(self, agent_id: str) -> None:
        """A desk went away: its offers go back at once; held contacts after a grace period."""

        def disconnect() -> None:
            rt = self._runtime(agent_id)
            connections = dict(rt.presence.connections)
            left = connections.get(self.node_id, 0) - 1
            if left > 0:
                connections[self.node_id] = left
            else:
                connections.pop(self.node_id, None)
            self._set_presence(rt, connections=connections)
            if not connections:
                self._gone_for_now(rt, "agent_disconnected")

        self._desks[agent_id] -= 1
        if self._desks[agent_id] <= 0:
            del self._desks[agent_id]
        await self._run(disconnect)
        self.route_soon()

    def _gone_for_now(self, rt: AgentRuntime, reason: str) -> None:
        """No desk of the agent is left: its offers go back; held contacts wait out the grace period."""
        for offer in list(rt.offers.values()):
            self._return_offer(self._contacts[offer.contact_id], reason, declined=False)
        self._set_presence(rt, grace_until=self.clock.now() + self.config.desk.reconnect_grace_s)

    async def nodes_gone(self, nodes: set[str]) -> None:
        """Engine nodes that died (their leases lapsed): their agents' desks there count no more."""

        def strike() -> None:
            for rt in self._agents.values():
                connections = rt.presence.connections
                if not any(node in connections for node in nodes):
                    continue
                kept = {node: n for node, n in connections.items() if node not in nodes}
                self._set_presence(rt, connections=kept)
                if not kept:
                    self._gone_for_now(rt, "node_gone")
                log.info("agent.node_gone", agent_id=rt.agent.id, nodes=sorted(nodes & set(connections)))

        await self._run(strike)
        self.route_soon()

    async def _agent_gone(self, agent_id: str) -> None:
        def gone() -> None:
            rt = self._agents[agent_id]
            if rt.presence.grace_until is None or rt.presence.connected:
                return
            for contact_id in sorted(rt.held):
                contact = self._contacts[contact_id]
                if contact.state == ContactState.WRAP_UP:
                    self._finish_wrap_up_now(contact_id)
                else:
                    self._requeue(contact, "agent_offline")
            self._set_presence(rt, grace_until=None, status=AgentStatus.OFFLINE)
            log.info("agent.offline", agent_id=agent_id)

        await self._run(gone)
        self.route_soon()

    async def set_status(self, agent_id: str, status: str) -> AgentStatus:
        """The agent chose a status: available, away or busy."""
        try:
            target = AgentStatus(status)
        except ValueError:
            target = None
        if target not in CHOOSABLE:
            raise ClientError(f"status: must be one of {', '.join(s.value for s in CHOOSABLE)}", "invalid_field")
        assert target is not None

        def choose() -> None:
            rt = self._runtime(agent_id)
            if rt.presence.status == target:  # confirmed all the same, to every desk of the agent
                self._publish(f"agent:{agent_id}", {"type": "status", "status": target.value})
            self._set_presence(rt, status=target)
            if target != AgentStatus.AVAILABLE:
                for offer in list(rt.offers.values()):
                    self._return_offer(self._contacts[offer.contact_id], "agent_unavailable", declined=False)

        await self._run(choose)
        self.route_soon()
        return target

    async def accept(self, agent_id: str, offer_id: str) -> Contact:
        def take() -> Contact:
            offer = self._held_offer(agent_id, offer_id)
            contact = dataclasses.replace(self._contacts[offer.contact_id], offer=None, agent_id=agent_id)
            contact.move(ContactState.ASSIGNED)
            rt = self._agents[agent_id]
            self._put(
                contact, "contact.assigned", f"agent:{agent_id}", agent_id=agent_id, agent_name=rt.agent.display_name
            )
            self._offer_closed(offer, "accepted")
            return contact

        contact = await self._run(take)
        log.info("offer.accepted", contact_id=contact.id, agent_id=agent_id, channel=contact.channel.value)
        self._publish(
            f"customer:{contact.customer_id}",
            {"type": "agent_joined", "contact_id": contact.id, "agent": self._agents[agent_id].agent.display_name},
        )
        return contact

    async def reject(self, agent_id: str, offer_id: str) -> None:
        def decline() -> None:
            offer = self._held_offer(agent_id, offer_id)
            self._return_offer(self._contacts[offer.contact_id], "rejected", declined=True)

        await self._run(decline)
        self.route_soon()

    def _held_offer(self, agent_id: str, offer_id: str) -> Offer:
        offer = self._offers.get(offer_id)
        if offer is None or offer.agent_id != agent_id:
            raise NotHeld(f"offer {offer_id!r} is not open for you (taken back, expired or never yours)")
        return offer

    async def agent_reply(self, agent_id: str, contact_id: str, text: object, client_id: object) -> HistoryEvent:
        future, answer = answer_future()
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
        if contact is None or contact.agent_id != agent_id or contact.state not in HELD:
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

        def wrap() -> tuple[Contact, float]:
            held = self._held_contact(agent_id, contact_id, ContactState.ASSIGNED)
            wrap_s = self._agents[agent_id].agent.wrap_up_s
            contact = dataclasses.replace(held, disposition=disposition, wrap_until=self.clock.now() + wrap_s)
            contact.move(ContactState.WRAP_UP)
            self._put(contact, "contact.wrap_up", f"agent:{agent_id}", disposition=disposition)
            return contact, wrap_s

        contact, wrap_s = await self._run(wrap)
        self._publish(f"customer:{contact.customer_id}", {"type": "ended", "contact_id": contact.id, "by": "agent"})
        self._publish(
            f"agent:{agent_id}",
            {"type": "contact_state", "contact_id": contact.id, "state": "wrap_up", "wrap_up_s": wrap_s},
        )
        return contact

    async def _finish_wrap_up(self, contact_id: str) -> None:
        await self._run(partial(self._finish_wrap_up_now, contact_id))
        self.route_soon()

    def _finish_wrap_up_now(self, contact_id: str) -> None:
        held = self._contacts.get(contact_id)
        if held is None or held.state != ContactState.WRAP_UP:
            return
        contact = dataclasses.replace(held, closed_at=self.clock.now(), wrap_until=None)
        contact.move(ContactState.CLOSED)
        self._put(contact, "contact.closed", "system", disposition=contact.disposition)
        rt = self._agents.get(contact.agent_id or "")
        if rt is not None:
            if not rt.held:
                self._set_presence(rt, idle_since=self.clock.now())
            self._publish(
                f"agent:{rt.agent.id}", {"type": "contact_state", "contact_id": contact_id, "state": "closed"}
            )

    # ------------------------------------------------------------------ the queue and routing

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

    async def _routing(self) -> int:
        """Routing passes, one after another while changes come in during a pass's commits."""
        made = 0
        while True:
            self._route_again = False
            made += await self.route_now()
            if not self._route_again:
                return made

    def _route_after(self, delay: float) -> None:
        """Route a little later: news from another node, which that node routes first."""
        if self._route_timer is None:

            def due() -> None:
                self._route_timer = None
                self.route_soon()

            self._route_timer = self.clock.call_later(delay, due)

    async def _tick(self) -> None:
        """Route while contacts wait (widening goes by time); strike off the desks of nodes that died."""
        reaped = 0.0
        while True:
            await asyncio.sleep(_TICK_S)
            if self._queue and self._floor:
                self.route_soon()
            if self._liveness is not None and reaped + self._liveness.takeover_s <= self.clock.now():
                reaped = self.clock.now()
                try:
                    await self._reap()
                except Exception as exc:  # Redis away: next time
                    log.warning("engine.reap_failed", error=repr(exc))

    async def _reap(self) -> None:
        assert self._liveness is not None
        peers = {n for rt in self._agents.values() for n in rt.presence.connections if n != self.node_id}
        dead = await self._liveness.dead(peers)
        if dead:
            log.warning("engine.nodes_gone", nodes=sorted(dead))
            await self.nodes_gone(dead)

    async def route_now(self) -> int:
        """Run one routing pass and carry out its offers; returns how many were made.

        Each offer is its own unit: one refused as stale (another node offered the contact,
        or gave the agent work, first) fails alone, and the next pass sees why.
        """
        units = []
        async with self._lock:
            if not self._queue or not self._floor:
                return 0
            now = self.clock.now()
            decisions = route(
                Snapshot(self._queue.snapshot(), tuple(self._floor.values()), now), self.config.routing.policy
            )
            for decision in decisions:
                unit = Unit()
                token = CURRENT_UNIT.set(unit)
                try:
                    self._offer(decision.contact_id, decision.agent_id, decision.level, now)
                finally:
                    CURRENT_UNIT.reset(token)
                units.append(unit)
        outcomes = await asyncio.gather(*(self._commit(unit) for unit in units), return_exceptions=True)
        stale = sum(1 for o in outcomes if isinstance(o, Stale))
        failed = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, Stale)]
        if stale:
            log.info("routing.stale", offers=len(units), stale=stale)
            self.metrics.inc("cc_commits_stale_total", stale, unit="offer")
            self.route_soon()
        if failed:
            log.warning("routing.commit_failed", offers=len(units), failed=len(failed), error=repr(failed[0]))
        made = len(units) - stale - len(failed)
        self.metrics.inc("cc_offers_total", made)
        return made

    def _refresh(self, rt: AgentRuntime) -> None:
        """Keep the floor up to date: the agents that may be offered work now, as the router sees them.

        Called whenever an agent's presence or load changes. An agent full on every channel is
        left off, so a pass never looks at it.
        """
        p = rt.presence
        if p.connections and p.status == AgentStatus.AVAILABLE and has_room(rt.load, rt.agent.capacity):
            self._floor[rt.agent.id] = rt.state()
        else:
            self._floor.pop(rt.agent.id, None)

    def _offer(self, contact_id: str, agent_id: str, level: int, now: float) -> None:
        offer = Offer(
            id=uuid.uuid4().hex[:16],
            contact_id=contact_id,
            agent_id=agent_id,
            created_at=now,
            expires_at=now + self.config.routing.offer_timeout_s,
            level=level,
        )
        contact = dataclasses.replace(self._contacts[contact_id], offer=offer)
        contact.move(ContactState.OFFERED)
        # The agent's load (in its record) goes up with it: two nodes giving it work at once cannot both commit.
        self._put(contact, "contact.offered", "system", agent_id=agent_id, offer_id=offer.id, level=level)
        # Given work now: others idle longer go first next time. Set here, not on accept, so that
        # an accept (on whichever node the agent's desk is) changes the contact's record alone.
        self._set_presence(self._agents[agent_id], idle_since=now)
        log.info("offer.made", contact_id=contact_id, agent_id=agent_id, offer_id=offer.id, level=level)
        self._publish(f"agent:{agent_id}", self._offer_json(offer))

    async def _offer_timed_out(self, offer_id: str) -> None:
        def lapse() -> None:
            offer = self._offers.get(offer_id)
            if offer is None:
                return
            self._return_offer(self._contacts[offer.contact_id], "timed_out", declined=True)
            rt = self._agents.get(offer.agent_id)
            if rt is not None and rt.presence.status == AgentStatus.AVAILABLE:
                # An agent who lets an offer lapse is likely away from the desk.
                self._set_presence(rt, status=AgentStatus.AWAY)

        await self._run(lapse)
        self.route_soon()

    def _return_offer(self, contact: Contact, reason: str, *, declined: bool) -> None:
        """Put an offered contact back in the queue at its original place.

        ``declined``: the agent rejected it or let the offer lapse, so it is not offered there again.
        """
        offer = contact.offer
        assert offer is not None
        back = dataclasses.replace(contact, offer=None)
        back.move(ContactState.QUEUED)
        if declined and offer.agent_id not in back.declined:
            back.declined = (*back.declined, offer.agent_id)
        self._put(back, "contact.requeued", "system", agent_id=offer.agent_id, reason=reason)
        self._offer_closed(offer, reason)
        log.info("offer.returned", contact_id=contact.id, agent_id=offer.agent_id, reason=reason)

    def _offer_closed(self, offer: Offer, reason: str) -> None:
        self._publish(
            f"agent:{offer.agent_id}",
            {"type": "offer_closed", "offer_id": offer.id, "contact_id": offer.contact_id, "reason": reason},
        )

    def _requeue(self, contact: Contact, reason: str) -> None:
        """An assigned contact goes back to the queue: its agent is gone."""
        agent_id = contact.agent_id
        back = dataclasses.replace(contact, agent_id=None)
        back.move(ContactState.QUEUED)
        self._put(back, "contact.requeued", "system", agent_id=agent_id, reason=reason)
        self._publish(f"customer:{contact.customer_id}", {"type": "agent_left", "contact_id": contact.id})

    # ------------------------------------------------------------------ records and what derives from them

    def _put(self, contact: Contact, kind: str | None = None, actor: str = "system", **data: Any) -> None:
        """Make ``contact`` the current record (a new version) within the unit, with its history event."""
        unit = CURRENT_UNIT.get()
        assert unit is not None, "a record changes only within a unit (_run)"
        key = f"contact:{contact.id}"
        old = self._contacts.get(contact.id)
        base = old.version if old is not None else contact.version
        if key not in unit.expected:
            unit.expected[key] = base
            unit.before[key] = old
        contact.version = base + 1
        contact.node = self.node_id
        self._apply(contact)
        unit.contacts[contact.id] = contact
        was, now = burden(old), burden(contact)
        if was != now:  # the agents' loads are in their records, checked like any other
            for counted, step in ((was, -1), (now, 1)):
                if counted is not None and (rt := self._agents.get(counted[0])) is not None:
                    load = dict(rt.presence.load)
                    load[counted[1]] = max(0, load.get(counted[1], 0) + step)
                    self._set_presence(rt, load={ch: n for ch, n in load.items() if n})
        if kind is not None:
            unit.events.append(self._event(contact, kind, actor, **data))
        if contact.state == ContactState.QUEUED:
            self.route_soon()

    def _note(self, contact: Contact, kind: str, actor: str, **data: Any) -> None:
        """A history event of the contact that changes nothing of its record."""
        unit = CURRENT_UNIT.get()
        assert unit is not None
        unit.events.append(self._event(contact, kind, actor, **data))

    def _set_presence(self, rt: AgentRuntime, **changes: Any) -> None:
        """A new version of the agent's presence within the unit (with no changes: its load changed)."""
        unit = CURRENT_UNIT.get()
        assert unit is not None, "a record changes only within a unit (_run)"
        old = rt.presence
        key = f"agent:{old.agent_id}"
        if key not in unit.expected:
            unit.expected[key] = old.version
            unit.before[key] = old
        new = dataclasses.replace(old, **changes)
        if new.status != old.status:
            new.status = old.status
            new.move(changes["status"])
            if new.status == AgentStatus.AVAILABLE and not rt.held and "idle_since" not in changes:
                new.idle_since = self.clock.now()
            self._publish(f"agent:{old.agent_id}", {"type": "status", "status": new.status.value})
            log.info("agent.status", agent_id=old.agent_id, status=new.status.value)
        new.version = old.version + 1
        new.node = self.node_id
        self._apply_presence(rt, new)
        unit.presences[old.agent_id] = new

    def _apply(self, new: Contact) -> None:
        """Make ``new`` the contact's record here, and bring what derives from it in line."""
        old = self._contacts.get(new.id)
        if old is not None:
            self._unindex(old)
        if new.state in OPEN:
            self._contacts[new.id] = new
            self._index(new)
        else:
            self._contacts.pop(new.id, None)

    def _drop(self, contact: Contact) -> None:
        if self._contacts.get(contact.id) is contact:
            self._unindex(contact)
            del self._contacts[contact.id]

    def _index(self, c: Contact) -> None:
        if c.channel == Channel.CHAT and is_open_chat(c):  # not one in wrap-up, or left: a newer chat may be open
            self._chat_of[c.customer_id] = c.id
        elif c.channel == Channel.EMAIL and c.answered_at is None and c.breached_at is None:
            calendar, promise = self.config.sla.calendar, self.config.email.promise
            at_risk = promise.at_risk(calendar, c.created_at)
            if at_risk > self.clock.now():  # a warning is for what is still ahead
                self._timers.arm("risk", c.id, c.node, at_risk)
            self._timers.arm("sla", c.id, c.node, promise.due(calendar, c.created_at))
        if c.state == ContactState.QUEUED:
            self._queue.put(c)
        elif c.state == ContactState.OFFERED and c.offer is not None:
            offer = c.offer
            self._offers[offer.id] = offer
            rt = self._agent_or_learn(offer.agent_id)
            if rt is not None:
                rt.offers[offer.id] = offer
            self._timers.arm("offer", c.id, c.node, offer.expires_at, offer.id)
        elif c.state in HELD and c.agent_id:
            rt = self._agent_or_learn(c.agent_id)
            if rt is not None:
                rt.held.add(c.id)
            if c.state == ContactState.WRAP_UP and c.wrap_until is not None:
                self._timers.arm("wrap", c.id, c.node, c.wrap_until)

    def _unindex(self, c: Contact) -> None:
        if self._chat_of.get(c.customer_id) == c.id:
            del self._chat_of[c.customer_id]
        self._queue.remove(c.id)
        for kind in ("offer", "wrap", "risk", "sla"):
            self._timers.disarm(kind, c.id)
        if c.state == ContactState.OFFERED and c.offer is not None:
            self._offers.pop(c.offer.id, None)
            rt = self._agents.get(c.offer.agent_id)
            if rt is not None:
                rt.offers.pop(c.offer.id, None)
        elif c.state in HELD and c.agent_id:
            rt = self._agents.get(c.agent_id)
            if rt is not None:
                rt.held.discard(c.id)

    def _apply_presence(self, rt: AgentRuntime, new: Presence) -> None:
        rt.presence = new
        rt.agent.status = new.status
        rt.load = Counter(new.load)
        rt.snapshot = None
        self._refresh(rt)
        if new.grace_until is None:
            self._timers.disarm("grace", new.agent_id)
        else:
            self._timers.arm("grace", new.agent_id, new.node, new.grace_until)

    def _agent_or_learn(self, agent_id: str) -> AgentRuntime | None:
        rt = self._agents.get(agent_id)
        if rt is None and self.shared:
            self._spawn(self._learn_agent(agent_id))
        return rt

    # ------------------------------------------------------------------ units of work

    async def _run(self, change: Callable[[], T]) -> T:
        """Make one change under the lock, commit it, then publish what it told.

        A change refused as stale (another node changed one of its records first) is made
        again on the records as they are now; a change that raises commits what it had done.
        """
        for attempt in range(_ATTEMPTS):
            unit = Unit()
            failure: BaseException | None = None
            async with self._lock:
                token = CURRENT_UNIT.set(unit)
                try:
                    result = change()
                except BaseException as exc:  # what it did before raising is committed like any other change
                    failure = exc
                finally:
                    CURRENT_UNIT.reset(token)
                durable = asyncio.ensure_future(self._commit(unit))
            try:
                await asyncio.shield(durable)
            except Stale:
                if failure is not None:
                    raise failure from None
                self.metrics.inc("cc_commits_stale_total", unit="change")
                if attempt + 1 == _ATTEMPTS:
                    raise
                log.info("unit.stale", attempt=attempt + 1)
                continue
            if failure is not None:
                raise failure
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def _commit(self, unit: Unit) -> None:
        """Commit the unit's records and events; then publish its messages. Stale: read the records again."""
        if unit.empty():
            await self.store.barrier()
            self._tell(unit)
            return
        try:
            await self.store.commit(unit.changes(self.node_id))
        except Stale:
            await self._reread(unit)
            raise
        except BaseException:
            self._undo(unit)
            self.resync_soon()  # shared: what else this node holds may be off too; read it all again
            raise
        for key, version in unit.expected.items():
            self._known_version(key, version + 1)
        self._tell(unit)
        if unit.outbound and self.on_outbound is not None:
            self.on_outbound()

    def _tell(self, unit: Unit) -> None:
        for topic, message in unit.outbox:
            self.bus.publish(topic, message)

    def _undo(self, unit: Unit) -> None:
        """Nothing of the unit was recorded: put back the records it changed, where nothing changed them since."""
        for contact_id, contact in unit.contacts.items():
            if self._contacts.get(contact_id, contact) is contact:
                before = unit.before[f"contact:{contact_id}"]
                if isinstance(before, Contact):
                    self._apply(before)
                else:
                    self._drop(contact)
        for agent_id, presence in unit.presences.items():
            rt = self._agents.get(agent_id)
            before = unit.before[f"agent:{agent_id}"]
            if rt is not None and rt.presence is presence and isinstance(before, Presence):
                self._apply_presence(rt, before)

    async def _reread(self, unit: Unit) -> None:
        """After a stale commit: the unit's records as the store has them now."""
        contacts, presences = await self.store.current(list(unit.contacts), list(unit.presences))
        found = {c.id for c in contacts}
        for contact in contacts:
            self._heard_contact(contact, force=True)
        for contact_id in unit.contacts:
            if contact_id not in found:  # never recorded: it does not exist
                self._drop(unit.contacts[contact_id])
        for presence in presences:
            self._heard_presence(presence, force=True)

    def _known_version(self, key: str, version: int) -> bool:
        """Note a version the store has; False if a later one is known already."""
        known = self._known.get(key, -1)
        if version < known:
            return False
        self._known[key] = version
        self._known.move_to_end(key)
        while len(self._known) > _REMEMBERED + len(self._contacts) + len(self._agents):
            self._known.popitem(last=False)
        return True

    # ------------------------------------------------------------------ news from other nodes

    def _heard(self, message: dict[str, Any]) -> None:
        """Records another node committed (the bus topic ``state``)."""
        for record in message.get("contacts", ()):
            self._heard_contact(contact_from_record(record))
        for record in message.get("presences", ()):
            self._heard_presence(presence_from_record(record))
        if message.get("contacts") or message.get("presences"):
            if self._liveness is not None and self._liveness.sole_router:
                self.route_soon()
            else:  # every node routes: let the node that made the change go first
                self._route_after(0.05)

    def _heard_contact(self, contact: Contact, *, force: bool = False) -> None:
        key = f"contact:{contact.id}"
        if not self._known_version(key, contact.version):
            return
        local = self._contacts.get(contact.id)
        if local is not None and not force and local.version >= contact.version:
            return
        if local is not None:
            contact.last_seq = max(contact.last_seq, local.last_seq)
        self._apply(contact)

    def _heard_presence(self, presence: Presence, *, force: bool = False) -> None:
        rt = self._agents.get(presence.agent_id)
        if rt is None:
            if self.shared:
                self._spawn(self._learn_agent(presence.agent_id))
            return
        if not self._known_version(f"agent:{presence.agent_id}", presence.version):
            return
        if not force and rt.presence.version >= presence.version:
            return
        self._apply_presence(rt, presence)

    # ------------------------------------------------------------------ timers

    # ------------------------------------------------------------------ history and helpers

    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]:
        if await self.store.get_customer(customer_id) is None:
            raise NotFound(f"customer {customer_id} does not exist")
        return await self.store.history(customer_id, limit, before_id)

    async def transcript(self, agent_id: str, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]:
        contact = self._contacts.get(contact_id)
        offered = contact is not None and contact.offer is not None and contact.offer.agent_id == agent_id
        if contact is None or (contact.agent_id != agent_id and not offered):
            raise Forbidden(f"contact {contact_id!r} is not yours")
        return await self.store.messages(contact_id, after_seq)

    def _event(self, contact: Contact, kind: str, actor: str, **data: Any) -> NewEvent:
        return NewEvent(contact.customer_id, contact.id, contact.channel.value, kind, self.clock.now(), actor, data)

    def _publish(self, topic: str, message: dict[str, Any]) -> None:
        """Publish now, or, inside a unit of work, once what it recorded is durable."""
        unit = CURRENT_UNIT.get()
        if unit is None:
            self.bus.publish(topic, message)
        else:
            unit.outbox.append((topic, message))

    def _publish_message(self, contact: Contact, event: HistoryEvent) -> None:
        message = event.as_message()
        self._publish(f"customer:{contact.customer_id}", message)
        if contact.agent_id:
            self._publish(f"agent:{contact.agent_id}", message)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
