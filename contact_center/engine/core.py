"""The engine: one integrated queue, offers, assignments, conversations and history.

:class:`Engine` is a façade. It composes the engine's services and is what the channel
adapters, the desk and the composition root call; it holds no state of its own. The services
read one :class:`~.replica.Replica` of the records and change it only through a unit of work
(:mod:`.work`): staged, committed to the store, and only then told, so whatever a client saw
acknowledged survives a crash. Several nodes can share one store (Redis): each commit names
the version of every record it changed, and a change made on a record another node changed
first is refused whole and made again (:class:`~contact_center.exceptions.Stale`). So two
nodes deciding at once never give one contact to two agents, nor an agent more than its room.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import structlog

from contact_center.bus import Bus
from contact_center.channel_kinds import ChannelKinds
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.attendance import Attendance
from contact_center.engine.channel_work import ChannelWork
from contact_center.engine.chat_files import ChatFiles
from contact_center.engine.conversations import Conversations
from contact_center.engine.customers import Customers
from contact_center.engine.mail_filing import MailFiling
from contact_center.engine.moves import Moves
from contact_center.engine.offers import Offers
from contact_center.engine.presence import AgentPresence
from contact_center.engine.replica import SHARED_REMEMBERED, Replica
from contact_center.engine.replication import Replication
from contact_center.engine.schedule import Schedule
from contact_center.engine.search import CustomerSearch
from contact_center.engine.signals import Signals
from contact_center.engine.state import may_take
from contact_center.engine.timers import NodeLiveness, Timers
from contact_center.engine.transfers import Transfers
from contact_center.engine.units import Answer
from contact_center.engine.views import DeskView, FloorView, LiveView, floor_view, live_view
from contact_center.engine.work import Work
from contact_center.events import NoteAdded
from contact_center.exceptions import ClientError, Forbidden
from contact_center.files import ChatFile
from contact_center.mail import Arrival, Composer, MailOutcome, MailRecord, Outbound
from contact_center.metrics import Metrics
from contact_center.model import Agent, AgentStatus, Channel, Contact, Customer, HistoryEvent, IdentityKind, Role
from contact_center.store import NewEvent, Store

__all__ = ["Engine", "NodeLiveness"]

log = structlog.get_logger("contact_center.engine")

T = TypeVar("T")


class Engine:
    """The core service behind every channel and the desk: the services, composed.

    ``kinds`` are the registered channels (``channels/registry.py``), whose service-level rules the
    queue orders by.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: Config,
        kinds: ChannelKinds,
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
        self.kinds = kinds
        self.metrics = metrics if metrics is not None else Metrics()
        self._liveness = liveness
        self._tasks: set[asyncio.Task[Any]] = set()
        self._signals = signals = Signals()
        timers = Timers(clock, node_id, liveness, self._spawn)
        replica = Replica(config, clock, timers, kinds, learn=self._learn_soon if self.shared else None,
                          remembered=SHARED_REMEMBERED if self.shared else 0)  # fmt: skip
        work = Work(store, self.bus, clock, replica, signals, self.metrics, node_id=node_id, on_outbound=on_outbound)
        self._moves = moves = Moves(work, replica, clock, config)
        self.timers, self.replica, self._work = timers, replica, work
        self._offers = Offers(work, replica, moves, timers, signals, clock, config, self.metrics, liveness)
        self._attendance = Attendance(work, replica, moves, timers, signals, clock, config.webchat, node_id)
        self._presence = AgentPresence(work, replica, moves, timers, signals, store, clock, config, liveness,
                                       self._attendance)  # fmt: skip
        self._customers = Customers(work, replica, signals, store, clock, config, composer)
        worth = self._customers.worth
        self.files = ChatFiles(store, clock, config)
        self._conversations = Conversations(work, replica, moves, timers, signals, store, clock, config, worth,
                                            self.files)  # fmt: skip
        self._search = CustomerSearch(store, config)
        self._schedule = Schedule(work, replica, timers, signals, clock)
        self._transfers = Transfers(work, replica, signals, clock, config, self._offers.offer_to)
        self._mail = MailFiling(work, replica, timers, store, clock, config, self.metrics, composer, worth)
        self._replication = Replication(work, replica, moves, signals, store, self.bus, clock, config, liveness,
                                        self._presence.recount_desks, self._offers.route_after)  # fmt: skip
        # The acts of every chat message go straight to their service: no façade frame per message.
        self.customer_writes = self._conversations.customer_writes  # type: ignore[method-assign]
        self.agent_writes = self._conversations.agent_writes  # type: ignore[method-assign]
        self.metrics.gauge("cc_contacts_waiting", lambda: len(replica.queue))
        self.metrics.gauge("cc_contacts_scheduled", lambda: len(replica.scheduled))
        self.metrics.gauge("cc_agents_on_floor", lambda: len(replica.floor))
        self.metrics.gauges("cc_queue_depth", lambda: {ch: n for ch, (n, _) in self._lines().items()})
        self.metrics.gauges("cc_queue_oldest_wait_seconds", lambda: {ch: w for ch, (_, w) in self._lines().items()})

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Load agents and open contacts (:mod:`.replication`), then route and watch."""
        await self._replication.start()
        await self._attendance.nodes_gone({""})  # chats no socket holds: each customer must come back
        self._offers.start()
        self._presence.start()
        replica = self.replica
        log.info("engine.started", node=self.node_id, open_contacts=len(replica.contacts), waiting=len(replica.queue))

    def stop(self) -> None:
        self.timers.stop()
        self._offers.stop()
        self._presence.stop()
        self._replication.stop()

    def leading(self) -> bool:
        """This node does the work done once for all: routing, reading mailboxes, sending mail."""
        return self._liveness is None or self._liveness.leading()

    async def resync(self) -> None:
        await self._replication.resync()

    def resync_soon(self, then: Callable[[], None] | None = None) -> None:
        self._replication.resync_soon(then)

    def follow_records(self, applied: Callable[[Contact], None], reread: Callable[[], None]) -> None:
        """``applied`` is told of every contact record this node takes (its own units', other nodes', the store's)
        as it takes it; ``reread`` when records may have changed without that (a resync, customers merged)."""
        self.replica.applied.append(applied)
        self._signals.reread.connect(reread)

    def route_soon(self) -> None:
        self._offers.route_soon()

    async def route_now(self) -> int:
        return await self._offers.route_now()

    # ------------------------------------------------------------------ queries

    def contact(self, contact_id: str) -> Contact | None:
        return self.replica.contact(contact_id)

    def agent(self, agent_id: str) -> Agent:
        return self.replica.runtime(agent_id).agent

    def waiting(self) -> list[str]:
        """Ids of the queued contacts in queue order."""
        return self.replica.queue.order(self.clock.now())

    def floor(self, limit: int = 50) -> FloorView:
        """The first ``limit`` waiting contacts in the order they are served, and every agent's state."""
        replica = self.replica
        now = self.clock.now()
        return floor_view(replica.queue, replica.contacts, replica.agents, now, limit, len(replica.scheduled))

    def queue_depths(self) -> dict[str, tuple[int, float]]:
        """Each channel's waiting contacts now: how many, and when the longest-waiting one arrived."""
        depths: dict[str, tuple[int, float]] = {}
        for w in self.replica.queue.entries():
            n, oldest = depths.get(w.channel, (0, w.enqueued_at))
            depths[w.channel] = (n + 1, min(oldest, w.enqueued_at))
        return depths

    def _lines(self) -> dict[str, tuple[int, float]]:
        """Every channel's line for /metrics: how many wait, and the longest wait (0 when none)."""
        now, depths = self.clock.now(), self.queue_depths()
        return {ch.value: (depths[ch.value][0], now - depths[ch.value][1]) if ch.value in depths else (0, 0.0)
                for ch in Channel}  # fmt: skip

    def live(self) -> LiveView:
        """The whole center now, for the supervisors' dashboard."""
        r = self.replica
        return live_view(r.queue, r.contacts, r.agents, r.scheduled, self.kinds.deadlines, self.clock.now())

    def places(self, channel: Channel) -> dict[str, int]:
        """Each waiting contact of ``channel`` and its place among them (1 is served next)."""
        return self.replica.queue.places(channel.value, self.clock.now())

    def expected_wait(self, channel: Channel, place: int) -> float | None:
        """Seconds a contact of ``channel`` at ``place`` will likely wait, by the pace its channel's contacts
        were answered lately (None: unknown)."""
        pace = self.replica.paces.get(channel)
        return None if pace is None else pace.expected_wait(place, self.clock.now())

    def open_chat(self, customer_id: str) -> Contact | None:
        return self.replica.open_chat(customer_id)

    def held(self, agent_id: str, contact_id: str) -> Contact:
        """The contact if this agent holds it (assigned or in wrap-up); else :class:`NotHeld`."""
        return self.replica.held(agent_id, contact_id)

    # ------------------------------------------------------------------ customers

    async def new_visitor(self) -> Customer:
        return await self._customers.new_visitor()

    async def page_view(self, customer_id: str, url: object, title: object) -> HistoryEvent:
        return await self._customers.page_view(customer_id, url, title)

    async def merge_customers(self, keep: str, gone: str, kind: IdentityKind, value: str, by: str) -> None:
        await self._customers.merge(keep, gone, kind, value, by)

    async def worth(self, customer_id: str) -> float:
        """The customer's value as recorded (what a new contact of theirs is routed by)."""
        return await self._customers.worth(customer_id)

    async def set_customer_value(self, customer_id: str, value: float) -> None:
        await self._customers.set_value(customer_id, value)

    async def send_code(self, address: str, code: str, language: str, minutes: int, event: NewEvent) -> None:
        await self._customers.send_code(address, code, language, minutes, event)

    def works_for(self, agent_id: str, customer_id: str) -> bool:
        return self._customers.works_for(agent_id, customer_id)

    async def may_read(self, user_id: str, customer_id: str) -> None:
        await self._customers.may_read(user_id, customer_id)

    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]:
        return await self._customers.history(customer_id, limit, before_id)

    # ------------------------------------------------------------------ chat

    def chat_skills(self, topic: str, language: str) -> list[tuple[str, int]]:
        return self._conversations.chat_skills(topic, language)

    def customer_writes(
        self, customer_id: str, text: object, client_id: object, answer: Answer, *, topic: str = "general",
        language: str = "en", files: object = None,
    ) -> Contact | Awaitable[Contact | None]:  # fmt: skip
        """A customer's chat message, the one way in (:meth:`.Conversations.customer_writes`)."""
        return self._conversations.customer_writes(customer_id, text, client_id, answer, topic, language, files)

    async def customer_message(
        self, customer_id: str, text: object, client_id: object, *, topic: str = "general", language: str = "en"
    ) -> tuple[Contact, HistoryEvent]:
        return await self._conversations.customer_message(customer_id, text, client_id, topic=topic, language=language)

    async def receive_file(self, customer_id: str, name: object, declared: object, data: bytes) -> ChatFile:
        """A file the customer uploads, kept if it may be (:mod:`.chat_files`); a message then names it."""
        return await self.files.receive(customer_id, name, declared, data)

    async def find_customers(self, query: object, limit: int = 20) -> list[Customer]:
        """Customers by a name's start, an email address, a phone number or a ticket (see :mod:`.search`)."""
        return await self._search.find(query, limit)

    def colleagues(self, agent_id: str, contact_id: str) -> list[Agent]:
        """Who could take this held contact now: connected, available, with room for its channel."""
        held = self.replica.held(agent_id, contact_id)
        channel = held.channel.value
        return [rt.agent for rt in self.replica.agents.values() if rt.agent.id != agent_id and may_take(rt, channel)]

    async def transfer(
        self, agent_id: str, contact_id: str, *, to_agent: object = None, skill: object = None
    ) -> Contact:
        """Hand a held contact to a colleague (offered to them) or back to the queue for ``skill``."""
        if to_agent is not None:
            return await self._transfers.to_agent(agent_id, contact_id, to_agent)
        return await self._transfers.to_queue(agent_id, contact_id, skill)

    async def move(self, by: str, contact_id: str, *, to_agent: object = None, skill: object = None) -> Contact:
        """A supervisor (``by``) moves a waiting or held contact to an agent or a skill."""
        self._supervisor(by)
        return await self._transfers.move(by, contact_id, to_agent=to_agent, skill=skill)

    async def set_status_of(self, by: str, agent_id: object, status: str) -> AgentStatus:
        """A supervisor (``by``) sets an agent's status; to available only while a desk of theirs is open."""
        self._supervisor(by)
        rt = self.replica.agents.get(agent_id) if isinstance(agent_id, str) else None
        if rt is None:
            raise ClientError(f"agent_id: no agent {agent_id!r}", "invalid_field", field="agent_id")
        if status == AgentStatus.AVAILABLE.value and not rt.presence.connected:
            raise ClientError(
                f"agent_id: {rt.agent.username} has no desk open; they cannot take work", "invalid_field",
                field="agent_id", problem="not_connected",
            )  # fmt: skip
        return await self._presence.set_status(rt.agent.id, status, reason=f"by_supervisor:{by}")

    def _supervisor(self, agent_id: str) -> None:
        rt = self.replica.agents.get(agent_id)
        if rt is None or rt.agent.role != Role.SUPERVISOR:
            raise Forbidden("only a supervisor may do this")

    async def rate_chat(self, customer_id: str, contact_id: object, score: object, comment: object = "") -> Contact:
        """The customer rates a chat of theirs that ended (1 to 5, a comment), once."""
        return await self._conversations.rate(customer_id, contact_id, score, comment)

    async def add_note(self, agent_id: str, contact_id: str, text: object) -> NoteAdded:
        """An internal note of the agent's on a contact it holds (agents only; in the contact's history)."""
        return await self._conversations.add_note(agent_id, contact_id, text)

    async def customer_here(self, customer_id: str) -> None:
        """A socket of the customer greeted on this node (see :mod:`.attendance`)."""
        await self._attendance.here(customer_id)

    async def customer_away(self, customer_id: str) -> None:
        """The last socket of the customer on this node closed (see :mod:`.attendance`)."""
        await self._attendance.away(customer_id)

    def customer_read(self, customer_id: str, contact_id: object, seq: object) -> None:
        """The customer saw their open chat up to ``seq``; its agent is told."""
        self._conversations.customer_read(customer_id, contact_id, seq)

    def customer_typing(self, customer_id: str) -> None:
        self._conversations.customer_typing(customer_id)

    async def customer_left(self, customer_id: str) -> Contact | None:
        return await self._conversations.customer_left(customer_id)

    def agent_writes(self, agent_id: str, contact_id: str, text: object, client_id: object, answer: Answer) -> None:
        """The agent's chat reply, the one way in (:meth:`.Conversations.agent_writes`)."""
        self._conversations.agent_writes(agent_id, contact_id, text, client_id, answer)

    async def agent_sends(
        self, agent_id: str, contact_id: str, text: object, client_id: object, files: Sequence[ChatFile], answer: Answer
    ) -> None:
        """The agent's chat reply carrying files (:meth:`.Conversations.agent_sends`)."""
        await self._conversations.agent_sends(agent_id, contact_id, text, client_id, files, answer)

    async def agent_reply(self, agent_id: str, contact_id: str, text: object, client_id: object) -> HistoryEvent:
        return await self._conversations.agent_reply(agent_id, contact_id, text, client_id)

    def agent_typing(self, agent_id: str, contact_id: str) -> None:
        self._conversations.agent_typing(agent_id, contact_id)

    async def transcript(self, agent_id: str, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]:
        return await self._conversations.transcript(agent_id, contact_id, after_seq)

    async def close(self, agent_id: str, contact_id: str, disposition: str) -> Contact:
        return await self._conversations.close(agent_id, contact_id, disposition)

    # ------------------------------------------------------------------ email

    async def receive_mail(self, arrival: Arrival) -> MailOutcome:
        return await self._mail.receive(arrival)

    async def leave_message(self, customer_id: str, arrival: Arrival) -> MailOutcome:
        """A message a visitor left in the widget: an email contact of theirs (:meth:`.MailFiling.left_message`)."""
        return await self._mail.left_message(customer_id, arrival)

    async def quarantine_mail(self, record: MailRecord) -> MailOutcome:
        return await self._mail.quarantine(record)

    async def email_reply(
        self, agent_id: str, contact_id: str, text: object, client_id: object, *, reply_to: object = None,
        cc: object = (), files: Sequence[ChatFile] = (),
    ) -> dict[str, Any]:  # fmt: skip
        return await self._mail.reply(agent_id, contact_id, text, client_id, reply_to=reply_to, cc=cc, files=files)

    async def mail_failed(self, pending: Outbound, error: str) -> None:
        await self._mail.failed(pending, error)

    async def reply_addresses(self, contact: Contact, thread: Sequence[MailRecord]) -> tuple[str | None, list[str]]:
        return await self._mail.reply_addresses(contact, thread)

    async def schedule(self, contact: Contact, actor: str, **data: Any) -> Contact:
        """A channel's new contact that waits until its ``due_at``, then enters the queue (:mod:`.schedule`)."""
        return await self._work.run(lambda: self._schedule.add(contact, actor, **data))

    async def stage(self, channel: Channel, change: Callable[[ChannelWork], T]) -> T:
        """A channel adapter's change to its own contacts, as one unit of work (:mod:`.channel_work`)."""
        hold = ChannelWork(channel, self._work, self.replica, self._moves, self._schedule, self.clock)
        result = await self._work.run(lambda: change(hold))
        self.route_soon()
        return result

    # ------------------------------------------------------------------ agents and offers

    def add_agent(self, agent: Agent) -> None:
        self._presence.add_agent(agent)

    async def agent_connected(self, agent_id: str) -> DeskView:
        return await self._presence.connected(agent_id)

    async def agent_disconnected(self, agent_id: str) -> None:
        await self._presence.disconnected(agent_id)

    async def nodes_gone(self, nodes: set[str]) -> None:
        await self._presence.nodes_gone(nodes)

    async def set_status(self, agent_id: str, status: str) -> AgentStatus:
        return await self._presence.set_status(agent_id, status)

    async def accept(self, agent_id: str, offer_id: str) -> Contact:
        return await self._offers.accept(agent_id, offer_id)

    async def reject(self, agent_id: str, offer_id: str) -> None:
        await self._offers.reject(agent_id, offer_id)

    # ------------------------------------------------------------------ tasks

    def _learn_soon(self, agent_id: str) -> None:
        """An agent a record names, created on another node: read its account from the store."""
        self._spawn(self._presence.learn(agent_id))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
