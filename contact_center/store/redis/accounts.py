"""The Redis store's accounts: users, sessions, throttles and one-time codes.

A part of :class:`~contact_center.store.redis.RedisStore`: writes go through the store's batched
MULTI/EXEC (``_enqueue``), reads through its read pipeline (``_lookup``), both of :mod:`.pipeline`.
A throttle's strike is a function of its own library (``cc_strike``), so that the count, the
lockout and the expiry change together whichever node strikes. Expiry in Redis (``PEXPIRE``)
only tidies up: whether a session, a count or a code still holds is decided by the engine's
clock against the time kept with it, so a node and Redis need not agree on the time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from contact_center.model import Agent, AgentStatus, Role
from contact_center.store.base import Challenge, Session, Strikes
from contact_center.store.redis.keys import ms as _ms
from contact_center.store.redis.pipeline import RedisPipeline

__all__ = ["ACCOUNTS_LIBRARY", "RedisAccounts"]

_Read = Callable[[list[Any]], Any]
_SLACK_MS = 60_000  # Redis keeps a lapsed record this much longer; the engine's clock decides
_PURGE_BATCH = 1000  # lapsed sessions forgotten per function call

ACCOUNTS_LIBRARY = """#!lua name=contact_center_accounts

-- KEYS: strikes:{key}. ARGV: now (ms), window (ms), lock_after (0: never), lock (ms), slack (ms).
-- Counts one strike; a count lapsed by now starts again. Returns {count, last (ms), locked until (ms)}.
local function strike(keys, args)
  local now, window, after, lock = tonumber(args[1]), tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  local expires = tonumber(redis.call('HGET', keys[1], 'exp') or '0')
  local count, locked = 1, 0
  if expires > now then
    count = tonumber(redis.call('HGET', keys[1], 'n')) + 1
    locked = tonumber(redis.call('HGET', keys[1], 'until'))
  else
    expires = now + window
  end
  if after > 0 and count >= after and locked < now + lock then
    locked = now + lock
  end
  if locked > expires then
    expires = locked
  end
  redis.call('HSET', keys[1], 'n', count, 'last', now, 'until', locked, 'exp', expires)
  redis.call('PEXPIRE', keys[1], expires - now + tonumber(args[5]))
  return {count, now, locked}
end

-- KEYS: user:{id}:sessions, sessions:expiry. ARGV: the prefix of session keys (session:). Ends
-- every session in the set; returns how many still held.
local function end_sessions(keys, args)
  local ended = 0
  for _, h in ipairs(redis.call('SMEMBERS', keys[1])) do
    ended = ended + redis.call('DEL', args[1] .. h)
    redis.call('ZREM', keys[2], h)
  end
  redis.call('DEL', keys[1])
  return ended
end

-- KEYS: sessions:expiry. ARGV: now (ms), the prefix of session keys (session:), how many at most.
-- Forgets the sessions that lapsed by now; returns how many.
local function purge_sessions(keys, args)
  local lapsed = redis.call('ZRANGEBYSCORE', keys[1], '-inf', args[1], 'LIMIT', 0, tonumber(args[3]))
  for _, h in ipairs(lapsed) do
    redis.call('DEL', args[2] .. h)
    redis.call('ZREM', keys[1], h)
  end
  return #lapsed
end

redis.register_function('cc_strike', strike)
redis.register_function('cc_purge_sessions', purge_sessions)
redis.register_function('cc_end_sessions', end_sessions)
"""


def _agent(h: dict[str, str]) -> Agent:
    return Agent(
        id=h["id"],
        username=h["username"],
        display_name=h["display_name"],
        role=Role(h["role"]),
        skills=orjson.loads(h["skills"]),
        capacity=orjson.loads(h["capacity"]),
        wrap_up_s=float(h["wrap_up_s"]),
        status=AgentStatus(h["status"]),
        disabled=h.get("disabled") == "1",
    )


def _strikes(h: dict[str, str], now: float) -> Strikes:
    if not h or int(h.get("exp", 0)) <= _ms(now):
        return Strikes()
    locked = int(h["until"]) / 1000
    return Strikes(int(h["n"]), int(h["last"]) / 1000, locked if locked > now else 0.0)


def _ttl_ms(until: float, now: float) -> int:
    return max(1, _ms(until) - _ms(now)) + _SLACK_MS


class RedisAccounts(RedisPipeline):
    """Users, sessions, throttles and one-time codes in Redis."""

    async def create_user(self, agent: Agent, password_hash: str) -> None:
        k = self.keys
        fields = {
            "id": agent.id,
            "username": agent.username,
            "display_name": agent.display_name,
            "role": agent.role.value,
            "password_hash": password_hash,
            "skills": orjson.dumps(agent.skills).decode(),
            "capacity": orjson.dumps(agent.capacity).decode(),
            "wrap_up_s": repr(agent.wrap_up_s),
            "status": agent.status.value,
            "disabled": "1" if agent.disabled else "0",
        }
        pairs = [x for item in fields.items() for x in item]

        def build(pipe: Any) -> _Read:
            pipe.fcall("cc_create_user", 2, k.users, k.user(agent.id), agent.username, agent.id, *pairs)
            return lambda replies: None

        await self._enqueue(build)

    async def user_by_name(self, username: str) -> tuple[Agent, str] | None:
        async with self._reachable():
            user_id = await self._redis.hget(self.keys.users, username)
            if user_id is None:
                return None
            h = await self._redis.hgetall(self.keys.user(user_id))
            return (_agent(h), h["password_hash"]) if h else None

    async def get_agent(self, agent_id: str) -> Agent | None:
        def build(pipe: Any) -> _Read:
            pipe.hgetall(self.keys.user(agent_id))
            return lambda replies: _agent(replies[0]) if replies[0] else None

        result: Agent | None = await self._lookup(build)
        return result

    async def list_agents(self) -> list[Agent]:
        async with self._reachable():
            names = await self._redis.hgetall(self.keys.users)
            async with self._redis.pipeline(transaction=False) as pipe:
                for name in sorted(names):
                    pipe.hgetall(self.keys.user(names[name]))
                rows = await pipe.execute()
            return [_agent(h) for h in rows if h]

    async def set_user(self, user_id: str, *, password_hash: str | None = None, disabled: bool | None = None) -> None:
        fields: dict[str, str] = {}
        if password_hash is not None:
            fields["password_hash"] = password_hash
        if disabled is not None:
            fields["disabled"] = "1" if disabled else "0"

        def build(pipe: Any) -> _Read:
            if fields:
                pipe.hset(self.keys.user(user_id), mapping=fields)
            return lambda replies: None

        await self._enqueue(build)

    # sessions

    async def create_session(self, token_hash: str, session: Session) -> None:
        k = self.keys
        fields = {
            "kind": session.kind,
            "subject_id": session.subject_id,
            "expires_at": repr(session.expires_at),
            "issued_at": repr(session.issued_at),
        }
        own = (
            k.customer_sessions(session.subject_id)
            if session.kind == "customer"
            else k.user_sessions(session.subject_id)
        )

        def build(pipe: Any) -> _Read:
            pipe.hset(k.session(token_hash), mapping=fields)
            pipe.sadd(own, token_hash)
            pipe.zadd(k.session_expiry, {token_hash: _ms(session.expires_at)})
            if session.issued_at:  # Redis forgets it a little after it lapses
                ttl = _ttl_ms(session.expires_at, session.issued_at)
                pipe.pexpire(k.session(token_hash), ttl)
                pipe.pexpire(own, ttl)  # every session of one holder lasts as long: the newest goes last
            return lambda replies: None

        await self._enqueue(build)

    async def get_session(self, token_hash: str) -> Session | None:
        def build(pipe: Any) -> _Read:
            pipe.hgetall(self.keys.session(token_hash))
            return lambda replies: _session(replies[0]) if replies[0] else None

        result: Session | None = await self._lookup(build)
        return result

    async def delete_session(self, token_hash: str) -> None:
        def build(pipe: Any) -> _Read:
            pipe.delete(self.keys.session(token_hash))
            pipe.zrem(self.keys.session_expiry, token_hash)
            return lambda replies: None

        await self._enqueue(build)

    async def delete_sessions_of(self, subject_id: str) -> int:
        """End every session of a user; how many there were."""
        k = self.keys

        def build(pipe: Any) -> _Read:
            pipe.fcall("cc_end_sessions", 2, k.user_sessions(subject_id), k.session_expiry, k.session(""))
            return lambda replies: int(replies[0])

        result: int = await self._enqueue(build)
        return result

    async def purge_sessions(self, now: float) -> int:
        """Forget the sessions that lapsed by ``now`` (counts and codes Redis forgets by itself)."""
        k = self.keys
        purged = 0
        while True:

            def build(pipe: Any) -> _Read:
                pipe.fcall("cc_purge_sessions", 1, k.session_expiry, _ms(now), k.session(""), _PURGE_BATCH)
                return lambda replies: int(replies[0])

            batch: int = await self._enqueue(build)
            purged += batch
            if batch < _PURGE_BATCH:
                return purged

    # throttles and one-time codes

    async def strike(
        self, key: str, now: float, window_s: float, *, lock_after: int = 0, lock_s: float = 0.0
    ) -> Strikes:
        args = (_ms(now), _ms(window_s), lock_after, _ms(lock_s), _SLACK_MS)

        def build(pipe: Any) -> _Read:
            pipe.fcall("cc_strike", 1, self.keys.strikes(key), *args)
            return lambda replies: Strikes(int(replies[0][0]), int(replies[0][1]) / 1000, _locked(replies[0][2], now))

        result: Strikes = await self._enqueue(build)
        return result

    async def strikes(self, keys: Sequence[str], now: float) -> list[Strikes]:
        def build(pipe: Any) -> _Read:
            for key in keys:
                pipe.hgetall(self.keys.strikes(key))
            return lambda replies: [_strikes(h, now) for h in replies]

        result: list[Strikes] = await self._lookup(build) if keys else []
        return result

    async def forgive(self, key: str) -> None:
        def build(pipe: Any) -> _Read:
            pipe.delete(self.keys.strikes(key))
            return lambda replies: None

        await self._enqueue(build)

    async def put_challenge(self, key: str, challenge: Challenge, now: float) -> None:
        c = challenge
        fields = {
            "customer_id": c.customer_id,
            "address": c.address,
            "salt": c.salt,
            "digest": c.digest,
            "expires_at": repr(c.expires_at),
        }

        def build(pipe: Any) -> _Read:
            pipe.delete(self.keys.challenge(key))
            pipe.hset(self.keys.challenge(key), mapping=fields)
            pipe.pexpire(self.keys.challenge(key), _ttl_ms(c.expires_at, now))
            return lambda replies: None

        await self._enqueue(build)

    async def challenge(self, key: str, now: float) -> Challenge | None:
        def build(pipe: Any) -> _Read:
            pipe.hgetall(self.keys.challenge(key))
            return lambda replies: _challenge(replies[0], now)

        result: Challenge | None = await self._lookup(build)
        return result

    async def drop_challenge(self, key: str) -> None:
        def build(pipe: Any) -> _Read:
            pipe.delete(self.keys.challenge(key))
            return lambda replies: None

        await self._enqueue(build)


def _locked(until_ms: Any, now: float) -> float:
    until = int(until_ms) / 1000
    return until if until > now else 0.0


def _session(h: dict[str, str]) -> Session:
    return Session(h["kind"], h["subject_id"], float(h["expires_at"]), float(h.get("issued_at", 0.0)))


def _challenge(h: dict[str, str], now: float) -> Challenge | None:
    if not h or float(h["expires_at"]) <= now:
        return None
    return Challenge(h["customer_id"], h["address"], h["salt"], h["digest"], float(h["expires_at"]))
