"""Password hashing off the event loop, a few at a time, at a low priority.

Argon2id is built to be expensive: one check costs about 0.1 s and 64 MiB, on several threads
of its own (one per lane). Run on the event loop, four wrong logins at once took another
client's chat round trip from 0.9 ms to about 400 ms. Here each check runs on one of
``workers`` threads, and those threads, with the lanes Argon2 starts from them (which inherit
both), are kept to the last half of the CPUs the process may use (at least one CPU is left to
the loop) and run at a low priority (``nice``, 19 by default), so the loop and everyone it
serves come first. Measured with ``python -m bench logins`` on two cores: with the lanes free to
take both cores, a chat round trip's p99 beside a flood of wrong logins was 4-5x its p99 alone;
kept to one core, 10x at nice 0, 3-4x at nice 5, 1.5-2x at nice 10, 1.2-1.6x at nice 19.
At most ``queue`` checks wait their turn; more are refused at once with :class:`Busy`: a flood
of logins queues, and cannot pile up without bound.

The cost is the deployment's (``[auth] hash_time_cost``, ``hash_memory_kib``, ``hash_lanes``);
a hash stored at another cost still verifies, since Argon2 keeps its parameters in the hash,
and :meth:`PasswordHashing.needs_rehash` says it should be made again at the current one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from contact_center.exceptions import Busy

__all__ = ["PasswordHashing"]


def _set_apart(nice: int) -> None:
    """Keep this thread (and the threads it starts) to the last half of the CPUs, at ``nice``, where allowed."""
    tid = threading.get_native_id()
    with contextlib.suppress(OSError, AttributeError):
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(tid, cpus[len(cpus) // 2 :])
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, tid, nice)


def _verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordHashing:
    """Hashes and checks passwords on a small pool of low-priority threads, with ``hasher``
    (argon2-cffi's, at its default cost unless given)."""

    def __init__(
        self, workers: int = 1, queue: int = 256, nice: int = 19, hasher: PasswordHasher | None = None
    ) -> None:
        self._hasher = hasher or PasswordHasher()
        self._check = partial(_verify, self._hasher)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="argon2", initializer=_set_apart, initargs=(nice,))
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
        return str(await self._run(self._hasher.hash, password))

    async def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (a hash that cannot be read matches nothing)."""
        return bool(await self._run(self._check, stored, password))

    async def burn(self, password: str) -> None:
        """Spend what a check costs, for a name that does not exist: the answer takes as long."""
        await self._run(self._hasher.hash, password)

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made at another cost than this hasher's (cheap: it reads the hash's parameters)."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
