"""Holding the cyclic garbage collector back while a burst of short-lived containers is made and dropped.

The collector runs when allocations outnumber deallocations by its threshold. Reading many rows
(a report's year of contacts: a tuple or a list per row) or committing a batch of writes makes
hundreds of thousands of containers that all live until the burst ends and are freed together by
reference counting right after; collections in between only examine, and promote to older
generations, objects about to die (a year's report spent a fifth of its time in them, measured).
The burst is synchronous code, so nothing else runs meanwhile; the collector resumes after it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_held"]


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
