"""The stores every store test runs on: each backend, opened on this test's own data.

``reopen`` opens a store on fresh data and can open it again on the same data, as a restarted
engine would. A new backend joins by adding its name to ``BACKENDS`` and a branch to ``_open``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from contact_center.store import SqliteStore, Store
from contact_center.store.redis import RedisStore

__all__ = ["BACKENDS", "Opener", "reopen", "store"]

BACKENDS = ["sqlite", "redis"]

Opener = Callable[[], Awaitable[Store]]


def _open(backend: str, data: Path, redis_url: str) -> Opener:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"  # this test's own keys in the run's Redis

    async def opener() -> Store:
        if backend == "sqlite":
            return SqliteStore(data / "contact-center.sqlite3")
        if backend == "redis":
            return await RedisStore(redis_url, prefix).open()
        raise AssertionError(f"no such backend {backend}")

    return opener


@pytest.fixture(params=BACKENDS)
async def reopen(request: pytest.FixtureRequest, tmp_path: Path, redis_url: str) -> AsyncIterator[Opener]:
    """Opens a store on this test's data; every store it opened is closed at the end."""
    opened: list[Store] = []
    opener = _open(request.param, tmp_path, redis_url)

    async def tracked() -> Store:
        store = await opener()
        opened.append(store)
        return store

    yield tracked
    for store in opened:
        await store.close()


@pytest.fixture
async def store(reopen: Opener) -> Store:
    return await reopen()
