"""A JSON message session over an aiohttp websocket: the framing both the widget and the
desk protocols share.

Outgoing messages are queued and written by one writer task, so engine events
(delivered synchronously on the bus) never wait on a slow socket and keep their order.
What is queued for a socket by the time its writer runs goes out as one frame: a JSON
array of the messages, in order (one message alone is sent as the object itself). Under
load one frame, one system call and one wake-up of the client then carry many messages.

Incoming frames are checked before anyone sees them: too large, not JSON, not an object
with a string ``type`` each get an ``error`` message with its code to this client only,
and the session goes on. A handler may finish before its request is durable and answer
later through a :class:`Reply`; the socket reads on meanwhile, so one client's
messages in flight share a commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

import orjson
import structlog
from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from contact_center.config import WebchatConfig
from contact_center.exceptions import BadMessage, ClientError, ContactCenterError, FrameTooLarge

__all__ = ["MAX_BATCH", "PROTOCOL_VERSION", "Handler", "JsonSocket", "Reply", "serve"]

PROTOCOL_VERSION = 2
MAX_BATCH = 64  # messages in one outgoing frame at most
T = TypeVar("T")

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class JsonSocket:
    """One websocket carrying JSON objects."""

    def __init__(
        self, ws: web.WebSocketResponse, limits: WebchatConfig, registry: set[JsonSocket] | None = None
    ) -> None:
        self.ws = ws
        self.greeted = False  # set by the session once its hello is accepted
        self._registry = registry
        if registry is not None:
            registry.add(self)
        self.max_frame_bytes = limits.max_frame_bytes
        self._rate = limits.max_frames_per_s
        self._burst = float(limits.frame_burst)
        self._tokens = self._burst
        self._refilled = time.monotonic()
        self._warned = 0.0
        self._out: list[Mapping[str, Any]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None

    @staticmethod
    def response(limits: WebchatConfig) -> web.WebSocketResponse:
        # Frames up to four times the limit are read and answered with frame_too_large;
        # larger ones make aiohttp close the socket with 1009 (message too big).
        # No permessage-deflate: chat frames are small, and compressing each costs more than it saves.
        return web.WebSocketResponse(max_msg_size=limits.max_frame_bytes * 4, heartbeat=30.0, compress=False)

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, message: Mapping[str, Any]) -> None:
        """Queue ``message`` for this client; never blocks. Dropped once the socket is going."""
        if not self._closing:
            self._out.append(message)
            self._wake.set()

    def error(self, exc: ContactCenterError, ref: Any = None) -> None:
        message: dict[str, Any] = {"type": "error", "code": exc.code, "message": str(exc)}
        if ref is not None:
            message["ref"] = ref
        self.send(message)

    async def _write(self) -> None:
        while True:
            if not self._out:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._out[:MAX_BATCH]
            del self._out[:MAX_BATCH]
            payload = orjson.dumps(batch[0] if len(batch) == 1 else batch)
            try:
                await self.ws.send_frame(payload, WSMsgType.TEXT)
            except (ConnectionError, RuntimeError):
                self._closing = True  # the peer is gone: nothing more is queued for it
                self._out.clear()
                return

    async def going_away(self) -> None:
        """Close at server shutdown; clients reconnect (to this node when back, or another)."""
        await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def finish(self) -> None:
        """Flush what is queued, stop the writer and close the socket."""
        if self._registry is not None:
            self._registry.discard(self)
        if self._writer is not None:
            self._closing = True
            self._wake.set()
            try:
                await asyncio.wait_for(self._writer, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                self._writer.cancel()
        await self.ws.close()

    def admit(self, frame: WSMessage) -> dict[str, Any] | None:
        """The frame's message if it is well formed and within the rate; otherwise None, and the
        client is told why."""
        if not self._allowed():
            return None
        if frame.type == WSMsgType.TEXT:
            return self._parse(frame.data)
        if frame.type == WSMsgType.BINARY:
            self.error(BadMessage("binary frames are not accepted; send JSON text", "bad_message"))
        return None

    def _allowed(self) -> bool:
        """A token bucket per socket: one client's flood must not take the loop from everyone else."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
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


async def serve(sock: JsonSocket, handlers: Mapping[str, Handler]) -> None:
    """Answer ``sock``'s messages until it closes, each by the handler for its ``type``.

    Everything but ``hello`` waits until a handler has set ``sock.greeted``. A bad frame, an
    unknown type or a handler's error is answered with an ``error`` to this client only. One
    loop, no generator and no coroutine of its own per frame: this is every message's path.
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
        handler = handlers.get(kind)
        if handler is None:
            sock.error(BadMessage(f"unknown message type {kind!r}", "unknown_type"), message.get("ref"))
            continue
        try:
            await handler(message)
        except Exception as exc:
            _failed(sock, exc, kind, message.get("ref"))
