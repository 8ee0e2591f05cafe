"""Time, injected.

The engine never calls ``time.time()`` itself: it asks its :class:`Clock`. Tests and the
simulator use :class:`ManualClock` and move time by hand, timers included.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "Timer"]


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Wall time in seconds since the epoch, and timers on that time line."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer: ...


class SystemClock:
    """The real clock; timers run on the running asyncio loop."""

    def now(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        """``callback`` after ``delay`` seconds, in an empty context of its own: not the caller's, which
        may hold a unit of work (its records and events) that would then live as long as the timer."""
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback, context=contextvars.Context())


class _ManualTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when told to; due timers fire inside :meth:`advance`."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _ManualTimer, Callable[[], object]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        timer = _ManualTimer()
        heapq.heappush(self._timers, (self._now + max(0.0, delay), next(self._seq), timer, callback))
        return timer

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer that falls due, in order."""
        target = self._now + seconds
        while self._timers and self._timers[0][0] <= target:
            when, _, timer, callback = heapq.heappop(self._timers)
            self._now = max(self._now, when)
            if not timer.cancelled:
                callback()
        self._now = target
