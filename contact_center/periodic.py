"""A piece of work run every few seconds on the event loop until stopped; a round that fails is logged."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable

import structlog

__all__ = ["Periodic"]


class Periodic:
    """Run ``work`` every ``every_s`` seconds from :meth:`start` until :meth:`stop`; a failed round is logged
    under ``name`` and the next one runs all the same."""

    def __init__(self, name: str, every_s: float, work: Callable[[], Awaitable[None]]) -> None:
        self._name = name
        self._every = every_s
        self._work = work
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger(name)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), context=contextvars.Context())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self._work()
            except Exception as exc:  # a fault in one round must not end the work for everyone
                self._log.warning(f"{self._name}.failed", error=repr(exc))
