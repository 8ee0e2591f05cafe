"""The agent desk's websocket (``/ws/desk``, protocol in docs/protocol.md).

``hello`` with a user token first; then the desk receives offers, accepts or rejects
them, holds several contacts at once, replies, and closes with a disposition. On every
(re)connection the desk gets what the agent holds, with each conversation's messages,
so a reload or a dropped socket loses nothing.

The socket lives no longer than its session: at the session's expiry, at logout, or when a
supervisor ends the user's sessions or disables the account (told on the bus to every node),
the desk is sent ``session_ended`` and the socket is closed with 4401; nothing it sends after
that is carried out. The bus delivers at most once, and a command-line tool on the embedded
store has no bus to the engine, so each socket also looks its session up in the store every
``RECHECK_S`` seconds.

A desk gets each held conversation's messages in ``seq`` order, each number once, its agent's
own replies included (its other tabs need them; the sending tab matches them by ``client_id``),
what the bus missed filled from the store (:mod:`contact_center.delivery`). Events that come
while ``welcome`` is being put together wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import structlog
from aiohttp import web

from channels.wire import Wire, event_json, message_json
from channels.wsjson import PROTOCOL_VERSION, JsonSocket, Reply, serve
from contact_center import events, topics
from contact_center.auth import Accounts
from contact_center.clock import Timer
from contact_center.config import Config
from contact_center.engine import Engine
from contact_center.exceptions import BadMessage, ClientError, Forbidden, StoreUnavailable
from contact_center.fields import require_int, require_text
from contact_center.files import ChatFile
from contact_center.identities import Identities
from contact_center.model import Channel, Contact, HistoryEvent, Role
from contact_center.ports import DeskAction, DeskPorts
from contact_center.web.dashboard import DashboardNews
from contact_center.web.desk_library import DeskLibrary
from contact_center.web.desk_replies import DeskReplies, Writing
from contact_center.web.desk_supervisor import DeskSupervision
from contact_center.web.floor import FloorNews
from contact_center.web.mail_json import mail_json

__all__ = ["DeskEndpoint", "DeskSession"]

log = structlog.get_logger("contact_center.desk")

RECHECK_S = 30.0  # a desk's session is looked up in the store this often, besides the bus's news


def _nothing() -> None:
    pass


def _ack(event: HistoryEvent) -> dict[str, Any]:
    return {"type": "ack", "client_id": event.client_id, "contact_id": event.contact_id, "seq": event.seq}


class DeskSession:
    """One agent's desk socket."""

    def __init__(
        self,
        engine: Engine,
        accounts: Accounts,
        identities: Identities,
        sock: JsonSocket,
        ports: DeskPorts,
        wire: Wire,
        writing: Writing | None = None,
    ) -> None:
        self.engine = engine
        self.wire = wire
        self.writing = writing
        self.accounts = accounts
        self.identities = identities
        self.sock = sock
        self.agent_id: str | None = None
        self.supervisor: bool | None = None  # known once signed in (the floor's news waits for it)
        self._details: set[asyncio.Task[None]] = set()  # offer details being read
        self._floor: dict[str, Any] | None = None  # the floor this desk had last
        self._token_hash = ""
        self._expires_at = 0.0
        self._ended = False
        self._expiry: Timer | None = None
        self._recheck: Timer | None = None
        self._closing: asyncio.Task[None] | None = None
        self._checking: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] = _nothing
        self.ports = ports
        self.conversations = ports.watch.follow(self._give, self._read, self._may_follow)
        self._buffer: list[events.Event] | None = None  # bus events while welcome is put together
        self.handlers = {
            "hello": self.hello,
            "set_status": self.set_status,
            "accept": self.accept,
            "reject": self.reject,
            "reply": self.reply,
            "email_reply": self.email_reply,
            "typing": self.typing,
            "close": self.close_contact,
            "transcript": self.transcript,
            "open": self.open_contact,
            "history": self.history,
            "link_identity": self.link_identity,
            "note": self.note,
            "transfer": self.transfer,
            "search": self.search,
            "colleagues": self.colleagues,
            "ping": self.ping,
        }
        who = lambda: (self.agent_id, self.supervisor)  # noqa: E731
        self.supervision = DeskSupervision(engine, ports, sock.send, who, self._contact_payload)
        self.handlers.update(self.supervision.handlers)
        if writing is not None:
            self.handlers.update(DeskReplies(engine, ports, writing, sock.send, lambda: self.agent_id).handlers)
            self.handlers.update(DeskLibrary(engine, writing.editor, sock.send, lambda: self.agent_id).handlers)

    async def run(self) -> None:
        try:
            await serve(self.sock, self.handlers, self._valid)
        finally:
            self.handlers.clear()  # its bound methods hold this session: a cycle once nothing else does

    def _valid(self) -> bool:
        """Whether the session still holds; checked before every action (a cheap look at memory)."""
        if not self._ended and self.ports.clock.now() >= self._expires_at:
            self._end("expired")
        return not self._ended

    def _from_bus(self, event: events.Event) -> None:
        if type(event) is events.MessagePosted and self._buffer is None:  # most of what comes: first
            self.conversations.live(event.message)  # in order, once
        elif isinstance(event, events.SessionEnded):
            if event.token_hash in (None, self._token_hash):
                self._end(event.reason)
        elif self._buffer is not None:
            self._buffer.append(event)
        elif isinstance(event, events.MessagePosted):
            self.conversations.live(event.message)  # in order, once
        else:
            self.sock.send(self.wire.json(event))
            if isinstance(event, events.Offered):
                self._tell_who(event.contact)

    def _tell_who(self, contact: Contact) -> None:
        """Who waits behind an offer, once read: ``offer_details`` follows the offer (the offer is not held up)."""
        task = asyncio.get_running_loop().create_task(self._offer_details(contact))
        self._details.add(task)
        task.add_done_callback(self._details.discard)

    async def _offer_details(self, contact: Contact) -> None:
        try:
            customer = await self.ports.log.get_customer(contact.customer_id)
        except StoreUnavailable:
            return  # the card shows the channel, the first message (a chat's subject) and the wait meanwhile
        name = "" if customer is None else customer.name
        self.sock.send({"type": "offer_details", "contact_id": contact.id, "customer_name": name})

    def _give(self, message: HistoryEvent) -> None:
        self.sock.send(message_json(message))

    async def _read(self, contact_id: str, after: int) -> list[HistoryEvent]:
        return await self.ports.log.messages(contact_id, after)

    def _may_follow(self, contact_id: str) -> bool:
        contact = self.engine.contact(contact_id)
        return contact is not None and contact.agent_id == self.agent_id and self.agent_id is not None

    def _end(self, reason: str) -> None:
        """The session ended: say so, and close the socket (4401); nothing more is carried out."""
        if self._ended:
            return
        self._ended = True
        log.info("desk.session_ended", agent_id=self.agent_id, reason=reason)
        self.sock.send({"type": "session_ended", "reason": reason})
        self._closing = asyncio.get_running_loop().create_task(self.sock.session_ended())

    def _look_again(self) -> None:
        """Every RECHECK_S: is the session still in the store? (An end the bus did not bring.)"""
        self._recheck = None
        if not self._ended:
            self._checking = asyncio.get_running_loop().create_task(self._still_stored())

    async def _still_stored(self) -> None:
        try:
            gone = await self.ports.log.get_session(self._token_hash) is None
        except Exception as exc:  # the store away: the next look decides
            log.warning("desk.session_check_failed", error=repr(exc))
            gone = False
        if gone:
            self._end("ended")
        elif not self._ended:
            self._recheck = self.ports.clock.call_later(RECHECK_S, self._look_again)

    def tell_floor(self, floor: dict[str, Any]) -> None:
        """The floor (waiting contacts; agents to a supervisor), when it changed for this desk."""
        if floor != self._floor:
            self._floor = floor
            self.sock.send(floor)

    def tell_dashboard(self, message: dict[str, Any]) -> None:
        """The supervisors' dashboard as it is now (sent to supervisors' desks only)."""
        if self.supervisor:
            self.sock.send(message)

    async def close(self) -> None:
        """Off the bus and the watch, holding nothing that holds this session (reference counting frees it)."""
        self._unsubscribe()
        self._unsubscribe = _nothing
        self.ports.watch.unfollow(self.conversations)
        self.supervision.close()
        self.handlers.clear()
        for timer in (self._expiry, self._recheck):
            if timer is not None:
                timer.cancel()
        if self.agent_id is not None:
            try:
                await self.engine.agent_disconnected(self.agent_id)
            except StoreUnavailable:  # the engine counts its desks again once the store is back
                log.warning("desk.disconnect_unrecorded", agent_id=self.agent_id)

    async def _contact_payload(self, contact: Contact) -> dict[str, Any]:
        customer = await self.ports.log.get_customer(contact.customer_id)
        messages = await self.ports.log.messages(contact.id)
        mails = await self.ports.log.mails_of(contact.id) if contact.channel == Channel.EMAIL else []
        email: dict[str, Any] = {}
        if contact.channel == Channel.EMAIL:
            to, offered = await self.engine.reply_addresses(contact, mails)
            email = {"reply": {"to": to, "reply_to_offered": offered}}
        return {
            **email,
            "mails": [mail_json(m) for m in mails],
            "contact": self.wire.contact(contact),
            "customer": None if customer is None else self.wire.customer(customer),
            "messages": [message_json(e) for e in messages],
        }

    # ---------------------------------------------------------------- handlers

    async def hello(self, msg: dict[str, Any]) -> None:
        if self.agent_id is not None:
            raise BadMessage("hello was already said on this socket", "bad_sequence")
        token_hash, session = await self.accounts.session(require_text("token", msg.get("token"), 200))
        if session.kind != "user":
            raise Forbidden("customer tokens are not accepted here")
        agent_id = session.subject_id
        self._token_hash, self._expires_at = token_hash, session.expires_at
        structlog.contextvars.bind_contextvars(agent_id=agent_id)
        self._buffer = []
        unsubscribe = self.ports.topics.subscribe(topics.agent(agent_id), self._from_bus)
        try:
            view = self.wire.desk_view(await self.engine.agent_connected(agent_id))
        except BaseException:  # not connected (the store away): the desk may say hello again
            unsubscribe()
            self._buffer = None
            raise
        self.agent_id, self._unsubscribe = agent_id, unsubscribe
        self.supervisor = view["agent"]["role"] == Role.SUPERVISOR.value
        self.sock.greeted = True
        self._expiry = self.ports.clock.call_later(
            max(0.0, session.expires_at - self.ports.clock.now()), lambda: self._end("expired")
        )
        self._recheck = self.ports.clock.call_later(RECHECK_S, self._look_again)
        contacts = []
        try:
            for contact_id in view.pop("contacts"):
                contact = self.engine.contact(contact_id)
                if contact is not None:
                    contacts.append(await self._contact_payload(contact))
            self.sock.send({"type": "welcome", "protocol": PROTOCOL_VERSION, **view, "contacts": contacts})
            for payload in contacts:
                self.conversations.given(payload["contact"]["id"], (m["seq"] for m in payload["messages"]))
            for offer in view["offers"]:
                found = self.engine.contact(offer["contact"]["id"])
                if found is not None:
                    self._tell_who(found)
        finally:
            buffered, self._buffer = self._buffer or [], None
            for message in buffered:
                self._from_bus(message)

    async def set_status(self, msg: dict[str, Any]) -> None:
        assert self.agent_id is not None
        await self.engine.set_status(self.agent_id, require_text("status", msg.get("status"), 32))

    async def accept(self, msg: dict[str, Any]) -> None:
        assert self.agent_id is not None
        contact = await self.engine.accept(self.agent_id, require_text("offer_id", msg.get("offer_id"), 64))
        await self._assigned(contact)

    async def _assigned(self, contact: Contact) -> None:
        """Send the contact whole; its messages that come meanwhile follow it, in order, once."""
        self.conversations.hold(contact.id)
        seqs: list[int] = []
        try:
            payload = await self._contact_payload(contact)
            self.sock.send({"type": "assigned", **payload})
            seqs = [m["seq"] for m in payload["messages"]]
        finally:
            self.conversations.given(contact.id, seqs)

    async def reject(self, msg: dict[str, Any]) -> None:
        assert self.agent_id is not None
        await self.engine.reject(self.agent_id, require_text("offer_id", msg.get("offer_id"), 64))

    async def reply(self, msg: dict[str, Any]) -> None:
        """A chat reply; with ``attachments`` (a pre-written reply's files), given to the customer first."""
        assert self.agent_id is not None
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        reply: Reply[HistoryEvent] = Reply(self.sock, msg, _ack)
        if not msg.get("attachments"):
            self.engine.agent_writes(self.agent_id, contact_id, msg.get("text"), msg.get("client_id"), reply)
            return
        files = await self._attachments(msg["attachments"])
        await self.engine.agent_sends(self.agent_id, contact_id, msg.get("text"), msg.get("client_id"), files, reply)

    async def _attachments(self, wanted: object) -> list[ChatFile]:
        """The replies' files an agent's message names (:meth:`.ReplyAttachments.to_send`), with their bytes."""
        assert self.agent_id is not None
        if not wanted:
            return []
        if self.writing is None or self.writing.attachments is None:
            raise ClientError("attachments: this engine has no reply library", "invalid_field", field="attachments")
        return await self.writing.attachments.to_send(self.engine.agent(self.agent_id), wanted)

    async def email_reply(self, msg: dict[str, Any]) -> None:
        """Answer an email contact; ``email_queued`` once the reply is in the outbox (durable)."""
        assert self.agent_id is not None
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        queued = await self.engine.email_reply(
            self.agent_id,
            contact_id,
            msg.get("text"),
            msg.get("client_id"),
            reply_to=msg.get("reply_to"),
            cc=msg.get("cc", []),
            files=await self._attachments(msg.get("attachments")),
        )
        self.sock.send({"type": "email_queued", "client_id": msg.get("client_id"), **queued})

    async def typing(self, msg: dict[str, Any]) -> None:
        assert self.agent_id is not None
        self.engine.agent_typing(self.agent_id, require_text("contact_id", msg.get("contact_id"), 64))

    async def close_contact(self, msg: dict[str, Any]) -> None:
        assert self.agent_id is not None
        await self.engine.close(
            self.agent_id,
            require_text("contact_id", msg.get("contact_id"), 64),
            require_text("disposition", msg.get("disposition"), 64),
        )

    async def channel_action(self, action: DeskAction, msg: dict[str, Any]) -> None:
        """An action a channel added to the desk, as this agent; its answer, if any, to this desk."""
        assert self.agent_id is not None
        answer = await action(self.agent_id, msg)
        if answer is not None:
            self.sock.send(answer)

    async def open_contact(self, msg: dict[str, Any]) -> None:
        """Send a held contact in full (``assigned``): another tab of this agent accepted it."""
        assert self.agent_id is not None
        contact = self.engine.held(self.agent_id, require_text("contact_id", msg.get("contact_id"), 64))
        await self._assigned(contact)

    async def transcript(self, msg: dict[str, Any]) -> None:
        assert self.agent_id is not None
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        found = await self.engine.transcript(
            self.agent_id, contact_id, require_int("after_seq", msg.get("after_seq", 0))
        )
        self.sock.send({"type": "transcript", "contact_id": contact_id, "messages": [message_json(e) for e in found]})

    async def history(self, msg: dict[str, Any]) -> None:
        """A customer's history: of a customer whose contact the agent holds or is offered (supervisors: any)."""
        assert self.agent_id is not None
        customer_id = require_text("customer_id", msg.get("customer_id"), 64)
        await self.engine.may_read(self.agent_id, customer_id)
        found = await self.engine.history(customer_id)
        self.sock.send({"type": "history", "customer_id": customer_id, "events": [event_json(e) for e in found]})

    async def link_identity(self, msg: dict[str, Any]) -> None:
        """The agent confirms what the customer claimed to be (``kind``, ``value``): the two become one customer."""
        assert self.agent_id is not None
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        contact = self.engine.held(self.agent_id, contact_id)
        customer_id = await self.identities.link(self.agent_id, contact.customer_id, msg.get("kind"), msg.get("value"))
        self.sock.send({"type": "linked", "contact_id": contact_id, "customer_id": customer_id})
        now = self.engine.contact(contact_id)
        if now is not None:
            await self._assigned(now)

    async def note(self, msg: dict[str, Any]) -> None:
        """An internal note on a held contact; every tab of the agent's gets ``note_added``."""
        assert self.agent_id is not None
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        await self.engine.add_note(self.agent_id, contact_id, msg.get("text"))

    async def transfer(self, msg: dict[str, Any]) -> None:
        """Hand a held contact to a colleague (``agent_id``) or back to the queue for a ``skill``."""
        assert self.agent_id is not None
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        if msg.get("agent_id") is not None:
            await self.engine.transfer(self.agent_id, contact_id, to_agent=msg.get("agent_id"))
        else:
            await self.engine.transfer(self.agent_id, contact_id, skill=msg.get("skill"))

    async def colleagues(self, msg: dict[str, Any]) -> None:
        """Whom a held contact could be transferred to now: answered by ``colleagues``."""
        assert self.agent_id is not None
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        found = sorted(self.engine.colleagues(self.agent_id, contact_id), key=lambda a: a.display_name)
        agents = [{"id": a.id, "name": a.display_name} for a in found]
        self.sock.send({"type": "colleagues", "contact_id": contact_id, "agents": agents})

    async def search(self, msg: dict[str, Any]) -> None:
        """Customers by a name's start, an email address, a phone number or a ticket: ``search_results``."""
        found = await self.engine.find_customers(msg.get("query"))
        customers = [self.wire.customer(c) for c in found]
        self.sock.send({"type": "search_results", "query": msg.get("query"), "customers": customers})

    async def ping(self, msg: dict[str, Any]) -> None:
        self.sock.send({"type": "pong"})


class DeskEndpoint:
    """The ``/ws/desk`` endpoint."""

    def __init__(
        self,
        engine: Engine,
        accounts: Accounts,
        identities: Identities,
        config: Config,
        sockets: set[JsonSocket],
        ports: DeskPorts,
        wire: Wire,
        writing: Writing | None = None,
    ) -> None:
        self.writing = writing
        self.engine = engine
        self.accounts = accounts
        self.identities = identities
        self.config = config
        self.sockets = sockets
        self.ports = ports
        self.wire = wire
        self.sessions: set[DeskSession] = set()  # this node's desks, told of the floor
        self.actions: dict[str, DeskAction] = {}  # what the channels add to the desk (a callback's outcome)
        self.news = FloorNews(engine, ports.log, wire, ports.clock, self.sessions)  # type: ignore[arg-type]
        self.dashboard: DashboardNews | None = None  # the supervisors' dashboard, once the app starts it
        # Makes a socket's quality handlers (contact_center.web.desk_quality), given its send and its user.
        self.quality: Callable[..., Any] | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        sock = await JsonSocket.accept(request, self.config.webchat, self.sockets)
        session = DeskSession(self.engine, self.accounts, self.identities, sock, self.ports, self.wire, self.writing)
        for name, action in self.actions.items():
            session.handlers[name] = partial(session.channel_action, action)
        if self.quality is not None:
            session.handlers.update(self.quality(sock.send, lambda: (session.agent_id, session.supervisor)).handlers)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            await session.close()
            await sock.finish()
        return sock.ws
