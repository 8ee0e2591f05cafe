"""The Redis store: what the embedded store keeps, in one Redis that engine nodes can share.

Writes queued in one turn of the event loop go to Redis as one MULTI/EXEC transaction, one
round trip; the next batch waits for it, so writes land in the order they were asked. Redis
does not roll a transaction back when one command in it fails, so every write that can fail
(a customer or a user that exists already) is a single function call, recorded whole or not
at all, and only its own caller hears of the failure. Message numbers and the once-per-
``client_id`` check are kept in Redis by a function (``cc_add_message``), so they hold across
nodes. The functions (Redis 7) are loaded when the store opens.

A caller is told once EXEC has answered. What Redis keeps through a crash of its own depends
on its persistence settings (the README says which a deployment needs).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contact_center.exceptions import Conflict, Stale, StoreUnavailable
from contact_center.mail import MailRecord, Outbound, OutboundState, ThreadEntry
from contact_center.model import (
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    Customer,
    HistoryEvent,
    IdentityKind,
    Presence,
)
from contact_center.records import contact_from_record, contact_record, presence_from_record, presence_record
from contact_center.store.base import Changes, FirstResponses, NewEvent, Written, settle
from contact_center.store.redis_accounts import ACCOUNTS_LIBRARY, RedisAccounts
from contact_center.store.redis_client import redis_client
from contact_center.store.redis_keys import Keys
from contact_center.store.redis_keys import ms as _ms

__all__ = ["RedisStore"]

_log = structlog.get_logger("contact_center.store.redis")

_Read = Callable[[list[Any]], Any]  # turns an op's replies into its result
_CONNECT_TIMEOUT_S = 2.0  # an unreachable Redis is reported after this, not waited on
_REPLY_TIMEOUT_S = 5.0
_SEP = "\x1f"  # between a node's id and its message, as RedisBus writes them
_OPEN = frozenset({ContactState.QUEUED, ContactState.OFFERED, ContactState.ASSIGNED, ContactState.WRAP_UP})

# One library of functions; keys a function finds on its way (while merging) are built from
# the prefix in ARGV[1], in the shapes of redis_keys.Keys.
LIBRARY = """#!lua name=contact_center

-- KEYS: events:next, history:{customer}. ARGV: the event's JSON. Returns the event's id.
local function append_event(keys, args)
  local id = redis.call('INCR', keys[1])
  redis.call('ZADD', keys[2], id, id .. '::' .. args[1])
  return id
end

-- KEYS: events:next, conversation:{contact}, messages:{contact}, history:{customer}.
-- ARGV: client_id, the message's JSON. Returns {1, stored} for a new message, {0, stored}
-- for a client_id recorded before (the message first recorded, nothing changed).
local function add_message(keys, args)
  local seen = redis.call('HGET', keys[2], 'c:' .. args[1])
  if seen then
    return {0, redis.call('ZRANGEBYSCORE', keys[3], seen, seen)[1]}
  end
  local seq = redis.call('HINCRBY', keys[2], 'last', 1)
  redis.call('HSET', keys[2], 'c:' .. args[1], seq)
  local id = redis.call('INCR', keys[1])
  local stored = id .. ':' .. seq .. ':' .. args[2]
  redis.call('ZADD', keys[3], seq, stored)
  redis.call('ZADD', keys[4], id, stored)
  return {1, stored}
end

-- KEYS: conversation:{contact} of each conversation asked for. Its last sequence number, 0 for none.
local function last_seqs(keys)
  local last = {}
  for i, key in ipairs(keys) do
    last[i] = tonumber(redis.call('HGET', key, 'last') or '0')
  end
  return last
end

-- KEYS: customer:{id}. ARGV: name, value, created_at, then kind:value pairs' keys and members.
-- Fails, changing nothing, if the customer or one of its identities exists already.
local function create_customer(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then
    return redis.error_reply('CONFLICT customer ' .. args[4] .. ' exists already')
  end
  for i = 5, #args, 2 do
    if redis.call('EXISTS', args[i]) == 1 then
      return redis.error_reply('CONFLICT identity ' .. args[i + 1] .. ' belongs to a customer already')
    end
  end
  redis.call('HSET', keys[1], 'name', args[1], 'value', args[2], 'created_at', args[3])
  for i = 5, #args, 2 do
    redis.call('SET', args[i], args[4])
    redis.call('SADD', keys[1] .. ':identities', args[i + 1])
  end
  return 1
end

-- KEYS: users, user:{id}. ARGV: username, id, then field, value pairs. Fails if the name is taken.
local function create_user(keys, args)
  if redis.call('HSETNX', keys[1], args[1], args[2]) == 0 then
    return redis.error_reply('CONFLICT username ' .. args[1] .. ' is taken')
  end
  redis.call('HSET', keys[2], unpack(args, 3))
  return 1
end

-- ARGV: prefix, keep, gone. Moves identities, claims, contacts, customer sessions and history from
-- gone to keep; keep's value becomes the higher of the two; gone is marked merged.
local function merge_customers(keys, args)
  local p, keep, gone = args[1], args[2], args[3]
  local kc, gc = p .. 'customer:' .. keep, p .. 'customer:' .. gone
  for _, iv in ipairs(redis.call('SMEMBERS', gc .. ':identities')) do
    redis.call('SET', p .. 'identity:' .. iv, keep)
    redis.call('SADD', kc .. ':identities', iv)
  end
  for _, c in ipairs(redis.call('SMEMBERS', gc .. ':contacts')) do
    redis.call('HSET', p .. 'contact:' .. c, 'customer_id', keep)
    redis.call('SADD', kc .. ':contacts', c)
  end
  for _, h in ipairs(redis.call('SMEMBERS', gc .. ':sessions')) do
    if redis.call('EXISTS', p .. 'session:' .. h) == 1 then
      redis.call('HSET', p .. 'session:' .. h, 'subject_id', keep)
      redis.call('SADD', kc .. ':sessions', h)
    end
  end
  redis.call('ZUNIONSTORE', kc .. ':claims', 2, kc .. ':claims', gc .. ':claims', 'AGGREGATE', 'MIN')
  redis.call('DEL', gc .. ':identities', gc .. ':contacts', gc .. ':sessions', gc .. ':claims')
  redis.call('ZUNIONSTORE', p .. 'history:' .. keep, 2, p .. 'history:' .. keep, p .. 'history:' .. gone)
  redis.call('DEL', p .. 'history:' .. gone)
  local kv = tonumber(redis.call('HGET', kc, 'value') or '0')
  local gv = tonumber(redis.call('HGET', gc, 'value') or '0')
  if gv > kv then
    redis.call('HSET', kc, 'value', redis.call('HGET', gc, 'value'))
  end
  redis.call('HSET', gc, 'merged_into', keep)
  return 1
end

-- ARGV: prefix, the announcement to publish on bus:state (or ''), and the unit as JSON:
-- check: [key, version] pairs (key without the prefix, a hash whose field v is its version);
-- contacts: [id, customer_id, open (1/0), enqueued_at, version, record, sla] (sla: see _sla);
-- presences: [agent_id, version, record, status]; events: [customer_id, json];
-- mails and outbound: objects with their keys built (see RedisStore._mail_unit), their bytes
-- in ARGV from 4 on. Records nothing unless every key is at its version, no mail's place in its
-- mailbox is recorded and no outbox key is taken; returns the events' ids.
local function commit(keys, args)
  local p = args[1]
  local unit = cjson.decode(args[3])
  for _, c in ipairs(unit.check) do
    local v = tonumber(redis.call('HGET', p .. c[1], 'v') or '0')
    if v ~= c[2] then
      return redis.error_reply('STALE ' .. c[1] .. ' is at version ' .. v .. ', not ' .. c[2])
    end
  end
  for _, m in ipairs(unit.mails) do
    if m.src ~= '' and redis.call('EXISTS', m.src) == 1 then
      return redis.error_reply('CONFLICT mail ' .. m.where .. ' is recorded already')
    end
  end
  for _, o in ipairs(unit.outbound) do
    if redis.call('EXISTS', o.unique) == 1 then
      return redis.error_reply('CONFLICT outbox: ' .. o.name .. ' is queued already')
    end
  end
  for _, c in ipairs(unit.contacts) do
    redis.call('HSET', p .. 'contact:' .. c[1], 'v', c[5], 'customer_id', c[2], 'record', c[6])
    if c[7] ~= '' then
      redis.call('ZADD', p .. 'sla:email', c[7][1], c[1])
      if c[7][2] ~= '' then
        redis.call('HSET', p .. 'sla:email:answered', c[1], c[7][2])
      end
    end
    redis.call('SADD', p .. 'customer:' .. c[2] .. ':contacts', c[1])
    if c[3] == 1 then
      redis.call('ZADD', p .. 'contacts:open', c[4], c[1])
    else
      redis.call('ZREM', p .. 'contacts:open', c[1])
    end
  end
  for _, a in ipairs(unit.presences) do
    redis.call('HSET', p .. 'agent:' .. a[1], 'v', a[2], 'record', a[3])
    redis.call('HSET', p .. 'user:' .. a[1], 'status', a[4])
  end
  for _, m in ipairs(unit.mails) do
    redis.call('HSET', m.key, 'meta', m.meta, 'raw', args[m.raw])
    for _, part in ipairs(m.parts) do
      redis.call('HSET', m.key, part[1], args[part[2]])
    end
    if m.src ~= '' then
      redis.call('SET', m.src, m.id)
      local uidv = redis.call('HGET', m.box, 'uidvalidity')
      local last = tonumber(redis.call('HGET', m.box, 'last_uid') or '0')
      if uidv ~= m.uidv or last < m.uid then
        redis.call('HSET', m.box, 'uidvalidity', m.uidv, 'last_uid', m.uid)
      end
    end
    for _, t in ipairs(m.threads) do
      redis.call('SET', t[1], t[2], 'NX')
    end
    if m.ticket ~= '' then
      if m.at >= tonumber(redis.call('HGET', m.ticket, 'at') or '-1') then
        redis.call('HSET', m.ticket, 'contact_id', m.contact, 'at', m.at)
      end
    end
    if m.listed ~= '' then
      redis.call('ZADD', m.listed, m.at, m.id)
    end
  end
  for _, o in ipairs(unit.outbound) do
    redis.call('HSET', o.key, 'meta', o.meta, 'raw', args[o.raw])
    redis.call('SET', o.unique, o.id)
    redis.call('ZADD', o.due, o.next, o.id)
    if o.acks ~= '' then
      redis.call('ZADD', o.acks, o.created, o.id)
      redis.call('ZADD', o.acks_domain, o.created, o.id)
    end
  end
  local ids = {}
  for _, e in ipairs(unit.events) do
    local id = redis.call('INCR', p .. 'events:next')
    redis.call('ZADD', p .. 'history:' .. e[1], id, id .. '::' .. e[2])
    ids[#ids + 1] = id
  end
  if args[2] ~= '' then
    redis.call('PUBLISH', p .. 'bus:state', args[2])
  end
  return ids
end

redis.register_function('cc_append_event', append_event)
redis.register_function('cc_commit', commit)
redis.register_function('cc_add_message', add_message)
redis.register_function{function_name='cc_last_seqs', callback=last_seqs, flags={'no-writes'}}
redis.register_function('cc_create_customer', create_customer)
redis.register_function('cc_create_user', create_user)
redis.register_function('cc_merge_customers', merge_customers)
"""


def _mail(h: dict[bytes, bytes]) -> MailRecord:
    meta = orjson.loads(h[b"meta"])
    blobs = [h.get(f"p:{i}".encode()) for i in range(len(meta["attachments"]))]
    return MailRecord.from_meta(meta, h[b"raw"], blobs)


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


def _event_json(e: NewEvent) -> str:
    """An event's stored JSON: everything but its id, sequence number and customer (which the key says)."""
    return _stored_json(e.contact_id, e.channel, e.kind, e.at, e.actor, dict(e.data), None)


def _stored_json(
    contact_id: str | None, channel: str | None, kind: str, at: float, actor: str, data: Any, client_id: str | None
) -> str:
    fields = {"contact_id": contact_id, "channel": channel, "kind": kind, "at": at, "actor": actor, "data": data}
    return orjson.dumps({**fields, "client_id": client_id}).decode()


def _event(stored: str, customer_id: str) -> HistoryEvent:
    """Read ``{id}:{seq}:{json}`` back into an event of ``customer_id``."""
    event_id, seq, body = stored.split(":", 2)
    d = orjson.loads(body)
    return HistoryEvent(
        int(event_id),
        customer_id,
        d["contact_id"],
        d["channel"],
        d["kind"],
        d["at"],
        d["actor"],
        d["data"],
        int(seq) if seq else None,
        d["client_id"],
    )


@dataclass(frozen=True, slots=True)
class _Row:
    """A contact as it is written: taken when the write is asked for, not when it runs."""

    id: str
    customer_id: str
    open: bool
    enqueued_at: float
    version: int
    record: dict[str, Any]
    json: str


def _row(c: Contact) -> _Row:
    record = contact_record(c)
    return _Row(c.id, c.customer_id, c.state in _OPEN, c.enqueued_at, c.version, record, orjson.dumps(record).decode())


def _sla(row: _Row) -> list[Any] | str:
    """What the SLA clock keeps of an email contact: [arrival (ms), first response (s) or ""]; "" for others."""
    r = row.record
    if r["channel"] != Channel.EMAIL.value:
        return ""
    answered = r.get("answered_at")
    return [_ms(r["created_at"]), "" if answered is None else repr(answered)]


def _contact(h: dict[str, str], last_seq: str | None) -> Contact:
    contact = contact_from_record(orjson.loads(h["record"]))
    contact.customer_id = h["customer_id"]  # a merge moves contacts to the surviving customer
    contact.version = int(h["v"])
    contact.last_seq = int(last_seq or 0)
    return contact


def _identity(member: str) -> tuple[IdentityKind, str]:
    kind, value = member.split(":", 1)
    return IdentityKind(kind), value


def _customer(customer_id: str, h: dict[str, str], ids: set[str], claims: list[str]) -> Customer | None:
    if not h or h.get("merged_into"):
        return None
    identities = sorted(_identity(iv) for iv in ids)
    return Customer(
        id=customer_id,
        name=h.get("name", ""),
        value=float(h.get("value", 0.0)),
        created_at=float(h.get("created_at", 0.0)),
        identities=identities,
        claims=[c for c in map(_identity, claims) if c not in identities],
    )


def _presence(h: dict[str, str]) -> Presence:
    presence = presence_from_record(orjson.loads(h["record"]))
    presence.version = int(h["v"])
    return presence


_Built = list[tuple[Any, _Read, int, int]]  # (sink, read, first reply, after the last)


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


class RedisStore(RedisAccounts):
    """The :class:`~contact_center.store.base.Store` port on Redis (redis-py asyncio)."""

    shared = True

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
        self._lookups: list[tuple[asyncio.Future[Any], Callable[[Any], _Read]]] = []
        self._looking: asyncio.Task[None] | None = None
        self._loaded = False
        self._closed = False

    async def open(self) -> RedisStore:
        """Load the functions; a store is opened before its first write."""
        async with self._reachable():
            await self._redis.function_load(LIBRARY, replace=True)
            await self._redis.function_load(ACCOUNTS_LIBRARY, replace=True)
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

    # ------------------------------------------------------------------ group commit

    def _queue(self, entry: tuple[Any, ...]) -> None:
        self._pending.append(entry)
        if self._flusher is None:
            # The task first runs on the loop's next turn: everything this turn queues goes with it.
            # A context of its own, as in the SQLite store: listeners must not land in a caller's.
            self._flusher = asyncio.get_running_loop().create_task(self._flush(), context=contextvars.Context())

    def _enqueue(self, build: Callable[..., _Read], *args: Any) -> asyncio.Future[Any]:
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

    # ------------------------------------------------------------------ batched reads

    def _lookup(self, build: Callable[[Any], _Read]) -> asyncio.Future[Any]:
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

    async def _read_batch(self, batch: list[tuple[asyncio.Future[Any], Callable[[Any], _Read]]]) -> None:
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

    # ------------------------------------------------------------------ building blocks

    def _append_events(self, pipe: Any, events: Sequence[NewEvent]) -> Callable[[list[Any]], list[HistoryEvent]]:
        """Queue ``events``; the returned function reads their ids from the replies (one each)."""
        for e in events:
            pipe.fcall("cc_append_event", 2, self.keys.event_ids, self.keys.history(e.customer_id), _event_json(e))

        def read(replies: list[Any]) -> list[HistoryEvent]:
            return [
                HistoryEvent(int(i), e.customer_id, e.contact_id, e.channel, e.kind, e.at, e.actor, dict(e.data))
                for i, e in zip(replies, events, strict=True)
            ]

        return read

    def _save_contacts(self, pipe: Any, rows: Sequence[_Row]) -> None:
        """Write contacts as they are (versions unchecked: new records) and announce them to other nodes."""
        k = self.keys
        for row in rows:
            pipe.hset(k.contact(row.id), mapping={"v": row.version, "customer_id": row.customer_id, "record": row.json})
            pipe.sadd(k.customer_contacts(row.customer_id), row.id)
            if row.open:
                pipe.zadd(k.open_contacts, {row.id: row.enqueued_at})
            else:
                pipe.zrem(k.open_contacts, row.id)
        if rows:
            pipe.publish(k.bus("state"), self._announcement([r.record for r in rows], []))

    def _announcement(self, contacts: list[dict[str, Any]], presences: list[dict[str, Any]]) -> str:
        """What other nodes hear on the bus topic ``state``: the records, tagged with this node (see RedisBus)."""
        return self.node_id + _SEP + orjson.dumps({"contacts": contacts, "presences": presences}).decode()

    # ------------------------------------------------------------------ customers and identities

    async def create_customer(self, customer: Customer) -> None:
        k = self.keys
        args: list[Any] = [customer.name, repr(customer.value), repr(customer.created_at), customer.id]
        for kind, value in customer.identities:
            args += [k.identity(kind.value, value), f"{kind.value}:{value}"]

        def build(pipe: Any) -> _Read:
            pipe.fcall("cc_create_customer", 1, k.customer(customer.id), *args)
            return lambda replies: None

        await self._enqueue(build)

    async def get_customer(self, customer_id: str) -> Customer | None:
        def build(pipe: Any) -> _Read:
            pipe.hgetall(self.keys.customer(customer_id))
            pipe.smembers(self.keys.customer_identities(customer_id))
            pipe.zrange(self.keys.customer_claims(customer_id), 0, -1)
            return lambda replies: _customer(customer_id, *replies)

        result: Customer | None = await self._lookup(build)
        return result

    async def find_customer(self, kind: IdentityKind, value: str) -> str | None:
        def build(pipe: Any) -> _Read:
            pipe.get(self.keys.identity(kind.value, value))
            return lambda replies: None if replies[0] is None else str(replies[0])

        result: str | None = await self._lookup(build)
        return result

    async def add_identity(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None:
        k = self.keys

        def build(pipe: Any) -> _Read:
            # Like INSERT OR IGNORE: an identity already someone's stays theirs.
            pipe.set(k.identity(kind.value, value), customer_id, nx=True)
            pipe.sadd(k.customer_identities(customer_id), f"{kind.value}:{value}")
            self._append_events(pipe, [event])
            return lambda replies: None

        await self._enqueue(build)

    async def merge_customers(self, keep: str, gone: str, event: NewEvent) -> None:
        def build(pipe: Any) -> _Read:
            pipe.fcall("cc_merge_customers", 0, self.keys.prefix, keep, gone)
            self._append_events(pipe, [event])
            return lambda replies: None

        await self._enqueue(build)

    async def add_claim(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None:
        def build(pipe: Any) -> _Read:
            pipe.zadd(self.keys.customer_claims(customer_id), {f"{kind.value}:{value}": _ms(event.at)}, nx=True)
            self._append_events(pipe, [event])
            return lambda replies: None

        await self._enqueue(build)

    async def set_customer(self, customer_id: str, *, name: str | None, value: float | None) -> None:
        fields: dict[str, str] = {}
        if name is not None:
            fields["name"] = name
        if value is not None:
            fields["value"] = repr(value)

        def build(pipe: Any) -> _Read:
            if fields:
                pipe.hset(self.keys.customer(customer_id), mapping=fields)
            return lambda replies: None

        await self._enqueue(build)

    # ------------------------------------------------------------------ contacts, messages and history

    async def record(self, contacts: Sequence[Contact], events: Sequence[NewEvent]) -> list[HistoryEvent]:
        return await self.stage(contacts, events)

    def stage(self, contacts: Sequence[Contact], events: Sequence[NewEvent]) -> asyncio.Future[list[HistoryEvent]]:
        rows = [_row(c) for c in contacts]
        staged = tuple(events)

        def build(pipe: Any) -> _Read:
            self._save_contacts(pipe, rows)
            read = self._append_events(pipe, staged)
            return lambda replies: read(replies[len(replies) - len(staged) :] if staged else [])

        return self._enqueue(build)

    def commit(self, changes: Changes) -> asyncio.Future[list[HistoryEvent]]:
        """Queue a unit of work: one ``cc_commit``, recorded whole if no record moved on meanwhile (else Stale)."""
        rows = [_row(c) for c in changes.contacts]
        presences = [presence_record(p) for p in changes.presences]
        events = changes.events
        blobs: list[bytes] = []
        unit = {
            "check": [[key, version] for key, version in changes.expected.items()],
            "contacts": [
                [r.id, r.customer_id, int(r.open), repr(r.enqueued_at), r.version, r.json, _sla(r)] for r in rows
            ],
            "presences": [[p["agent_id"], p["version"], orjson.dumps(p).decode(), p["status"]] for p in presences],
            "events": [[e.customer_id, _event_json(e)] for e in events],
            "mails": [self._mail_unit(m, blobs) for m in changes.mails],
            "outbound": [self._outbound_unit(o, blobs) for o in changes.outbound],
        }
        body = orjson.dumps(unit).decode()
        announcement = self._announcement([r.record for r in rows], presences)

        def build(pipe: Any) -> _Read:
            pipe.fcall("cc_commit", 0, self.keys.prefix, announcement, body, *blobs)

            def read(replies: list[Any]) -> list[HistoryEvent]:
                return [
                    HistoryEvent(int(i), e.customer_id, e.contact_id, e.channel, e.kind, e.at, e.actor, dict(e.data))
                    for i, e in zip(replies[0], events, strict=True)
                ]

            return read

        return self._enqueue(build)

    def _blob(self, blobs: list[bytes], data: bytes) -> int:
        """Pass ``data`` as an argument of its own (bytes, not JSON); its index in the function's ARGV."""
        blobs.append(data)
        return 3 + len(blobs)

    def _mail_unit(self, m: MailRecord, blobs: list[bytes]) -> dict[str, Any]:
        k = self.keys
        src = m.source
        at = _ms(m.at)
        ref = orjson.dumps([m.id, m.digest, m.contact_id, m.ticket]).decode()
        listed = k.contact_mails(m.contact_id) if m.contact_id else k.quarantined if m.quarantine else ""
        return {
            "id": m.id,
            "key": k.mail(m.id),
            "meta": orjson.dumps(m.meta()).decode(),
            "raw": self._blob(blobs, m.raw),
            "parts": [[f"p:{i}", self._blob(blobs, a.data)] for i, a in enumerate(m.attachments) if a.data is not None],
            "src": k.mail_source(src.mailbox, src.uidvalidity, src.uid) if src else "",
            "where": f"{src.mailbox} UID {src.uid} (UIDVALIDITY {src.uidvalidity})" if src else m.id,
            "box": k.mailbox(src.mailbox) if src else "",
            "uidv": str(src.uidvalidity) if src else "",
            "uid": src.uid if src else 0,
            "threads": [[k.thread_id(mid), ref] for mid in m.thread_ids],
            "ticket": k.ticket(m.ticket) if m.ticket and m.contact_id else "",
            "contact": m.contact_id or "",
            "at": at,
            "listed": listed,
        }

    def _outbound_unit(self, o: Outbound, blobs: list[bytes]) -> dict[str, Any]:
        k = self.keys
        return {
            "id": o.id,
            "name": o.key,
            "key": k.outbox(o.id),
            "unique": k.outbox_key(o.key),
            "meta": orjson.dumps(o.meta()).decode(),
            "raw": self._blob(blobs, o.raw),
            "due": k.outbox_due,
            "next": _ms(o.next_at),
            "acks": k.acks(o.recipients[0]) if o.kind == "ack" and o.recipients else "",
            "acks_domain": k.acks_domain(o.recipients[0].rsplit("@", 1)[-1])
            if o.kind == "ack" and o.recipients
            else "",
            "created": _ms(o.created_at),
        }

    async def current(
        self, contact_ids: Sequence[str], agent_ids: Sequence[str]
    ) -> tuple[list[Contact], list[Presence]]:
        """The records as Redis has them now (those that exist)."""
        k = self.keys
        n = 2 * len(contact_ids)

        def build(pipe: Any) -> _Read:
            for contact_id in contact_ids:
                pipe.hgetall(k.contact(contact_id))
                pipe.hget(k.conversation(contact_id), "last")
            for agent_id in agent_ids:
                pipe.hgetall(k.agent(agent_id))
            return read

        def read(replies: list[Any]) -> tuple[list[Contact], list[Presence]]:
            contacts = [_contact(h, last) for h, last in zip(replies[:n:2], replies[1:n:2], strict=True) if h]
            return contacts, [_presence(h) for h in replies[n:] if h]

        result: tuple[list[Contact], list[Presence]] = await self._lookup(build)
        return result

    def stage_agent_status(self, agent_id: str, status: AgentStatus) -> asyncio.Future[None]:
        def build(pipe: Any) -> _Read:
            pipe.hset(self.keys.user(agent_id), "status", status.value)
            return lambda replies: None

        return self._enqueue(build)

    def add_message(
        self,
        contact: Contact,
        actor: str,
        text: str,
        client_id: str,
        at: float,
        extra: Sequence[NewEvent] = (),
        *,
        create: bool = False,
    ) -> asyncio.Future[tuple[HistoryEvent, bool]]:
        """Queue a message for ``contact``'s conversation, once per ``client_id`` (see the SQLite store)."""
        future: asyncio.Future[tuple[HistoryEvent, bool]] = asyncio.get_running_loop().create_future()
        row = _row(contact) if create else None
        self._queue((future, self._build_message, contact, actor, text, client_id, at, tuple(extra), row))
        return future

    def post_message(self, contact: Contact, actor: str, text: str, client_id: str, at: float, then: Written) -> None:
        self._queue((then, self._build_message, contact, actor, text, client_id, at, (), None))

    def _build_message(
        self,
        pipe: Any,
        contact: Contact,
        actor: str,
        text: str,
        client_id: str,
        at: float,
        extra: tuple[NewEvent, ...],
        row: _Row | None,
    ) -> _Read:
        k = self.keys
        if row is not None:  # a conversation's first message: the contact and its first events before it
            self._save_contacts(pipe, [row])
            self._append_events(pipe, extra)
        body = _stored_json(contact.id, contact.channel.value, "message", at, actor, {"text": text}, client_id)
        customer_id = contact.customer_id
        keys = (k.event_ids, k.conversation(contact.id), k.messages(contact.id), k.history(customer_id))
        pipe.fcall("cc_add_message", len(keys), *keys, client_id, body)
        after = 0
        if row is None and extra:  # otherwise its events follow the message, as in the SQLite store
            self._append_events(pipe, extra)
            after = len(extra)

        def read(replies: list[Any]) -> tuple[HistoryEvent, bool]:
            new, stored = replies[len(replies) - 1 - after]
            return _event(stored, customer_id), bool(new)

        return read

    async def get_contact(self, contact_id: str) -> Contact | None:
        def build(pipe: Any) -> _Read:
            pipe.hgetall(self.keys.contact(contact_id))
            pipe.hget(self.keys.conversation(contact_id), "last")
            return lambda replies: _contact(*replies) if replies[0] else None

        result: Contact | None = await self._lookup(build)
        return result

    async def open_contacts(self) -> list[Contact]:
        async with self._reachable():
            ids = await self._redis.zrange(self.keys.open_contacts, 0, -1)
            async with self._redis.pipeline(transaction=False) as pipe:
                for contact_id in ids:
                    pipe.hgetall(self.keys.contact(contact_id))
                    pipe.hget(self.keys.conversation(contact_id), "last")
                replies = await pipe.execute()
            return [_contact(h, last) for h, last in zip(replies[::2], replies[1::2], strict=True) if h]

    async def messages(self, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]:
        def build(pipe: Any) -> _Read:
            pipe.hget(self.keys.contact(contact_id), "customer_id")
            pipe.zrangebyscore(self.keys.messages(contact_id), f"({after_seq}", "+inf")
            return lambda replies: [_event(s, replies[0] or "") for s in replies[1]]

        result: list[HistoryEvent] = await self._lookup(build)
        return result

    async def last_seqs(self, contact_ids: Sequence[str]) -> dict[str, int]:
        """The last message number of each conversation asked for (0: none yet), in one call."""
        keys = [self.keys.conversation(c) for c in contact_ids]

        def build(pipe: Any) -> _Read:
            pipe.fcall_ro("cc_last_seqs", len(keys), *keys)
            return lambda replies: dict(zip(contact_ids, map(int, replies[0]), strict=True))

        result: dict[str, int] = await self._lookup(build)
        return result

    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]:
        top = f"({before_id}" if before_id is not None else "+inf"

        def build(pipe: Any) -> _Read:
            pipe.zrevrangebyscore(self.keys.history(customer_id), top, "-inf", start=0, num=limit)
            return lambda replies: [_event(s, customer_id) for s in reversed(replies[0])]

        result: list[HistoryEvent] = await self._lookup(build)
        return result

    # ------------------------------------------------------------------ email

    async def mailbox_cursor(self, mailbox: str) -> tuple[int, int] | None:
        def build(pipe: Any) -> _Read:
            pipe.hmget(self.keys.mailbox(mailbox), "uidvalidity", "last_uid")
            return lambda replies: None if replies[0][0] is None else (int(replies[0][0]), int(replies[0][1]))

        result: tuple[int, int] | None = await self._lookup(build)
        return result

    async def thread(self, message_ids: Sequence[str]) -> list[ThreadEntry]:
        wanted = list(dict.fromkeys(message_ids))

        def build(pipe: Any) -> _Read:
            for mid in wanted:
                pipe.get(self.keys.thread_id(mid))
            return lambda replies: [
                ThreadEntry(mid, *orjson.loads(ref)) for mid, ref in zip(wanted, replies, strict=True) if ref
            ]

        result: list[ThreadEntry] = await self._lookup(build)
        return result

    async def ticket_contact(self, ticket: str) -> str | None:
        def build(pipe: Any) -> _Read:
            pipe.hget(self.keys.ticket(ticket), "contact_id")
            return lambda replies: replies[0]

        result: str | None = await self._lookup(build)
        return result

    async def next_ticket(self) -> int:
        async with self._reachable():
            return int(await self._redis.incr(self.keys.ticket_numbers))

    async def _mails(self, ids: Sequence[str]) -> list[MailRecord]:
        async with self._reachable(), self._blobs.pipeline(transaction=False) as pipe:
            for mail_id in ids:
                pipe.hgetall(self.keys.mail(mail_id))
            replies = await pipe.execute()
        return [_mail(h) for h in replies if h]

    async def mail(self, mail_id: str) -> MailRecord | None:
        found = await self._mails([mail_id])
        return found[0] if found else None

    async def mails_of(self, contact_id: str, *, whole: bool = False) -> list[MailRecord]:
        async with self._reachable():
            ids = await self._reader.zrange(self.keys.contact_mails(contact_id), 0, -1)
        if whole:
            return await self._mails(ids)
        async with self._reachable(), self._reader.pipeline(transaction=False) as pipe:
            for mail_id in ids:
                pipe.hget(self.keys.mail(mail_id), "meta")
            metas = await pipe.execute()
        light = []
        for meta in metas:
            if meta is not None:
                found = orjson.loads(meta)
                light.append(MailRecord.from_meta(found, b"", [None] * len(found["attachments"])))
        return light

    async def quarantined(self, limit: int = 100) -> list[MailRecord]:
        async with self._reachable():
            ids = await self._reader.zrevrange(self.keys.quarantined, 0, limit - 1)
        return await self._mails(ids)

    async def _outbound(self, ids: Sequence[str]) -> list[Outbound]:
        async with self._reachable(), self._blobs.pipeline(transaction=False) as pipe:
            for outbound_id in ids:
                pipe.hmget(self.keys.outbox(outbound_id), "meta", "raw")
            replies = await pipe.execute()
        return [Outbound.from_meta(orjson.loads(meta), raw) for meta, raw in replies if meta is not None]

    async def outbound_due(self, now: float, limit: int = 100) -> list[Outbound]:
        async with self._reachable():
            ids = await self._reader.zrangebyscore(self.keys.outbox_due, "-inf", _ms(now), start=0, num=limit)
        return await self._outbound(ids)

    async def outbound(self, outbound_id: str) -> Outbound | None:
        found = await self._outbound([outbound_id])
        return found[0] if found else None

    async def update_outbound(self, outbound: Outbound) -> None:
        k = self.keys
        meta = orjson.dumps(outbound.meta()).decode()
        queued = outbound.state == OutboundState.QUEUED

        def build(pipe: Any) -> _Read:
            pipe.hset(k.outbox(outbound.id), "meta", meta)
            if queued:
                pipe.zadd(k.outbox_due, {outbound.id: _ms(outbound.next_at)})
            else:
                pipe.zrem(k.outbox_due, outbound.id)
            return lambda replies: None

        await self._enqueue(build)

    async def acks_to(self, address: str, since: float) -> list[float]:
        return await self._times(self.keys.acks(address), since)

    async def acks_to_domain(self, domain: str, since: float) -> list[float]:
        return await self._times(self.keys.acks_domain(domain), since)

    async def _times(self, key: str, since: float) -> list[float]:
        """The times (scores) of a sorted set's members after ``since``, in seconds."""

        def build(pipe: Any) -> _Read:
            pipe.zrangebyscore(key, f"({_ms(since)}", "+inf", withscores=True)
            return lambda replies: [score / 1000 for _, score in replies[0]]

        result: list[float] = await self._lookup(build)
        return result

    async def first_responses(self, since: float, until: float) -> FirstResponses:
        """See the SQLite store; here from the ``sla:email`` index and its first responses."""
        async with self._reachable():
            found = await self._reader.zrangebyscore(self.keys.sla_email, _ms(since), f"({_ms(until)}", withscores=True)
            answered = await self._reader.hmget(self.keys.sla_answered, [c for c, _ in found]) if found else []
        arrived = np.fromiter((score / 1000 for _, score in found), dtype=np.float64, count=len(found))
        first = np.fromiter((np.nan if a is None else float(a) for a in answered), dtype=np.float64, count=len(found))
        return arrived, first

    # ------------------------------------------------------------------ accounts (more in RedisAccounts)

    async def set_agent_status(self, agent_id: str, status: AgentStatus) -> None:
        await self.stage_agent_status(agent_id, status)

    async def close(self) -> None:
        """Write what is queued, then let go of the connections; closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        await self.barrier()
        await self._redis.aclose()
        await self._reader.aclose()
        await self._blobs.aclose()
