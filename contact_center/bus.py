"""In-process fan-out of engine events to whoever listens (websocket sessions).

Topics are strings: ``agent:<id>``, ``customer:<id>``. Delivery is synchronous and in
order; a subscriber that needs to do I/O queues the message itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

__all__ = ["Bus", "Listener"]

Listener = Callable[[dict[str, Any]], None]


class Bus:
    def __init__(self) -> None:
        self._subs: defaultdict[str, list[Listener]] = defaultdict(list)

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        """Listen on ``topic``; returns the function that stops listening."""
        self._subs[topic].append(listener)

        def unsubscribe() -> None:
            subs = self._subs.get(topic)
            if subs and listener in subs:
                subs.remove(listener)
                if not subs:
                    del self._subs[topic]

        return unsubscribe

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        for listener in tuple(self._subs.get(topic, ())):
            listener(message)
