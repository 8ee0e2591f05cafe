"""The cyclic garbage collector: held back while a burst of short-lived containers is made and dropped, and its
pauses timed.

The collector runs when allocations outnumber deallocations by its threshold. Reading many rows
(a report's year of contacts: a tuple or a list per row) or committing a batch of writes makes
hundreds of thousands of containers that all live until the burst ends and are freed together by
reference counting right after; collections in between only examine, and promote to older
generations, objects about to die (a year's report spent a fifth of its time in them, measured).
The burst is synchronous code, so nothing else runs meanwhile; the collector resumes after it.

Every collection stops the event loop; :class:`CollectorPauses` times each (``gc.callbacks``) for
``/metrics`` and the soak benchmark: how many, how long, the longest, per generation, and how many
objects each found in reference cycles (garbage that reference counting could not free: a closed
socket's session should leave none).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["CollectorPauses", "collector_held"]


@contextmanager
def collector_held() -> Iterator[None]:
    """No automatic collection inside the block (for synchronous code only: never around an ``await``)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class CollectorPauses:
    """Times each collection of the cyclic collector while installed (one per process is enough; more are harmless).

    ``observe(generation, seconds)`` is told of each pause; :attr:`longest` and :attr:`counts` keep the longest and
    how many there were, per generation (0, 1, 2), and :attr:`collected` the objects they freed.
    """

    def __init__(self, observe: Callable[[int, float], None] | None = None) -> None:
        self._observe = observe
        self._started = 0.0
        self.longest = [0.0, 0.0, 0.0]
        self.counts = [0, 0, 0]
        self.collected = [0, 0, 0]

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        generation = info["generation"]
        self.counts[generation] += 1
        self.collected[generation] += info["collected"]
        if took > self.longest[generation]:
            self.longest[generation] = took
        if self._observe is not None:
            self._observe(generation, took)

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def remove(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
