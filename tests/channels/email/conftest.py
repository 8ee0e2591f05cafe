"""Fixtures of the email channel's tests: engine servers on each store, stopped at the end."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from contact_center.config import Config
from tests.conftest import Server, start_server


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def engines(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[Callable[[Config], Any]]:
    """Starts engine servers on ``backend`` (Redis: a key prefix of their own); all stop at the end."""
    started: list[Server] = []

    async def start(config: Config) -> Server:
        if backend == "redis" and config.store.backend != "redis":  # a restart keeps its store
            url = request.getfixturevalue("redis_url")
            store = dataclasses.replace(
                config.store, backend="redis", redis_url=url, redis_prefix=f"test:{uuid.uuid4().hex[:12]}:"
            )
            config = dataclasses.replace(config, store=store)
        server = await start_server(config)
        started.append(server)
        return server

    yield start
    for server in started:
        await server.runner.cleanup()
