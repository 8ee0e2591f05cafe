"""Password hashing off the event loop, a few at a time, at a low priority.

Argon2id is built to be expensive: one check costs about 0.1 s and 64 MiB, on several threads
of its own (one per lane). Run on the event loop, four wrong logins at once took another
client's chat round trip from 0.9 ms to about 400 ms. Here each check runs on one of
``workers`` threads, and those threads (with the lanes Argon2 starts from them, which inherit
it) run at the lowest CPU priority (nice 19), so the loop and everyone it serves come first.
At most ``queue`` checks wait their turn; more are refused at once with :class:`Busy`: a flood
of logins queues, and cannot pile up without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from contact_center.exceptions import Busy

__all__ = ["PasswordHashing"]

_hasher = PasswordHasher()


def _lower_priority() -> None:
    """Run this thread (and the threads it starts) at nice 19, where the system allows it."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordHashing:
    """Hashes and checks passwords on a small pool of low-priority threads."""

    def __init__(self, workers: int = 1, queue: int = 256) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="argon2", initializer=_lower_priority)
        self._limit = workers + queue
        self._in_flight = 0
        self.waiting_peak = 0  # the most checks ever waiting or running at once

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def _run(self, fn: object, *args: str) -> object:
        if self._in_flight >= self._limit:
            raise Busy(f"{self._in_flight} password checks are waiting already; try again in a moment")
        self._in_flight += 1
        self.waiting_peak = max(self.waiting_peak, self._in_flight)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)  # type: ignore[arg-type]
        finally:
            self._in_flight -= 1

    async def hash(self, password: str) -> str:
        """The Argon2id hash of ``password`` to keep."""
        return str(await self._run(_hasher.hash, password))

    async def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (a hash that cannot be read matches nothing)."""
        return bool(await self._run(_verify, stored, password))

    async def burn(self, password: str) -> None:
        """Spend what a check costs, for a name that does not exist: the answer takes as long."""
        await self._run(_hasher.hash, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
