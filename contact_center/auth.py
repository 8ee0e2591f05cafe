"""Accounts and bearer tokens.

Passwords are hashed with Argon2id (argon2-cffi). A token is 32 random bytes shown to
its holder once; the store keeps only its SHA-256, with the kind of holder (user or
customer) and an expiry. Customer tokens open nothing but the customer's own
conversation: :meth:`Accounts.user` refuses them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from contact_center.clock import Clock
from contact_center.config import AuthConfig
from contact_center.exceptions import AuthError, ClientError, Conflict, Forbidden
from contact_center.model import Agent, AgentStatus, Role
from contact_center.store import Session, Store

__all__ = ["Accounts", "hash_token"]

_hasher = PasswordHasher()
_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Accounts:
    """Users (agents, supervisors), their logins, and customer tokens."""

    def __init__(self, store: Store, clock: Clock, config: AuthConfig) -> None:
        self._store = store
        self._clock = clock
        self._config = config

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
        if len(password) < 8:
            raise ClientError("password: at least 8 characters", "invalid_field")
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
        await self._store.create_user(agent, _hasher.hash(password))
        return agent

    async def login(self, username: str, password: str) -> tuple[str, Agent, float]:
        """Check a password; return a new session token, the user and its expiry."""
        found = await self._store.user_by_name(username)
        if found is None:
            _hasher.hash(password)  # same cost whether or not the name exists
            raise AuthError("wrong username or password")
        agent, stored = found
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            raise AuthError("wrong username or password") from None
        expires = self._clock.now() + self._config.session_ttl_s
        token = secrets.token_urlsafe(32)
        await self._store.create_session(hash_token(token), Session("user", agent.id, expires))
        return token, agent, expires

    async def logout(self, token: str) -> None:
        await self._store.delete_session(hash_token(token))

    async def _session(self, token: str | None) -> Session:
        if not token:
            raise AuthError("a bearer token is required")
        session = await self._store.get_session(hash_token(token))
        if session is None:
            raise AuthError("unknown token")
        if session.expires_at <= self._clock.now():
            raise AuthError("token expired")
        return session

    async def user_id(self, token: str | None, role: Role | None = None) -> str:
        """Return the user id a token grants; customers' tokens are refused.

        Raises:
            AuthError: no token, unknown or expired.
            Forbidden: a customer's token, or a user without ``role``.
        """
        session = await self._session(token)
        if session.kind != "user":
            raise Forbidden("customer tokens are not accepted here")
        if role is not None:
            user = await self._store.get_agent(session.subject_id)
            if user is None or user.role != role:
                raise Forbidden(f"the {role.value} role is required")
        return session.subject_id

    async def new_customer_token(self, customer_id: str) -> str:
        token = secrets.token_urlsafe(32)
        expires = self._clock.now() + self._config.customer_token_ttl_s
        await self._store.create_session(hash_token(token), Session("customer", customer_id, expires))
        return token

    async def customer_id(self, token: str | None) -> str:
        """Return the customer a customer token belongs to; user tokens are refused."""
        session = await self._session(token)
        if session.kind != "customer":
            raise Forbidden("this endpoint takes a customer token")
        return session.subject_id
