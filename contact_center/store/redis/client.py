"""The one way the engine opens a Redis client: the store, the bus and the leases alike.

Replies come as text (``decode_responses``), and by default redis-py never retries on its own:
after a dropped connection it would send a whole MULTI/EXEC again, and had the first one run,
its events would be recorded twice. Whoever calls decides what to do with a failure; clients
whose requests may run twice (reads, publishes) ask for a retry.

Each client counts its round trips (a command, or a whole pipeline, sent and answered) when
given a counter; the benchmarks and ``/metrics`` report them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

__all__ = ["redis_client"]


def redis_client(
    url: str,
    *,
    count: Callable[[], None] | None = None,
    max_connections: int = 32,
    wait_s: float = 5.0,
    retries: int = 0,
    decode: bool = True,
    **options: Any,
) -> Any:
    """A redis-py asyncio client for ``url`` (``redis://``, ``rediss://`` or ``unix://``).

    Args:
        url: the Redis to talk to.
        count: called once per request sent (a pipeline is one request).
        max_connections: connections the client opens at most; a request beyond them waits
            for one to be free (up to ``wait_s``) rather than fail, as a burst of clients
            would otherwise see.
        wait_s: how long a request waits for a free connection before it fails.
        retries: how often a request that met a broken connection is sent again on a new one.
            Only for requests that may safely run twice (reads, publishes): a connection
            pooled before Redis restarted fails on its first use.
        decode: replies as text; False for a client that reads bytes (mail, attachments).
        options: further redis-py connection options (``socket_connect_timeout``, ``socket_timeout``).

    Returns:
        The client, typed ``Any``: redis-py annotates replies as ``bytes | str`` whatever
        ``decode_responses`` says; here they are always ``str``.
    """
    # No per-read timeout unless asked for: redis-py would start a timer for every reply of a
    # pipeline (and a task for every send); the callers time whole requests instead.
    options.setdefault("socket_timeout", None)
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        decode_responses=decode,
        retry=Retry(NoBackoff(), retries),
        max_connections=max_connections,
        timeout=wait_s,
        **options,
    )
    if count is not None:
        pool.connection_class = _counting(pool.connection_class, count)
    return aioredis.Redis.from_pool(pool)


def _counting(base: type[Any], count: Callable[[], None]) -> type[Any]:
    """``base`` (plain, TLS or Unix socket connection) that counts what it sends."""

    class Counting(base):  # type: ignore[misc]
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            count()
            await super().send_packed_command(command, check_health)

    Counting.__name__ = f"Counting{base.__name__}"
    return Counting
