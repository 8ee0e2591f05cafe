"""Accounts and bearer tokens.

Passwords are hashed with Argon2id off the event loop (:mod:`~contact_center.passwords`), and
a login is throttled before its password is looked at (:mod:`~contact_center.throttle`). A
token is 32 random bytes shown to its holder once; the store keeps only its SHA-256, with the
kind of holder (user or customer) and an expiry. Customer tokens open nothing but the
customer's own conversation: :meth:`Accounts.user_id` refuses them.

A session ends at its expiry, at logout, when a supervisor ends a user's sessions, changes
the password or disables the account. Each end is published on the bus topic
``agent:{user id}`` as ``{"type": "session_ended", "token_hash": ... or None (all), "reason"}``,
so every node closes the desk sockets it holds for it at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from typing import NoReturn

import structlog
from argon2 import PasswordHasher

from contact_center import events, topics
from contact_center.bus import Bus
from contact_center.clock import Clock
from contact_center.config import AuthConfig
from contact_center.exceptions import AccountLocked, AuthError, ClientError, Conflict, Forbidden, NotFound
from contact_center.model import Agent, AgentStatus, Role
from contact_center.passwords import PasswordHashing
from contact_center.store import Session, Store
from contact_center.throttle import LoginThrottle

__all__ = ["MIN_PASSWORD", "Accounts", "hash_token"]

MIN_PASSWORD = 8
_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")

log = structlog.get_logger("contact_center.auth")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ClientError(f"password: at least {MIN_PASSWORD} characters", "invalid_field")
    if len(password) > 1024:
        raise ClientError("password: at most 1024 characters", "invalid_field")


class Accounts:
    """Users (agents, supervisors), their logins and sessions, and customer tokens."""

    def __init__(self, store: Store, clock: Clock, config: AuthConfig, bus: Bus | None = None) -> None:
        self._store = store
        self._clock = clock
        self._config = config
        self._bus = bus if bus is not None else Bus()
        hasher = PasswordHasher(config.hash_time_cost, config.hash_memory_kib, config.hash_lanes)
        self.hashing = PasswordHashing(config.hash_workers, config.hash_queue, config.hash_nice, hasher)
        self.throttle = LoginThrottle(store, config)

    def close(self) -> None:
        self.hashing.close()

    async def add_user(
        self,
        username: str,
        password: str,
        *,
        role: Role = Role.AGENT,
        display_name: str = "",
        skills: dict[str, int] | None = None,
        capacity: dict[str, int] | None = None,
        wrap_up_s: float = 30.0,
    ) -> Agent:
        """Create an account; raises :class:`Conflict` when the name is taken, :class:`ClientError` when weak."""
        if not _USERNAME.fullmatch(username):
            raise ClientError(f"username {username!r}: use 1-64 letters, digits, '.', '-' or '_'", "invalid_field")
        _check_password(password)
        for skill, level in (skills or {}).items():
            if not 1 <= level <= 5:
                raise ClientError(f"skill {skill}: level must be 1-5, got {level}", "invalid_field")
        if await self._store.user_by_name(username) is not None:
            raise Conflict(f"username {username!r} is taken")
        agent = Agent(
            id=uuid.uuid4().hex,
            username=username,
            display_name=display_name or username,
            role=role,
            skills=dict(skills or {}),
            capacity=dict(capacity or {}),
            wrap_up_s=wrap_up_s,
            status=AgentStatus.OFFLINE,
        )
        await self._store.create_user(agent, await self.hashing.hash(password))
        return agent

    async def login(self, username: str, password: str, client: str = "") -> tuple[str, Agent, float]:
        """Check a password; return a new session token, the user and its expiry.

        Raises:
            AuthError: a wrong username or password, or a disabled account (said alike).
            AccountLocked, Throttled: too many wrong passwords; nothing was checked.
            Busy: too many password checks are waiting already.
        """
        throttle = self.throttle
        async with throttle.turn(username, client):
            await throttle.check(username, client, self._clock.now())
            found = await self._store.user_by_name(username)
            if found is None:
                await self.hashing.burn(password)  # same cost whether or not the name exists
                await self._wrong(username, client)
            else:
                agent, stored = found
                if not await self.hashing.verify(stored, password):
                    await self._wrong(username, client)
                if agent.disabled:
                    raise AuthError("this account is disabled; a supervisor can enable it")
                await throttle.succeeded(username)
                await self._rehash(agent, stored, password)
        now = self._clock.now()
        expires = now + self._config.session_ttl_s
        token = secrets.token_urlsafe(32)
        await self._store.create_session(hash_token(token), Session("user", agent.id, expires, now))
        return token, agent, expires

    async def _rehash(self, agent: Agent, stored: str, password: str) -> None:
        """A right password whose hash was made at another cost (the deployment changed it): made again now."""
        if self.hashing.needs_rehash(stored):
            await self._store.set_user(agent.id, password_hash=await self.hashing.hash(password))
            log.info("user.password_rehashed", user_id=agent.id)

    async def _wrong(self, username: str, client: str) -> NoReturn:
        lockout = await self.throttle.failed(username, client, self._clock.now())
        if lockout is not None:
            self._bus.publish(topics.SUPERVISORS, events.AccountLocked(lockout.username, lockout.until, client))
            wait = lockout.until - self._clock.now()
            raise AccountLocked(f"wrong username or password; this account is now locked for {wait:.0f} s", wait)
        raise AuthError("wrong username or password")

    async def logout(self, token: str) -> None:
        token_hash = hash_token(token)
        session = await self._store.get_session(token_hash)
        await self._store.delete_session(token_hash)
        if session is not None and session.kind == "user":
            self._ended(session.subject_id, token_hash, "logout")

    async def end_sessions(self, user_id: str, reason: str = "ended") -> int:
        """End every session of a user, on every node; how many there were."""
        ended = await self._store.delete_sessions_of(user_id)
        self._ended(user_id, None, reason)
        log.info("user.sessions_ended", user_id=user_id, sessions=ended, reason=reason)
        return ended

    def _ended(self, user_id: str, token_hash: str | None, reason: str) -> None:
        self._bus.publish(topics.agent(user_id), events.SessionEnded(token_hash, reason))

    async def users(self) -> list[Agent]:
        return await self._store.list_agents()

    async def locked_until(self, usernames: list[str]) -> list[float]:
        """When each account's lockout ends (0: not locked)."""
        return await self.throttle.locked_until(usernames, self._clock.now())

    async def user(self, username_or_id: str) -> Agent:
        """The account named (by username or id)."""
        found = await self._store.user_by_name(username_or_id)
        agent = found[0] if found is not None else await self._store.get_agent(username_or_id)
        if agent is None:
            raise NotFound(f"no user {username_or_id!r}")
        return agent

    async def set_disabled(self, user_id: str, disabled: bool) -> Agent:
        """Disable an account (its sessions end, no login is accepted) or enable it again."""
        agent = await self.user(user_id)
        await self._store.set_user(agent.id, disabled=disabled)
        if disabled:
            await self.end_sessions(agent.id, "disabled")
        log.info("user.disabled" if disabled else "user.enabled", user_id=agent.id, username=agent.username)
        agent.disabled = disabled
        return agent

    async def set_password(self, user_id: str, password: str) -> Agent:
        """Give an account a new password; its sessions end, and its failed logins are forgotten."""
        _check_password(password)
        agent = await self.user(user_id)
        await self._store.set_user(agent.id, password_hash=await self.hashing.hash(password))
        await self.end_sessions(agent.id, "password_changed")
        await self.throttle.succeeded(agent.username)
        return agent

    async def session(self, token: str | None) -> tuple[str, Session]:
        """The session a token holds (with its hash), if it is known and unexpired."""
        if not token:
            raise AuthError("a bearer token is required")
        token_hash = hash_token(token)
        session = await self._store.get_session(token_hash)
        if session is None:
            raise AuthError("unknown token (signed out, ended or never given)")
        if session.expires_at <= self._clock.now():
            raise AuthError("token expired")
        return token_hash, session

    async def user_id(self, token: str | None, role: Role | None = None) -> str:
        """Return the user id a token grants; customers' tokens are refused.

        Raises:
            AuthError: no token, unknown or expired.
            Forbidden: a customer's token, or a user without ``role``.
        """
        _, session = await self.session(token)
        if session.kind != "user":
            raise Forbidden("customer tokens are not accepted here")
        if role is not None:
            user = await self._store.get_agent(session.subject_id)
            if user is None or user.role != role:
                raise Forbidden(f"the {role.value} role is required")
        return session.subject_id

    async def new_customer_token(self, customer_id: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        expires = now + self._config.customer_token_ttl_s
        await self._store.create_session(hash_token(token), Session("customer", customer_id, expires, now))
        return token

    async def customer_id(self, token: str | None) -> str:
        """Return the customer a customer token belongs to; user tokens are refused."""
        _, session = await self.session(token)
        if session.kind != "customer":
            raise Forbidden("this endpoint takes a customer token")
        return session.subject_id
