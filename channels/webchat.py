"""The web chat channel: the customer's widget over a websocket (protocol in docs/protocol.md).

One :class:`WidgetSession` per socket: ``hello`` first (a new visitor, or a returning
one by token, resuming after the last message it saw), then messages, typing, page
views, identification and leave. What a visitor says of itself is a claim; it becomes
the customer it says it is only with proof (:mod:`contact_center.identities`). Every
message carries the conversation's sequence number; a session gives its client each
conversation's messages in order, each number once, filling from the store what the bus
missed (:mod:`contact_center.delivery`); a customer's message is recorded once per
``client_id`` however often it is resent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from functools import partial
from typing import Any

import structlog
from aiohttp import web

from channels.left_message import LeftMessages
from channels.queue_news import QueueNews
from channels.wire import json_of, message_json
from channels.wsjson import PROTOCOL_VERSION, JsonSocket, Reply, serve
from contact_center import events, topics
from contact_center.auth import Accounts
from contact_center.channel_kinds import ChannelKind, Deadlines
from contact_center.config import WebchatConfig
from contact_center.engine import Engine
from contact_center.exceptions import AuthError, BadMessage, ClientError, ContactCenterError, Forbidden
from contact_center.fields import require_int, require_text
from contact_center.identities import Identified, Identities
from contact_center.model import Channel, Contact, ContactState, HistoryEvent
from contact_center.ports import ChatPorts, Visitor, WidgetAction

__all__ = ["CustomerSockets", "WebchatChannel", "WidgetSession", "chat_kind"]

log = structlog.get_logger("channels.webchat")


def _nothing() -> None:
    pass


def _no_ack(event: HistoryEvent) -> None:
    """A closed socket's: acknowledges nothing."""


def chat_kind(config: WebchatConfig) -> ChannelKind:
    """Chat as the core sees it: due ``service_level_s`` after it queued, at risk from ``at_risk_fraction`` of that."""
    target = config.service_level_s

    def service_level(contact: Contact) -> Deadlines:
        return contact.enqueued_at + target, contact.enqueued_at + target * config.at_risk_fraction

    return ChannelKind(Channel.CHAT, service_level)


class CustomerSockets:
    """How many sockets each customer has open on this node; and the small tasks they start."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, customer_id: str) -> None:
        self._open[customer_id] += 1

    def detach(self, customer_id: str) -> bool:
        """One socket fewer; True if it was the customer's last here."""
        self._open[customer_id] -= 1
        if self._open[customer_id] > 0:
            return False
        del self._open[customer_id]
        return True

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class WidgetSession:
    """One customer's websocket."""

    def __init__(
        self,
        engine: Engine,
        accounts: Accounts,
        identities: Identities,
        sock: JsonSocket,
        ports: ChatPorts,
        client: str = "",
        limits: Mapping[str, Any] | None = None,
        present: CustomerSockets | None = None,
        office: Callable[[], dict[str, Any]] | None = None,
        left: LeftMessages | None = None,
    ) -> None:
        self.office = office or (lambda: {})  # whether the office is open now, and when it opens
        self.left = left  # messages left in the widget (outside office hours): email contacts
        self.engine = engine
        self.present = present if present is not None else CustomerSockets()
        self._told_place: tuple[str, int, int | None] | None = None  # the queue news this socket had last
        self.limits = dict(limits or {})  # told in the welcome, so the widget can say so before it sends
        self.ports = ports
        self.accounts = accounts
        self.identities = identities
        self.sock = sock
        self.socket_id = uuid.uuid4().hex
        self.client = client  # the client's address, for the limit on new visitors
        self.customer_id: str | None = None
        self.topic = "general"
        self.language = "en"
        self.conversations = ports.watch.follow(self._give, self._read, self._may_follow)
        self._identifying = False  # an identify or verify_code of this socket is under way
        self._buffer: list[events.Event] | None = None
        self._unsubscribe: Callable[[], None] = _nothing
        self._ack_fn = self._ack  # made once: every message in flight holds it
        self.handlers = {
            "hello": self.hello,
            "message": self.message,
            "typing": self.typing,
            "page_view": self.page_view,
            "identify": self.identify,
            "verify_email": self.verify_email,
            "verify_code": self.verify_code,
            "leave": self.leave,
            "transcript": self.transcript,
            "rate": self.rate,
            "leave_message": self.leave_message,
            "read": self.read,
            "ping": self.ping,
        }

    async def run(self) -> None:
        try:
            await serve(self.sock, self.handlers)
        finally:
            self.handlers.clear()  # its bound methods hold this session: a cycle once nothing else does

    def waiting_chat(self) -> str | None:
        """The customer's chat if it is waiting for an agent (queued or being offered)."""
        contact = None if self.customer_id is None else self.engine.open_chat(self.customer_id)
        if contact is None or contact.state not in (ContactState.QUEUED, ContactState.OFFERED):
            return None
        return contact.id

    def tell_place(self, contact_id: str, place: int, expected_wait_s: float | None) -> None:
        """The chat's place in the queue, when it changed (the wait in steps of 15 s, so a small drift says nothing)."""
        wait = None if expected_wait_s is None else max(15, round(expected_wait_s / 15) * 15)
        news = (contact_id, place, wait)
        if news != self._told_place:
            self._told_place = news
            self.sock.send({"type": "queue", "contact_id": contact_id, "position": place, "expected_wait_s": wait})

    def close(self) -> None:
        """Off the bus and the watch, and holding nothing that holds this session (so reference counting frees it
        once the socket's handler returns, not a full pass of the cyclic collector hours later)."""
        self._unsubscribe()
        self._unsubscribe = _nothing
        self.ports.watch.unfollow(self.conversations)
        self.handlers.clear()
        self._ack_fn = _no_ack

    # ---------------------------------------------------------------- bus to socket

    def _subscribe(self, customer_id: str) -> None:
        self._unsubscribe()
        if self.customer_id is not None:
            self.present.detach(self.customer_id)  # proven to be another customer: theirs from now
        self.present.attach(customer_id)
        self.customer_id = customer_id
        self.sock.greeted = True
        structlog.contextvars.bind_contextvars(customer_id=customer_id)
        self._unsubscribe = self.ports.topics.subscribe(topics.customer(customer_id), self._on_event)

    def _on_event(self, event: events.Event) -> None:
        if type(event) is events.MessagePosted and self._buffer is None:  # most of what comes: first
            self.conversations.live(event.message)  # given in order, once (``_give``)
        elif self._buffer is not None:
            self._buffer.append(event)
        elif isinstance(event, events.Merged):  # proven to be another customer (by this socket, another, or an agent)
            self._subscribe(event.customer_id)
            if not self._identifying:  # this socket's own request answers for itself
                verified = [[event.by, event.value]] if event.by else []
                self.sock.send({"type": "identified", "customer_id": event.customer_id, "verified": verified})
        elif isinstance(event, events.MessagePosted):
            self.conversations.live(event.message)  # given in order, once (``_give``)
        elif isinstance(event, events.CustomerAway):  # a socket of this customer closed elsewhere: still here
            self.present.spawn(self._here())
        else:
            self.sock.send(json_of(event))

    def _give(self, message: HistoryEvent) -> None:
        self.sock.send(self._shown(message))

    @staticmethod
    def _shown(message: HistoryEvent) -> dict[str, Any]:
        """A message as the customer sees it: from the customer or from ``agent`` (not which one)."""
        shown = message_json(message)
        if shown["from"] != "customer":
            shown["from"] = "agent"
        return shown

    async def _read(self, contact_id: str, after: int) -> list[HistoryEvent]:
        return await self.ports.log.messages(contact_id, after)

    def _may_follow(self, contact_id: str) -> bool:
        contact = self.engine.contact(contact_id)
        return contact is not None and contact.customer_id == self.customer_id

    # ---------------------------------------------------------------- handlers

    async def hello(self, msg: dict[str, Any]) -> None:
        if self.customer_id is not None:
            raise BadMessage("hello was already said on this socket", "bad_sequence")
        self.topic = require_text("topic", msg.get("topic", self.topic), 64)
        self.language = require_text("language", msg.get("language", self.language), 16)
        self.engine.chat_skills(self.topic, self.language)  # names a bad topic or language now
        token = msg.get("token")
        if token is None:
            self.identities.admit_visitor(self.client)
            customer = await self.engine.new_visitor()
            customer_id, token = customer.id, await self.accounts.new_customer_token(customer.id)
        else:
            try:
                customer_id = await self.accounts.customer_id(require_text("token", token, 200))
            except AuthError as exc:
                raise AuthError(f"token: {exc}; start again without a token") from None
        self._buffer = []
        self._subscribe(customer_id)
        contact = self.engine.open_chat(customer_id)
        self.sock.send(
            {
                "type": "welcome",
                "protocol": PROTOCOL_VERSION,
                "token": token,
                "customer_id": customer_id,
                "contact": None if contact is None else {"id": contact.id, "state": contact.state.value},
                "limits": self.limits,
                "office": self.office(),
            }
        )
        if contact is not None:
            after = require_int("last_seq", msg.get("last_seq", 0)) if msg.get("contact_id") == contact.id else 0
            self.conversations.start(contact.id, after)
            for recorded in await self.ports.log.messages(contact.id, after):
                self.conversations.live(recorded)
        buffered, self._buffer = self._buffer, None
        for live in buffered:
            self._on_event(live)
        await self._here()

    async def _here(self) -> None:
        """The customer is here: their chat is not left while this socket is open."""
        if self.customer_id is None:
            return
        try:
            await self.engine.customer_here(self.customer_id)
        except ContactCenterError as exc:  # the store away: the next hello, or the other side's echo, claims it
            log.warning("webchat.claim_failed", error=repr(exc))

    async def message(self, msg: dict[str, Any]) -> None:
        assert self.customer_id is not None
        written = self.engine.customer_writes(
            self.customer_id,
            msg.get("text"),
            msg.get("client_id"),
            Reply(self.sock, msg, self._ack_fn),
            topic=self.topic,
            language=self.language,
            files=msg.get("files"),
        )
        if not isinstance(written, Contact):  # it opens a chat: wait for that before reading on
            await written

    def _ack(self, event: HistoryEvent) -> None:
        """Send the sender's ack; then the client has this number (its copy on the bus is skipped), and no other.

        The ack goes first: the messages after it that were waiting for this number follow it.
        """
        contact_id = str(event.contact_id)
        self.sock.send({"type": "ack", "client_id": event.client_id, "contact_id": contact_id, "seq": event.seq})
        if event.seq is not None:
            self.conversations.own(contact_id, event.seq)

    async def typing(self, msg: dict[str, Any]) -> None:
        assert self.customer_id is not None
        self.engine.customer_typing(self.customer_id)

    async def page_view(self, msg: dict[str, Any]) -> None:
        assert self.customer_id is not None
        await self.engine.page_view(self.customer_id, msg.get("url"), msg.get("title", ""))

    async def identify(self, msg: dict[str, Any]) -> None:
        """What the page says of its visitor: claims (email, phone, name), or an identifier the site signed."""
        assert self.customer_id is not None
        self._identifying = True
        try:
            identified = await self.identities.identify(
                self.customer_id,
                email=msg.get("email") or "",
                phone=msg.get("phone") or "",
                name=msg.get("name") or "",
                identifier=msg.get("identifier") or "",
                identifier_hash=msg.get("identifier_hash") or "",
            )
        finally:
            self._identifying = False
        self._now(identified)

    async def verify_email(self, msg: dict[str, Any]) -> None:
        """Mail a one-time code to the address the visitor gives; ``code_sent`` once it is in the outbox."""
        assert self.customer_id is not None
        expires = await self.identities.send_code(self.customer_id, msg.get("email"), self.language)
        self.sock.send({"type": "code_sent", "email": str(msg.get("email")).strip().lower(), "expires_at": expires})

    async def verify_code(self, msg: dict[str, Any]) -> None:
        """The visitor typed the code: the address is proven, and the visitor may become its customer."""
        assert self.customer_id is not None
        self._identifying = True
        try:
            identified = await self.identities.check_code(self.customer_id, msg.get("code"))
        finally:
            self._identifying = False
        self._now(identified)

    def _now(self, identified: Identified) -> None:
        if identified.customer_id != self.customer_id:
            self._subscribe(identified.customer_id)
        self.sock.send(identified.to_json())

    async def leave(self, msg: dict[str, Any]) -> None:
        assert self.customer_id is not None
        if await self.engine.customer_left(self.customer_id) is None:
            raise BadMessage("there is no open chat to leave", "no_open_chat")

    async def transcript(self, msg: dict[str, Any]) -> None:
        """The messages of one of this customer's conversations after ``after_seq``: how a client fills a gap."""
        assert self.customer_id is not None
        contact_id = require_text("contact_id", msg.get("contact_id"), 64)
        after = require_int("after_seq", msg.get("after_seq", 0))
        contact = self.engine.contact(contact_id) or await self.ports.log.get_contact(contact_id)
        if contact is None or contact.customer_id != self.customer_id:
            raise Forbidden(f"contact {contact_id!r} is not one of your conversations")
        found = await self.ports.log.messages(contact_id, after)
        shown = [self._shown(e) for e in found]
        self.sock.send({"type": "transcript", "contact_id": contact_id, "messages": shown})

    async def read(self, msg: dict[str, Any]) -> None:
        """The customer saw the chat up to ``seq`` (the widget sends it as it shows the agent's messages)."""
        assert self.customer_id is not None
        self.engine.customer_read(self.customer_id, msg.get("contact_id"), msg.get("seq"))

    async def rate(self, msg: dict[str, Any]) -> None:
        """The customer's satisfaction with a chat that ended: ``score`` 1-5, ``comment``; answered by ``rated``."""
        assert self.customer_id is not None
        contact = await self.engine.rate_chat(
            self.customer_id, msg.get("contact_id"), msg.get("score"), msg.get("comment")
        )
        self.sock.send({"type": "rated", "contact_id": contact.id, "score": contact.rating})

    async def leave_message(self, msg: dict[str, Any]) -> None:
        """A message to answer by email (``name``, ``email``, ``text``, ``client_id``): ``message_left``, its ticket."""
        assert self.customer_id is not None
        if self.left is None:
            raise ClientError("leaving a message is not offered here", "unavailable")
        skills = self.engine.chat_skills(self.topic, self.language)
        self.sock.send(await self.left.leave(self.customer_id, skills, msg))

    async def ping(self, msg: dict[str, Any]) -> None:
        self.sock.send({"type": "pong"})

    def visitor(self) -> Visitor | None:
        """Who this socket speaks for, once greeted."""
        if self.customer_id is None:
            return None
        return Visitor(self.customer_id, self.language, self.topic, self.socket_id)

    async def channel_action(self, action: WidgetAction, msg: dict[str, Any]) -> None:
        """An action another channel added to the widget (a call's), for this socket's visitor; its answer here."""
        visitor = self.visitor()
        if visitor is None:
            raise BadMessage("say hello first", "bad_sequence")
        answer = await action(visitor, msg)
        if answer is not None:
            self.sock.send(answer)


class WebchatChannel:
    """The ``/ws/chat`` endpoint; refuses pages whose Origin is not allowed."""

    def __init__(
        self,
        engine: Engine,
        accounts: Accounts,
        identities: Identities,
        config: WebchatConfig,
        sockets: set[JsonSocket],
        ports: ChatPorts,
        client_of: Callable[[web.Request], str] = lambda request: request.remote or "unknown",
        office: Callable[[], dict[str, Any]] | None = None,
        left: LeftMessages | None = None,
    ) -> None:
        self.office = office or (lambda: {})
        self.left = left
        self.engine = engine
        self.accounts = accounts
        self.identities = identities
        self.config = config
        self.sockets = sockets
        self.ports = ports
        self.client_of = client_of
        self.present = CustomerSockets()
        self.sessions: set[WidgetSession] = set()  # this node's widget sockets, told of the queue
        self.actions: dict[str, WidgetAction] = {}  # what other channels add to the widget's socket (a call's)
        self.gone: list[Callable[[Visitor], Coroutine[Any, Any, None]]] = []  # told when a greeted socket closes
        self.news = QueueNews(engine, self.sessions)  # type: ignore[arg-type]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin not in self.config.allowed_origins:
            log.warning("webchat.origin_refused", origin=origin)
            return web.json_response(
                {"error": "forbidden_origin", "message": f"Origin {origin!r} is not allowed to open a chat"}, status=403
            )
        sock = await JsonSocket.accept(request, self.config, self.sockets)
        client = self.client_of(request)
        limits = {
            "max_message_chars": self.config.max_message_chars,
            "max_file_mb": self.config.attachment_max_mb,
            "file_types": list(self.config.attachment_types),
        }
        session = WidgetSession(
            self.engine, self.accounts, self.identities, sock, self.ports, client, limits, self.present, self.office,
            self.left,
        )  # fmt: skip
        for name, action in self.actions.items():
            session.handlers[name] = partial(session.channel_action, action)
        structlog.contextvars.bind_contextvars(channel="chat")
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            session.close()
            await sock.finish()
            await self._socket_gone(session.visitor())
            await self._maybe_away(session.customer_id)
        return sock.ws

    async def _socket_gone(self, visitor: Visitor | None) -> None:
        """Tell the channels that want to know (a call placed from this page ends with it)."""
        if visitor is None:
            return
        for hook in self.gone:
            try:
                await hook(visitor)
            except ContactCenterError as exc:  # the store away: what the hook would end stays for its own timeout
                log.warning("webchat.gone_hook_failed", error=repr(exc))

    async def _maybe_away(self, customer_id: str | None) -> None:
        if customer_id is None or not self.present.detach(customer_id):
            return
        try:
            await self.engine.customer_away(customer_id)
        except ContactCenterError as exc:  # the store away: the chat stays as it was
            log.warning("webchat.away_failed", customer_id=customer_id, error=repr(exc))
