"""In-process fan-out of engine events to whoever listens (websocket sessions).

Topics are strings (:mod:`contact_center.topics`); what the engine publishes on them are its
events (:mod:`contact_center.events`). Delivery is synchronous and in order; a subscriber that
needs to do I/O queues the message itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Bus", "Listener"]

Listener = Callable[[Any], None]


class Bus:
    def __init__(self) -> None:
        self._subs: dict[str, tuple[Listener, ...]] = {}

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        """Listen on ``topic``; returns the function that stops listening."""
        # Subscriber lists are replaced, never changed in place, so publish can walk one
        # without copying it while a listener subscribes or leaves.
        self._subs[topic] = (*self._subs.get(topic, ()), listener)

        def unsubscribe() -> None:
            subs = self._subs.get(topic, ())
            if listener in subs:
                rest = tuple(s for s in subs if s is not listener)
                if rest:
                    self._subs[topic] = rest
                else:
                    del self._subs[topic]

        return unsubscribe

    def publish(self, topic: str, message: Any) -> None:
        for listener in self._subs.get(topic, ()):
            listener(message)
