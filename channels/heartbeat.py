"""Whether the peers of a node's websockets are still there: one task for all of them.

A socket quiet for ``quiet_s`` (nothing read from it, a pong included) is sent a ping; one that
is still quiet ``answer_s`` after its ping is cut, so that a browser gone without a word (a laptop
shut, a phone out of coverage) frees its session, its chat and its agent's capacity as a closed
tab does. Browsers answer pings by themselves; the desk and the widget need do nothing.

One sweep over the registry every ``quiet_s / 4`` replaces aiohttp's heartbeat, which keeps a
timer per socket and ties each socket's response to aiohttp's request handler in a reference
cycle that only the cyclic collector's full passes free (see :mod:`channels.wsjson`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection

import structlog

from channels.wsjson import JsonSocket

__all__ = ["Heartbeat"]

log = structlog.get_logger("contact_center.ws")


class Heartbeat:
    """Pings the quiet sockets of ``sockets`` and cuts those that do not answer.

    ``cut`` is told of each socket cut (a metric's counter, say).
    """

    def __init__(
        self,
        sockets: Collection[JsonSocket],
        quiet_s: float,
        *,
        answer_s: float | None = None,
        cut: Callable[[], None] = lambda: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sockets = sockets
        self.quiet_s = quiet_s
        self.answer_s = quiet_s / 2 if answer_s is None else answer_s
        self._on_cut = cut
        self._monotonic = monotonic

    def sweep(self, now: float) -> tuple[int, int]:
        """One look at every socket at ``now`` (``time.monotonic()``); returns how many were pinged and cut."""
        pinged = cut = 0
        for sock in list(self._sockets):
            if sock.pinged is not None:
                if sock.heard >= sock.pinged:
                    sock.pinged = None  # it answered (or said something)
                elif now - sock.pinged >= self.answer_s:
                    sock.cut()
                    self._on_cut()
                    cut += 1
                    continue
            if sock.pinged is None and now - sock.heard >= self.quiet_s:
                sock.ping(now)
                pinged += 1
        if cut:
            log.info("ws.unanswered_cut", sockets=cut, answer_s=self.answer_s)
        return pinged, cut

    async def run(self) -> None:
        """Sweep until cancelled."""
        every = min(self.quiet_s, self.answer_s) / 4
        while True:
            await asyncio.sleep(every)
            self.sweep(self._monotonic())
