"""Login throttling: back-off per username and per client address, and lockout of an account.

Counts are kept in the store (:meth:`~contact_center.store.base.Store.strike`), so every node
sharing it counts together. For a username: ``free_failures`` wrong passwords cost nothing
more; after them each next attempt must wait ``backoff_first_s``, twice that after the next,
and so on up to ``backoff_max_s`` (an attempt too early is refused without looking at the
password); the ``lockout_after``-th failure locks the account for ``lockout_s``, during which
even the right password is refused. A client address has its own back-off after
``client_free_failures`` (it may stand for many people behind one gateway), and never locks an
account by itself. Counts are forgotten ``failure_window_s`` after their first failure; a right
password forgets the username's (not the address's: one valid account must not buy another
account's guesses).

Attempts for one username, and from one client address, take their turn on a node (one at a
time), so a burst of parallel guesses cannot all pass the check before the first is counted;
several nodes may each let one through at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog

from contact_center.config import AuthConfig
from contact_center.exceptions import AccountLocked, Throttled
from contact_center.store import Store
from contact_center.store.base import Strikes

__all__ = ["Lockout", "LoginThrottle", "backoff_s"]

log = structlog.get_logger("contact_center.auth")


def backoff_s(failures: int, free: int, first_s: float, max_s: float) -> float:
    """How long after the last of ``failures`` the next attempt must wait: nothing before ``free`` of them,
    then ``first_s``, doubling with each failure more, at most ``max_s``."""
    over = failures - free
    if failures <= 0 or over < 0:
        return 0.0
    return min(max_s, first_s * 2.0**over)


@dataclass(frozen=True, slots=True)
class Lockout:
    """An account just locked: who, until when, from which client's failure."""

    username: str
    until: float
    client: str
    failures: int


def _user_key(username: str) -> str:
    return f"login:user:{username.lower()}"


def _client_key(client: str) -> str:
    return f"login:client:{client}"


class LoginThrottle:
    """Decides, before a password is checked, whether it may be; and counts each failure."""

    def __init__(self, store: Store, config: AuthConfig) -> None:
        self._store = store
        self._config = config
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, username: str, client: str) -> AsyncIterator[None]:
        """Wait for this node's earlier attempts from ``client`` and for ``username`` to be decided."""
        async with self._one(_client_key(client)), self._one(_user_key(username)):
            yield

    @contextlib.asynccontextmanager
    async def _one(self, key: str) -> AsyncIterator[None]:
        lock, users = self._turns.get(key) or (asyncio.Lock(), 0)
        self._turns[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turns[key]
            if users == 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, users - 1)

    async def check(self, username: str, client: str, now: float) -> None:
        """Refuse an attempt that comes too early, or for a locked account.

        Raises:
            AccountLocked: the account is locked (``retry_after_s``: until the lockout ends).
            Throttled: the username or the client must wait before trying again.
        """
        cfg = self._config
        user, by_client = await self._store.strikes([_user_key(username), _client_key(client)], now)
        if user.locked_until > now:
            wait = user.locked_until - now
            raise AccountLocked(
                f"this account is locked after {cfg.lockout_after} wrong passwords; try again in {wait:.0f} s", wait
            )
        self._wait(user, cfg.free_failures, now, f"for {username!r}")
        self._wait(by_client, cfg.client_free_failures, now, "from this address")

    def _wait(self, strikes: Strikes, free: int, now: float, whose: str) -> None:
        cfg = self._config
        pause = backoff_s(strikes.count, free, cfg.backoff_first_s, cfg.backoff_max_s)
        ready = strikes.last_at + pause
        if pause and now < ready:
            wait = ready - now
            raise Throttled(f"{strikes.count} wrong passwords {whose}; try again in {wait:.1f} s", wait)

    async def failed(self, username: str, client: str, now: float) -> Lockout | None:
        """Count a wrong password; the lockout it caused, if it locked the account."""
        cfg = self._config
        user = await self._store.strike(
            _user_key(username), now, cfg.failure_window_s, lock_after=cfg.lockout_after, lock_s=cfg.lockout_s
        )
        await self._store.strike(_client_key(client), now, cfg.failure_window_s)
        if user.locked_until > now and user.count == cfg.lockout_after:
            log.warning("auth.locked_out", username=username, client=client, until=user.locked_until)
            return Lockout(username, user.locked_until, client, user.count)
        return None

    async def locked_until(self, usernames: list[str], now: float) -> list[float]:
        """When each username's lockout ends (0: not locked)."""
        found = await self._store.strikes([_user_key(u) for u in usernames], now)
        return [s.locked_until for s in found]

    async def succeeded(self, username: str) -> None:
        """The right password (outside a lockout): the username's failures are forgotten."""
        await self._store.forgive(_user_key(username))
