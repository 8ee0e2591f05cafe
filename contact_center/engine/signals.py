"""Signals between the engine's services: news one service gives without calling into another.

A service that changes something others react to raises a signal; those that care connect to
it when the engine is composed. So the queue changing is news for the routing service, not a
call into it, and a commit that failed is news for replication.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Signal", "Signals"]


class Signal:
    """Calls every connected handler, in the order they connected, each time it is raised."""

    __slots__ = ("_handlers", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[[], None]] = []

    def connect(self, handler: Callable[[], None]) -> None:
        self._handlers.append(handler)

    def __call__(self) -> None:
        for handler in self._handlers:
            handler()


class Signals:
    """The engine's signals, made once and given to every service."""

    __slots__ = ("out_of_step", "queue_changed", "reread")

    def __init__(self) -> None:
        # Something routing works on changed: a contact queued, an agent freed or came back.
        self.queue_changed = Signal("queue_changed")
        # What this node holds may be off from the store (a commit failed half-way): read it again.
        self.out_of_step = Signal("out_of_step")
        # Records may have changed without this node applying them (it read them again, customers merged):
        # what is kept from the records applied (the dashboard's day) should be read again.
        self.reread = Signal("reread")
