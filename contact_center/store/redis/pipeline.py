"""The Redis store's writer and reader: group commit in MULTI/EXEC, batched reads in one pipeline.

Writes queued in one turn of the event loop go to Redis as one MULTI/EXEC transaction, one
round trip; the next batch waits for it, so writes land in the order they were asked. Reads
asked for in one turn share one pipeline. Each aggregate's module builds its commands on these.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Self

import orjson
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contact_center.exceptions import Conflict, Stale, StoreUnavailable
from contact_center.store.base import settle
from contact_center.store.redis.client import redis_client
from contact_center.store.redis.keys import Keys

__all__ = ["Read", "RedisPipeline", "announcement"]


_log = structlog.get_logger("contact_center.store.redis")

_CONNECT_TIMEOUT_S = 2.0  # an unreachable Redis is reported after this, not waited on
_REPLY_TIMEOUT_S = 5.0
_SEP = "\x1f"  # between a node's id and its message, as RedisBus writes them

Read = Callable[[list[Any]], Any]  # turns an op's replies into its result


def _own_error(failure: Exception) -> Exception:
    """A function's refusal as the engine's own error; anything else as it came."""
    text = str(failure)
    if text.startswith("CONFLICT "):
        return Conflict(text.removeprefix("CONFLICT "))
    if text.startswith("STALE "):
        return Stale(text.removeprefix("STALE "))
    if "Function not found" in text:
        return StoreUnavailable("the store (Redis) came back without its functions; nothing was recorded, try again")
    return failure


_Built = list[tuple[Any, Read, int, int]]  # (sink, read, first reply, after the last)


def _built(pipe: Any, batch: Sequence[tuple[Any, ...]]) -> _Built:
    """Put each entry ``(sink, build, *args)`` of a batch on ``pipe``; where each one's replies will be."""
    reads = []
    for sink, build, *args in batch:
        start = len(pipe)
        read = build(pipe, *args)
        reads.append((sink, read, start, len(pipe)))
    return reads


def _hand_out(reads: _Built, replies: list[Any], failed: Callable[[Exception], Exception]) -> None:
    """Tell each sink its result, read from its own replies, or its own failure (as ``failed`` names it)."""
    for sink, read, start, end in reads:
        part = replies[start:end]
        failure = next((r for r in part if isinstance(r, Exception)), None)
        if failure is not None:
            settle(sink, failed(failure), failed=True)
            continue
        try:
            value = read(part)
        except Exception as exc:
            settle(sink, exc, failed=True)
        else:
            settle(sink, value, failed=False)


def announcement(node_id: str, contacts: list[dict[str, Any]], presences: list[dict[str, Any]]) -> str:
    """What other nodes hear on the bus topic ``state``: the records, tagged with the node (see RedisBus)."""
    told = {"type": "committed", "contacts": contacts, "presences": presences}  # events.Committed
    return node_id + _SEP + orjson.dumps(told).decode()


class RedisPipeline:
    """The connections, the write queue and the read queue every part of the Redis store uses."""

    shared = True
    libraries: tuple[str, ...] = ()  # the Lua libraries its parts call, loaded when it opens

    def __init__(
        self, url: str, prefix: str = "cc:", node_id: str = "", *, count: Callable[[], None] | None = None
    ) -> None:
        self.url = url
        self.keys = Keys(prefix)
        self.node_id = node_id  # announcements of what this node wrote carry it (see RedisBus)
        # No automatic retries (see redis_client): a client told "store_unavailable" sends
        # again instead, and messages are recorded once per client_id.
        self._redis: Any = redis_client(url, count=count, socket_connect_timeout=_CONNECT_TIMEOUT_S)
        # Reads may run twice: they go again on a fresh connection if theirs broke (Redis restarted).
        self._reader: Any = redis_client(url, count=count, socket_connect_timeout=_CONNECT_TIMEOUT_S, retries=1)
        # Mail and attachments come back as bytes.
        self._blobs: Any = redis_client(
            url, count=count, socket_connect_timeout=_CONNECT_TIMEOUT_S, retries=1, decode=False, max_connections=4
        )
        self._pending: list[tuple[Any, ...]] = []  # (sink, build, *args): build(pipe, *args) -> read
        self._flusher: asyncio.Task[None] | None = None
        self._lookups: list[tuple[asyncio.Future[Any], Callable[[Any], Read]]] = []
        self._looking: asyncio.Task[None] | None = None
        self._loaded = False
        self._closed = False

    async def open(self) -> Self:
        """Load the functions; a store is opened before its first write."""
        async with self._reachable():
            for library in self.libraries:
                await self._redis.function_load(library, replace=True)
        self._loaded = True
        return self

    @contextlib.asynccontextmanager
    async def _reachable(self) -> AsyncIterator[None]:
        """Redis down, restarting or too slow: the engine's own error, which a client is told by code.

        The whole request (a pipeline of many replies) must be answered within ``_REPLY_TIMEOUT_S``.
        """
        try:
            async with asyncio.timeout(_REPLY_TIMEOUT_S):
                yield
        except (ConnectionError, TimeoutError, RedisConnectionError, RedisTimeoutError) as exc:
            _log.warning("store.unreachable", url=self.url, error=repr(exc))
            raise StoreUnavailable(f"the store (Redis) cannot be reached: {exc}; nothing was recorded") from exc

    def _queue(self, entry: tuple[Any, ...]) -> None:
        self._pending.append(entry)
        if self._flusher is None:
            # The task first runs on the loop's next turn: everything this turn queues goes with it.
            # A context of its own, as in the SQLite store: listeners must not land in a caller's.
            self._flusher = asyncio.get_running_loop().create_task(self._flush(), context=contextvars.Context())

    def _enqueue(self, build: Callable[..., Read], *args: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue((future, build, *args))
        return future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._commit(batch)
        finally:
            self._flusher = None

    async def _commit(self, batch: list[tuple[Any, ...]]) -> None:
        if not self._loaded:
            try:
                await self.open()
            except StoreUnavailable as exc:
                for entry in batch:
                    settle(entry[0], exc, failed=True)
                return
        pipe = self._redis.pipeline(transaction=True)
        reads = _built(pipe, batch)
        try:
            async with self._reachable():
                replies = await pipe.execute(raise_on_error=False) if len(pipe) else []
        except Exception as exc:  # the transaction did not run: no write of the batch is recorded
            _log.error("store.commit_failed", error=repr(exc), ops=len(batch))
            for sink, *_ in reads:
                settle(sink, exc, failed=True)
            return
        _hand_out(reads, replies, self._write_failed)

    def _write_failed(self, failure: Exception) -> Exception:
        """One write of a transaction refused: the engine's own error for its caller alone."""
        error = _own_error(failure)
        if isinstance(error, Stale):  # another node was first: the engine reads again and retries
            _log.info("store.stale", error=str(error))
        else:
            _log.error("store.write_failed", error=repr(failure))
        if isinstance(error, StoreUnavailable):
            self._loaded = False  # Redis restarted empty: load the functions again first
        return error

    def _lookup(self, build: Callable[[Any], Read]) -> asyncio.Future[Any]:
        """Queue a read: the reads asked for in one turn of the loop go to Redis as one pipeline.

        Reads do not wait behind writes (a caller that needs its write seen awaits it first),
        and one read pipeline is in flight at a time: under load, many clients' reads share a
        round trip, and a burst of them never needs a connection each.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._lookups.append((future, build))
        if self._looking is None:
            self._looking = asyncio.get_running_loop().create_task(self._look(), context=contextvars.Context())
        return future

    async def _look(self) -> None:
        try:
            while self._lookups:
                batch, self._lookups = self._lookups, []
                await self._read_batch(batch)
        finally:
            self._looking = None

    async def _read_batch(self, batch: list[tuple[asyncio.Future[Any], Callable[[Any], Read]]]) -> None:
        pipe = self._reader.pipeline(transaction=False)
        reads = _built(pipe, batch)
        try:
            async with self._reachable():
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            for future, *_ in reads:
                settle(future, exc, failed=True)
            return
        _hand_out(reads, replies, lambda failure: failure)

    async def barrier(self) -> None:
        """Return once everything staged or queued so far is committed."""
        if self._pending or self._flusher is not None:
            await self._enqueue(lambda pipe: lambda replies: None)

    async def close(self) -> None:
        """Write what is queued, then let go of the connections; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        await self.barrier()
        await self._redis.aclose()
        await self._reader.aclose()
        await self._blobs.aclose()
