"""A JSON message session over an aiohttp websocket: the framing both the widget and the
desk protocols share.

Outgoing messages are queued and written once per turn of the event loop, so engine
events (delivered synchronously on the bus) never wait on a slow socket and keep their
order. What is queued for a socket by then goes out as one frame: a JSON array of the
messages, in order (one message alone is sent as the object itself). Under load one
frame, one system call and one wake-up of the client then carry many messages.

Incoming frames are checked before anyone sees them: too large, not JSON, not an object
with a string ``type`` each get an ``error`` message with its code to this client only,
and the session goes on. A handler may finish before its request is durable and answer
later through a :class:`Reply`; the socket reads on meanwhile, so one client's
messages in flight share a commit.

Pings are answered here, and every frame a socket reads is noted (``heard``): whether a quiet
peer is still there is asked by :class:`channels.heartbeat.Heartbeat`, one task for every socket
of the node, not by aiohttp's heartbeat (a timer per socket, and a callback that ties aiohttp's
request handler and response into a reference cycle only the collector's full passes free).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Generic, TypeVar

import orjson
import structlog
from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from contact_center.config import WebchatConfig
from contact_center.exceptions import BadMessage, ClientError, ContactCenterError, FrameTooLarge

__all__ = [
    "MAX_BATCH",
    "MAX_BATCH_BYTES",
    "PROTOCOL_VERSION",
    "SESSION_ENDED",
    "Handler",
    "JsonSocket",
    "Reply",
    "serve",
]

PROTOCOL_VERSION = 2
SESSION_ENDED = 4401  # close code: the desk's session ended; sign in again
MAX_BATCH = 64  # messages in one outgoing frame at most
MAX_BATCH_BYTES = 64 * 1024  # a frame takes no more messages once it is this large
T = TypeVar("T")

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class JsonSocket:
    """One websocket carrying JSON objects."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        limits: WebchatConfig,
        transport: asyncio.Transport | None,
        registry: set[JsonSocket] | None = None,
    ) -> None:
        self.ws = ws
        self.greeted = False  # set by the session once its hello is accepted
        self._registry = registry
        self._transport = transport  # cut when the peer stops answering pings
        if registry is not None:
            registry.add(self)
        self.max_frame_bytes = limits.max_frame_bytes
        self._rate = limits.max_frames_per_s
        self._burst = float(limits.frame_burst)
        self._tokens = self._burst
        self._refilled = time.monotonic()
        self.heard = self._refilled  # when a frame (a pong too) last came: time.monotonic()
        self.pinged: float | None = None  # when a ping went out that nothing was heard after yet
        self._warned = 0.0
        # Kept: asyncio.get_running_loop() makes a getpid() system call each time (CPython 3.11).
        self._loop = asyncio.get_running_loop()
        self._out: list[Mapping[str, Any]] = []
        self._flush_due = False  # a flush is scheduled for this turn of the loop
        self._draining: asyncio.Task[None] | None = None  # a send waiting for the peer to read
        self._open = True  # sends are accepted
        self._gone = False  # the peer is gone: nothing more is written

    @staticmethod
    def response(limits: WebchatConfig) -> web.WebSocketResponse:
        # Frames up to four times the limit are read and answered with frame_too_large;
        # larger ones make aiohttp close the socket with 1009 (message too big).
        # No permessage-deflate: chat frames are small, and compressing each costs more than it saves.
        # No heartbeat nor autoping of aiohttp's: pings are answered in admit() and sent by the
        # node's Heartbeat (see the module's docstring).
        return web.WebSocketResponse(
            max_msg_size=limits.max_frame_bytes * 4, heartbeat=None, autoping=False, compress=False
        )

    @classmethod
    async def accept(
        cls, request: web.Request, limits: WebchatConfig, registry: set[JsonSocket] | None = None
    ) -> JsonSocket:
        """Take ``request``'s websocket handshake; the socket is in ``registry`` until it finishes."""
        ws = cls.response(limits)
        await ws.prepare(request)
        return cls(ws, limits, request.transport, registry)

    def send(self, message: Mapping[str, Any]) -> None:
        """Queue ``message`` for this client; never blocks. Dropped once the socket is going."""
        if self._open:
            self._out.append(message)
            if not self._flush_due:
                self._flush_due = True
                self._loop.call_soon(self._flush)

    def error(self, exc: ContactCenterError, ref: Any = None) -> None:
        message: dict[str, Any] = {"type": "error", "code": exc.code, "message": str(exc)}
        if isinstance(exc, ClientError) and exc.detail:
            message.update(exc.detail)
        if ref is not None:
            message["ref"] = ref
        self.send(message)

    def _flush(self) -> None:
        """Write what is queued, several messages a frame, without a task of its own.

        aiohttp's ``send_frame`` writes an uncompressed frame at once and awaits only when the
        peer has stopped reading (the transport is paused), so it is stepped here by hand. A
        send that has to wait is finished by a task, which flushes the rest once the peer reads
        again; until then messages only queue up, in order.
        """
        self._flush_due = False
        while self._out and self._draining is None and not self._gone:
            sending = self.ws.send_frame(self._next_frame(), WSMsgType.TEXT)
            try:
                waiting = sending.send(None)
            except StopIteration:
                continue  # written
            except (ConnectionError, RuntimeError):
                self._peer_gone()
                return
            self._draining = self._loop.create_task(self._drain(sending, waiting))

    def _control(self, kind: WSMsgType, data: bytes = b"") -> None:
        """Write a ping or a pong now, ahead of what is queued (aiohttp writes a control frame at
        once; the send then waits only while the peer is not reading, which the messages' own
        drain waits for already)."""
        if self._gone:
            return
        sending = self.ws.send_frame(data, kind)
        try:
            sending.send(None)
        except StopIteration:
            return
        except (ConnectionError, RuntimeError):
            self._peer_gone()
            return
        sending.close()

    def ping(self, now: float) -> None:
        """Ask the peer to show it is there: a ping, whose pong (or any frame) is heard after ``now``."""
        self.pinged = now
        self._control(WSMsgType.PING)

    def cut(self) -> None:
        """The peer stopped answering: cut the connection at once, without a close handshake it would
        not answer either (the session's read loop then ends as on any lost connection)."""
        if self._registry is not None:
            self._registry.discard(self)
        self._peer_gone()
        if self._transport is not None:
            self._transport.abort()

    def _next_frame(self) -> bytes:
        """The next frame: one message as an object, several (up to MAX_BATCH, about
        MAX_BATCH_BYTES) as an array."""
        first = orjson.dumps(self._out[0])
        parts, size, count = [first], len(first), 1
        while count < len(self._out) and count < MAX_BATCH and size < MAX_BATCH_BYTES:
            part = orjson.dumps(self._out[count])
            parts.append(part)
            size += len(part)
            count += 1
        del self._out[:count]
        return first if count == 1 else b"[" + b",".join(parts) + b"]"

    async def _drain(self, sending: Coroutine[Any, Any, None], waiting: Any) -> None:
        try:
            await _finish(sending, waiting)
        except (ConnectionError, RuntimeError):
            self._peer_gone()
        finally:
            self._draining = None
        self._flush()

    def _peer_gone(self) -> None:
        self._open = False
        self._gone = True
        self._out.clear()

    async def going_away(self) -> None:
        """Close at server shutdown; clients reconnect (to this node when back, or another)."""
        await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def session_ended(self) -> None:
        """Close with 4401: the session behind this socket ended (signed out, expired, ended, disabled)."""
        await self.ws.close(code=SESSION_ENDED, message=b"session ended")

    async def resume_please(self) -> None:
        """Close with 1012: this node may have missed events for the client, which reconnects and resumes."""
        await self.ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"reconnect and resume")

    async def finish(self) -> None:
        """Flush what is queued (waiting at most 5 s for a slow peer) and close the socket."""
        if self._registry is not None:
            self._registry.discard(self)
        self._open = False
        self._flush()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while self._draining is not None and loop.time() < deadline:
            try:
                await asyncio.wait_for(asyncio.shield(self._draining), deadline - loop.time())
            except TimeoutError:
                break
        if self._draining is not None:
            self._draining.cancel()
        await self.ws.close()

    def admit(self, frame: WSMessage) -> dict[str, Any] | None:
        """The frame's message if it is well formed and within the rate; otherwise None, and the
        client is told why. A ping is answered with its pong."""
        if not self._allowed():
            return None
        if frame.type == WSMsgType.TEXT:
            return self._parse(frame.data)
        if frame.type == WSMsgType.PING:
            self._control(WSMsgType.PONG, frame.data)
        elif frame.type == WSMsgType.BINARY:
            self.error(BadMessage("binary frames are not accepted; send JSON text", "bad_message"))
        return None

    def _allowed(self) -> bool:
        """A token bucket per socket: one client's flood must not take the loop from everyone else.
        Every frame is heard, a dropped one too: the peer is there."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = self.heard = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        if now - self._warned >= 1.0:  # say it once a second, not once a frame
            self._warned = now
            limit = f"{self._rate:g} frames a second (bursts of {self._burst:g})"
            self.error(ClientError(f"too many frames: at most {limit}; this one was dropped", "rate_limited"))
        return False

    def _parse(self, text: str) -> dict[str, Any] | None:
        # A character is at most 4 bytes in UTF-8: only a frame that might be over is measured.
        if len(text) * 4 > self.max_frame_bytes:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > self.max_frame_bytes:
                self.error(FrameTooLarge(f"frame of {size} bytes is over the limit of {self.max_frame_bytes}"))
                return None
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self.error(BadMessage(f"not valid JSON: {exc}", "bad_json"))
            return None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self.error(BadMessage("a message must be a JSON object with a string 'type'", "bad_message"))
            return None
        return message


def _failed(sock: JsonSocket, exc: BaseException, kind: str, ref: Any) -> None:
    """Tell this client its request failed: with the error's own code, or as an internal error."""
    if isinstance(exc, ContactCenterError):
        sock.error(exc, ref)
        return
    # One client's surprise must not end everyone's service.
    structlog.get_logger("contact_center.ws").error("ws.handler_failed", type=kind, exc_info=exc)
    sock.error(ContactCenterError("internal error; the request was not carried out"), ref)


async def _finish(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Run a coroutine that was stepped by hand to its end, from what it yielded, as a task
    would: wait for each future it yields, then pass it the result or the error."""
    while True:
        try:
            try:
                if getattr(waiting, "_asyncio_future_blocking", None):
                    # What a task does with a future a coroutine yields: take it over, so it
                    # can be awaited here (asyncio marks it "blocking" until someone does).
                    waiting._asyncio_future_blocking = False
                    await waiting
                else:  # a bare yield: one turn of the loop
                    await asyncio.sleep(0)
            except BaseException as exc:  # the coroutine itself decides what the error means
                waiting = coro.throw(exc)
            else:
                waiting = coro.send(None)
        except StopIteration:
            return


class Reply(Generic[T]):
    """Answers one request once its outcome is known: ``reply(result)`` (unless None) or its error.

    The handler of the request returns at once and passes this on, so the socket reads its
    next frame while the request waits to be durable. One small object per request: this is
    every chat message's path.
    """

    __slots__ = ("_kind", "_ref", "_reply", "_sock")

    def __init__(
        self, sock: JsonSocket, message: Mapping[str, Any], reply: Callable[[T], Mapping[str, Any] | None]
    ) -> None:
        self._sock = sock
        self._kind = message["type"]
        self._ref = message.get("ref")
        self._reply = reply

    def __call__(self, outcome: T | BaseException) -> None:
        if isinstance(outcome, BaseException):
            _failed(self._sock, outcome, self._kind, self._ref)
            return
        answer = self._reply(outcome)
        if answer is not None:
            self._sock.send(answer)


async def serve(
    sock: JsonSocket, handlers: Mapping[str, Handler], still_valid: Callable[[], bool] | None = None
) -> None:
    """Answer ``sock``'s messages until it closes, each by the handler for its ``type``.

    Everything but ``hello`` waits until a handler has set ``sock.greeted``. A bad frame, an
    unknown type or a handler's error is answered with an ``error`` to this client only. With
    ``still_valid``, each message after ``hello`` is handled only while it says so (the desk's
    session has not ended); once it does not, nothing more is read. One loop, no generator and
    no coroutine of its own per frame: this is every message's path.
    """
    async for frame in sock.ws:
        if frame.type == WSMsgType.ERROR:
            return
        message = sock.admit(frame)
        if message is None:
            continue
        kind = message["type"]
        if not sock.greeted and kind != "hello":
            sock.error(BadMessage("say hello first", "hello_required"), message.get("ref"))
            continue
        if still_valid is not None and sock.greeted and not still_valid():
            return
        handler = handlers.get(kind)
        if handler is None:
            sock.error(BadMessage(f"unknown message type {kind!r}", "unknown_type"), message.get("ref"))
            continue
        try:
            await handler(message)
        except Exception as exc:
            _failed(sock, exc, kind, message.get("ref"))
