"""The engine's timers, by kind: each part of the engine registers the work of its own kinds.

A timer is named by its kind and subject (``offer:{contact id}``, ``wrap:{contact id}``,
``grace:{agent id}``...). Arming a name again replaces the timer; a record that no longer needs
one disarms it. A timer belongs to the node that made the change (``owner``): on any other node
it waits a further ``takeover_s`` and then runs only if the owner's lease has lapsed, so a dead
node's timers run on a survivor and a living one's run once.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, Protocol

import structlog

from contact_center.clock import Clock, Timer

__all__ = ["Liveness", "NodeLiveness", "Timers"]

log = structlog.get_logger("contact_center.engine")

Work = Callable[[str], Coroutine[Any, Any, None]]


class Liveness(Protocol):
    @property
    def takeover_s(self) -> float: ...

    async def alive(self, node_id: str) -> bool: ...


class NodeLiveness(Liveness, Protocol):
    """Whether another engine node still holds its lease, and whether this one routes (:mod:`~.leases`)."""

    @property
    def sole_router(self) -> bool: ...

    def leading(self) -> bool: ...

    async def dead(self, nodes: Iterable[str]) -> set[str]: ...


class Timers:
    """The node's timers (see the module's docstring)."""

    def __init__(
        self, clock: Clock, node_id: str, liveness: Liveness | None, spawn: Callable[[Coroutine[Any, Any, Any]], None]
    ) -> None:
        self._clock = clock
        self._node_id = node_id
        self._liveness = liveness
        self._spawn = spawn
        self._work: dict[str, Work] = {}
        self._armed: dict[str, Timer] = {}

    def handle(self, kind: str, work: Work) -> None:
        """What a timer of ``kind`` does when it is due: ``work(argument)``."""
        self._work[kind] = work

    def arm(self, kind: str, subject: str, owner: str, at: float, argument: str | None = None) -> None:
        """Run ``kind``'s work at ``at`` with ``argument`` (default: ``subject``); another node's, once it is gone."""
        key = f"{kind}:{subject}"
        self.disarm(kind, subject)
        delay = max(0.0, at - self._clock.now())
        run = _Due(self, key, self._work[kind], subject if argument is None else argument, owner)
        if owner and owner != self._node_id and self._liveness is not None:
            delay += self._liveness.takeover_s
        self._armed[key] = self._clock.call_later(delay, run)

    def disarm(self, kind: str, subject: str) -> None:
        timer = self._armed.pop(f"{kind}:{subject}", None)
        if timer is not None:
            timer.cancel()

    def __iter__(self) -> Iterator[str]:
        """The names of the armed timers."""
        return iter(list(self._armed))

    def stop(self) -> None:
        for timer in self._armed.values():
            timer.cancel()
        self._armed.clear()

    # ---------------------------------------------------------------- due

    def _fired(self, key: str) -> None:
        self._armed.pop(key, None)

    async def _take_over(self, due: _Due) -> None:
        """Another node's timer: run it if that node is gone, else look again a lease later."""
        assert self._liveness is not None
        if await self._liveness.alive(due.owner):  # the owner will do it (or has)
            if due.key not in self._armed:
                self._armed[due.key] = self._clock.call_later(self._liveness.takeover_s, due)
            return
        log.info("timer.taken_over", timer=due.key, owner=due.owner)
        await due.work(due.argument)

    def _mine(self, owner: str) -> bool:
        return not owner or owner == self._node_id or self._liveness is None


class _Due:
    """A timer's callback: once due, its work runs (on another node's timer, only if that node is gone)."""

    __slots__ = ("argument", "key", "owner", "timers", "work")

    def __init__(self, timers: Timers, key: str, work: Work, argument: str, owner: str) -> None:
        self.timers = timers
        self.key = key
        self.work = work
        self.argument = argument
        self.owner = owner

    def __call__(self) -> None:
        timers = self.timers
        timers._fired(self.key)
        if timers._mine(self.owner):
            timers._spawn(self.work(self.argument))
        else:
            timers._spawn(timers._take_over(self))
