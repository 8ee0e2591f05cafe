"""What a waiting customer is told of the queue: their chat's place and the wait to expect, kept up to date.

Every ``every_s`` the node looks at the waiting chats once (their order, :meth:`Engine.places`)
and tells each of its widget sockets whose chat waits where it stands, when that changed: a
``queue`` message with the place (1: next) and the expected wait in seconds (by the pace chats
were answered lately; null when there is too little to go on). Nothing is stored.
"""

from __future__ import annotations

from typing import Protocol

from contact_center.engine import Engine
from contact_center.model import Channel
from contact_center.periodic import Periodic

__all__ = ["QueueNews", "Waiting"]


class Waiting(Protocol):
    """A widget socket, as the queue's news sees it."""

    def waiting_chat(self) -> str | None: ...

    def tell_place(self, contact_id: str, place: int, expected_wait_s: float | None) -> None: ...


class QueueNews:
    """The loop that tells waiting customers their place (see the module's docstring)."""

    def __init__(self, engine: Engine, sessions: set[Waiting], every_s: float = 2.0) -> None:
        self._engine = engine
        self._sessions = sessions
        self._loop = Periodic("queue_news", every_s, self._round)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        self.tell()

    def tell(self) -> None:
        """One round: every waiting customer of this node hears where they stand."""
        waiting = [(s, cid) for s in self._sessions if (cid := s.waiting_chat()) is not None]
        if not waiting:
            return
        places = self._engine.places(Channel.CHAT)
        for session, contact_id in waiting:
            place = places.get(contact_id)
            if place is not None:
                session.tell_place(contact_id, place, self._engine.expected_wait(Channel.CHAT, place))
