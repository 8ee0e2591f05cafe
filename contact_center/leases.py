"""Which engine nodes are alive: each holds a lease in Redis that lapses unless renewed.

A node sets ``lease:{node id}`` with an expiry of ``lease_s`` and renews it three times per
period. A node whose lease has lapsed is taken for dead (killed, frozen, or cut off from Redis):
the others strike its agents' desks off (:meth:`Engine.nodes_gone`) and run the timers it owned
(offer timeouts, wrap-up ends, reconnect grace). A node that finds its own lease had lapsed
(it was cut off for longer than ``lease_s``) announces its desks again (``on_lapsed``).

While Redis cannot be asked, every node counts as alive: nothing is taken over in the dark.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from contact_center.store.redis_keys import Keys

__all__ = ["Leases"]

_log = structlog.get_logger("contact_center.leases")


class Leases:
    def __init__(self, url: str, prefix: str, node_id: str, lease_s: float) -> None:
        self.node_id = node_id
        self.lease_s = lease_s
        self.keys = Keys(prefix)
        self.on_lapsed: Callable[[], Awaitable[None]] | None = None
        self._redis: Any = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=lease_s / 3,
            socket_timeout=lease_s / 3,
        )
        self._task: asyncio.Task[None] | None = None
        self._held = False

    @property
    def takeover_s(self) -> float:
        """How long past its time another node's timer waits before this node asks whether to take it over."""
        return self.lease_s

    async def start(self) -> None:
        await self._renew()
        self._held = True
        self._task = asyncio.get_running_loop().create_task(self._keep(), context=contextvars.Context())

    async def close(self, *, release: bool = True) -> None:
        """Stop renewing; ``release`` gives the lease up at once, so the others need not wait for it to lapse."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if release:
            try:
                await self._redis.delete(self.keys.lease(self.node_id))
            except Exception as exc:  # Redis away: it lapses by itself
                _log.warning("lease.release_failed", error=repr(exc))
        await self._redis.aclose()

    async def _renew(self) -> bool:
        """Set the lease; True if it was still held (not lapsed) before."""
        previous = await self._redis.set(self.keys.lease(self.node_id), "1", px=int(self.lease_s * 1000), get=True)
        return previous is not None

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                held = await self._renew()
            except Exception as exc:
                if self._held:
                    _log.warning("lease.renew_failed", node=self.node_id, error=repr(exc))
                self._held = False
                continue
            if not held:
                _log.warning("lease.lapsed", node=self.node_id)
                if self.on_lapsed is not None:
                    try:
                        await self.on_lapsed()
                    except Exception as exc:  # tried again at the next lapse or restart
                        _log.warning("lease.rejoin_failed", node=self.node_id, error=repr(exc))
            self._held = True

    async def alive(self, node_id: str) -> bool:
        return not await self.dead([node_id])

    async def dead(self, nodes: Iterable[str]) -> set[str]:
        """Those of ``nodes`` whose lease has lapsed (none while Redis cannot be asked)."""
        wanted = sorted(set(nodes))
        if not wanted:
            return set()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for node in wanted:
                    pipe.exists(self.keys.lease(node))
                present = await pipe.execute()
        except Exception as exc:
            _log.warning("lease.check_failed", error=repr(exc))
            return set()
        return {node for node, there in zip(wanted, present, strict=True) if not there}
