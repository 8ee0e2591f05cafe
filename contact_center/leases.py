"""Which engine nodes are alive, and which one routes: leases in Redis that lapse unless renewed.

Each node sets ``lease:{node id}`` with an expiry of ``lease_s`` and renews it three times per
period. A node whose lease has lapsed is taken for dead (killed, frozen, or cut off from Redis):
the others strike its agents' desks off (:meth:`Engine.nodes_gone`) and run the timers it owned
(offer timeouts, wrap-up ends, reconnect grace). A node that finds its own lease had lapsed
(it was cut off for longer than ``lease_s``) reads everything again (``on_lapsed``).

With the same request a node also tries to hold ``router``, the routing lease: the node that
holds it runs the router for the whole cluster, so nodes do not race one another for the same
contacts and agents. When the router dies, its lease lapses and another node takes it at its
next renewal. Leadership saves work; it is not what keeps routing right. A node believes it
leads only until ``lease_s`` after it *sent* its last successful renewal, which is before the
lease can lapse in Redis, and even two nodes routing at once cannot double-assign: every
commit checks the versions of the records it changes.

A node judges others dead only after it has itself been in touch with Redis for a whole lease:
when Redis comes back after an outage, every node's lease has lapsed, and the others need a
moment to renew theirs. While Redis cannot be asked, every node counts as alive and none leads:
nothing is taken over in the dark.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contact_center.store.redis.client import redis_client
from contact_center.store.redis.keys import Keys

__all__ = ["Leases"]

_log = structlog.get_logger("contact_center.leases")
_START_TRIES = 3  # a first renewal that times out (a busy machine, Redis starting) is tried again before giving up

# KEYS: lease:{node}, router. ARGV: node id, lease in ms, 1 to hold the routing lease.
# Returns {1 if the node's lease was still there, 1 if this node holds the routing lease}.
_RENEW = """
local had = redis.call('SET', KEYS[1], '1', 'PX', ARGV[2], 'GET')
local lead = 0
if ARGV[3] == '1' then
  local holder = redis.call('GET', KEYS[2])
  if holder == false or holder == ARGV[1] then
    redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
    lead = 1
  end
end
return {had and 1 or 0, lead}
"""

# KEYS: lease:{node}, router. ARGV: node id. Gives both up (the routing lease only if held).
_RELEASE = """
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return 1
"""


class Leases:
    """This node's leases, and what it can tell of the others'.

    Args:
        url, prefix: the Redis the nodes share, and their key prefix.
        node_id: this node's name.
        lease_s: how long a lease lasts unless renewed.
        lead: whether this node competes for the routing lease; without it, every node
            routes (``routing.leader = false``) and :meth:`leading` is always true.
        count: told of each Redis round trip.
        on_lapsed: told when this node finds its own lease had lapsed (it must read everything again).
        on_lead: told when this node takes the routing lease.
    """

    def __init__(
        self,
        url: str,
        prefix: str,
        node_id: str,
        lease_s: float,
        *,
        lead: bool = True,
        count: Callable[[], None] | None = None,
        on_lapsed: Callable[[], None] | None = None,
        on_lead: Callable[[], None] | None = None,
    ) -> None:
        self.node_id = node_id
        self.lease_s = lease_s
        self.keys = Keys(prefix)
        self.on_lapsed = on_lapsed
        self.on_lead = on_lead
        self._lead = lead
        self._redis: Any = redis_client(
            url, count=count, socket_connect_timeout=lease_s / 3, socket_timeout=lease_s / 3
        )
        self._renew_script = self._redis.register_script(_RENEW)
        self._release_script = self._redis.register_script(_RELEASE)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._held = False
        self._in_touch_since: float | None = None  # monotonic time of the first renewal after the last failure
        self._lead_until = 0.0

    @property
    def takeover_s(self) -> float:
        """How long past its time another node's timer waits before this node asks whether to take it over."""
        return self.lease_s

    @property
    def sole_router(self) -> bool:
        """True when one node at a time routes (the holder of the routing lease)."""
        return self._lead

    def leading(self) -> bool:
        """Whether this node should route now."""
        return not self._lead or time.monotonic() < self._lead_until

    async def start(self) -> None:
        """Take this node's lease; a renewal that times out or finds Redis not there yet is tried again, a
        third of a lease later, ``_START_TRIES`` times in all."""
        for tried in range(1, _START_TRIES + 1):
            try:
                await self._renew()
                break
            except (RedisTimeoutError, RedisConnectionError) as exc:
                if tried == _START_TRIES:
                    raise
                _log.warning("lease.start_retry", node=self.node_id, error=repr(exc), tried=tried)
                await asyncio.sleep(self.lease_s / 3)
        self._held = True
        self._task = asyncio.get_running_loop().create_task(self._keep(), context=contextvars.Context())

    async def close(self, *, release: bool = True) -> None:
        """Stop renewing; ``release`` gives the leases up at once, so the others need not wait for them to lapse."""
        self._stopping = True
        task = self._task
        # A cancel that meets a renewal's own time limit can be lost (Python 3.11's asyncio.timeout turns
        # both into one TimeoutError): cancel again until the loop has ended; it also stops at its next turn.
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=self.lease_s)
        self._lead_until = 0.0
        if release:
            try:
                await self._release_script(keys=self._lease_keys(), args=[self.node_id])
            except Exception as exc:  # Redis away: they lapse by themselves
                _log.warning("lease.release_failed", error=repr(exc))
        await self._redis.aclose()

    def _lease_keys(self) -> list[str]:
        return [self.keys.lease(self.node_id), self.keys.router]

    async def _renew(self) -> bool:
        """Renew this node's lease (and try for the routing lease); True if the node's lease had not lapsed."""
        sent = time.monotonic()
        ms = int(self.lease_s * 1000)
        had, lead = await self._renew_script(keys=self._lease_keys(), args=[self.node_id, ms, int(self._lead)])
        if self._in_touch_since is None:
            self._in_touch_since = sent
        was_leading = self._lead and self.leading()
        self._lead_until = sent + self.lease_s if lead else 0.0
        if lead and not was_leading:
            _log.info("lease.leading", node=self.node_id)
            if self.on_lead is not None:
                self.on_lead()
        elif was_leading and not lead:
            _log.warning("lease.lost_lead", node=self.node_id)
        return bool(had)

    async def _keep(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.lease_s / 3)
            if self._stopping:
                return
            try:
                held = await self._renew()
            except Exception as exc:
                if self._held:
                    _log.warning("lease.renew_failed", node=self.node_id, error=repr(exc))
                self._held = False
                self._in_touch_since = None
                continue
            if not held:
                _log.warning("lease.lapsed", node=self.node_id)
                if self.on_lapsed is not None:
                    self.on_lapsed()  # must not wait: the lease is renewed on time meanwhile
            self._held = True

    async def alive(self, node_id: str) -> bool:
        return not await self.dead([node_id])

    async def dead(self, nodes: Iterable[str]) -> set[str]:
        """Those of ``nodes`` whose lease has lapsed.

        None while Redis cannot be asked, nor until this node has been in touch with it for a
        whole lease (the others may not have renewed theirs yet after an outage).
        """
        wanted = sorted(set(nodes))
        since = self._in_touch_since
        if not wanted or since is None or time.monotonic() - since < self.lease_s:
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
