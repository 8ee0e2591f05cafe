"""Engine events for every node: the in-process :class:`Bus`, carried over Redis pub/sub.

Listeners on this node are told at once, as with the in-process bus; what is published also
goes to Redis, on the channel ``bus:{topic}`` (see :mod:`contact_center.store.redis.keys`),
tagged with this node's id, and every other node tells its own listeners of the topic. A node
subscribes to a topic's channel while one of its sockets listens to it.

Delivery to other nodes is at most once, in the order published from one node: a node cut off
from Redis misses what was published meanwhile. That is why every conversation message carries
its sequence number and a client that reconnects asks for what came after the last it saw, and
why a node that listens again after an outage is told so (``on_reconnect``: the engine reads
every record again).
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import structlog

from contact_center import events
from contact_center.bus import Bus, Listener
from contact_center.store.redis.client import redis_client
from contact_center.store.redis.keys import Keys

__all__ = ["RedisBus"]

_log = structlog.get_logger("contact_center.redis_bus")
_SEP = "\x1f"  # between the publishing node's id and the message
_SEND_TIMEOUT_S = 5.0  # a publish not answered by then is given up (at most once)


class RedisBus(Bus):
    """A :class:`Bus` shared by every engine node on one Redis."""

    def __init__(
        self,
        url: str,
        prefix: str = "cc:",
        node_id: str | None = None,
        *,
        count: Callable[[], None] | None = None,
        on_reconnect: Callable[[], None] | None = None,
        encode: Callable[[Any], dict[str, Any]] = events.encode,
        decode: Callable[[dict[str, Any]], Any] = events.decode,
    ) -> None:
        super().__init__()
        self._encode, self._decode = encode, decode  # what travels between nodes: events, by their codec
        self.node_id = node_id or uuid.uuid4().hex[:12]
        self.keys = Keys(prefix)
        # A publish may go twice (it met a connection broken by a Redis restart): receivers skip repeats.
        self._redis: Any = redis_client(url, count=count, retries=1)
        self._pubsub: Any = self._redis.pubsub(ignore_subscribe_messages=True)
        self._outgoing: list[tuple[str, str]] = []
        self._sender: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribing: set[asyncio.Task[None]] = set()
        self.on_reconnect = on_reconnect  # told when it listens again after an outage

    async def start(self) -> None:
        """Open the subscriber connection (on this node's own channel) and start reading."""
        await self._pubsub.subscribe(self.keys.node(self.node_id))
        # Called after redis-py subscribed again on a new connection, however that came about.
        self._pubsub.connection.register_connect_callback(self._connected)
        self._reader = asyncio.get_running_loop().create_task(self._read(), context=contextvars.Context())

    async def _connected(self, connection: Any) -> None:
        """Connected again (redis-py subscribed again to what it knew of): a subscription that was in
        flight when the connection broke is made now, and the engine is told news was missed."""
        _log.info("bus.reconnected", node=self.node_id)
        known = {self._decoded(c) for c in self._pubsub.channels}
        missing = [self.keys.bus(t) for t in self._subs if self.keys.bus(t) not in known]
        if missing:
            await self._pubsub.subscribe(*missing)
        if self.on_reconnect is not None:
            self.on_reconnect()

    @staticmethod
    def _decoded(channel: str | bytes) -> str:
        return channel.decode() if isinstance(channel, bytes) else channel

    async def close(self) -> None:
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
        await asyncio.gather(*self._subscribing, return_exceptions=True)
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._pubsub.aclose()
        await self._redis.aclose()

    # ------------------------------------------------------------------ this node's side

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        first = topic not in self._subs
        stop_local = super().subscribe(topic, listener)
        if first:
            self._spawn(self._pubsub.subscribe(self.keys.bus(topic)))

        def unsubscribe() -> None:
            stop_local()
            if topic not in self._subs:  # this node's last listener of the topic left
                self._spawn(self._pubsub.unsubscribe(self.keys.bus(topic)))

        return unsubscribe

    def publish(self, topic: str, message: Any) -> None:
        super().publish(topic, message)
        self._outgoing.append(
            (self.keys.bus(topic), self.node_id + _SEP + orjson.dumps(self._encode(message)).decode())
        )
        if self._sender is None:
            # Everything published in this turn of the loop goes in one pipeline, in order.
            self._sender = asyncio.get_running_loop().create_task(self._send(), context=contextvars.Context())

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work, context=contextvars.Context())
        self._subscribing.add(task)
        task.add_done_callback(self._subscribed)

    def _subscribed(self, task: asyncio.Task[None]) -> None:
        self._subscribing.discard(task)
        if not task.cancelled() and task.exception() is not None:  # made good when the bus reconnects
            _log.warning("bus.subscribe_failed", error=repr(task.exception()))

    async def _send(self) -> None:
        try:
            while self._outgoing:
                batch, self._outgoing = self._outgoing, []
                try:
                    async with asyncio.timeout(_SEND_TIMEOUT_S), self._redis.pipeline(transaction=False) as pipe:
                        for channel, payload in batch:
                            pipe.publish(channel, payload)
                        await pipe.execute()
                except Exception as exc:  # at most once: clients resume by sequence number
                    _log.warning("bus.publish_failed", error=repr(exc), messages=len(batch))
        finally:
            self._sender = None

    # ------------------------------------------------------------------ the other nodes' side

    async def _reconnect(self) -> None:
        """Connect and subscribe again, with backoff (``_connected`` then says news was missed)."""
        pause = 0.1
        while True:
            await asyncio.sleep(pause)
            try:
                await self._pubsub.connect()  # subscribes again to every channel it had
            except Exception as exc:
                _log.warning("bus.reconnect_failed", error=repr(exc), retry_in_s=pause)
                pause = min(pause * 2, 2.0)
                continue
            return

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: wait until it answers and this node listens again
                _log.warning("bus.read_failed", error=repr(exc))
                await self._reconnect()
                continue
            if message is None or message.get("type") != "message":
                continue
            node, _, body = message["data"].partition(_SEP)
            if node == self.node_id:
                continue  # told here already, when it was published
            topic = message["channel"].removeprefix(self.keys.bus(""))
            try:
                Bus.publish(self, topic, self._decode(orjson.loads(body)))
            except Exception:  # one listener's fault must not stop this node hearing the rest
                _log.exception("bus.deliver_failed", topic=topic)
