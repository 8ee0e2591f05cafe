"""The Redis store's customers: records, identities (proven) and claims (not), merges."""

from __future__ import annotations

from typing import Any

from contact_center.model import (
    Customer,
    IdentityKind,
    name_words,
)
from contact_center.store.base import NewEvent
from contact_center.store.redis.codec import (
    customer_from_hash,
)
from contact_center.store.redis.keys import ms as _ms
from contact_center.store.redis.pipeline import Read
from contact_center.store.redis.units import RedisUnits

__all__ = ["RedisCustomers"]


class RedisCustomers(RedisUnits):
    """Customers in Redis (see :mod:`.keys` for their keys)."""

    async def create_customer(self, customer: Customer) -> None:
        k = self.keys
        args: list[Any] = [customer.name, repr(customer.value), repr(customer.created_at), customer.id]
        for kind, value in customer.identities:
            args += [k.identity(kind.value, value), f"{kind.value}:{value}"]

        def build(pipe: Any) -> Read:
            pipe.fcall("cc_create_customer", 1, k.customer(customer.id), *args)
            self._index_name(pipe, customer.id, customer.name)
            return lambda replies: None

        await self._enqueue(build)

    def _index_name(self, pipe: Any, customer_id: str, name: str) -> None:
        """Each word of the name, found by prefix; a word of a former name stays until a search drops it."""
        members = {f"{word}\x00{customer_id}": 0 for word in name_words(name)}
        if members:
            pipe.zadd(self.keys.names, members)

    async def customers_named(self, prefix: str, limit: int = 20) -> list[str]:
        word = prefix.strip().lower()
        if not word:
            return []

        def build(pipe: Any) -> Read:
            low, high = b"[" + word.encode(), b"[" + word.encode() + b"\xff"  # every member that starts so
            pipe.zrangebylex(self.keys.names, low, high, start=0, num=limit * 4)
            return lambda replies: [str(m).split("\x00", 1)[1] for m in replies[0]]

        found: list[str] = await self._lookup(build)
        return list(dict.fromkeys(found))[:limit]

    async def get_customer(self, customer_id: str) -> Customer | None:
        def build(pipe: Any) -> Read:
            pipe.hgetall(self.keys.customer(customer_id))
            pipe.smembers(self.keys.customer_identities(customer_id))
            pipe.zrange(self.keys.customer_claims(customer_id), 0, -1)
            return lambda replies: customer_from_hash(customer_id, *replies)

        result: Customer | None = await self._lookup(build)
        return result

    async def find_customer(self, kind: IdentityKind, value: str) -> str | None:
        def build(pipe: Any) -> Read:
            pipe.get(self.keys.identity(kind.value, value))
            return lambda replies: None if replies[0] is None else str(replies[0])

        result: str | None = await self._lookup(build)
        return result

    async def add_identity(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None:
        k = self.keys

        def build(pipe: Any) -> Read:
            # Like INSERT OR IGNORE: an identity already someone's stays theirs.
            pipe.set(k.identity(kind.value, value), customer_id, nx=True)
            pipe.sadd(k.customer_identities(customer_id), f"{kind.value}:{value}")
            self._append_events(pipe, [event])
            return lambda replies: None

        await self._enqueue(build)

    async def merge_customers(self, keep: str, gone: str, event: NewEvent) -> None:
        def build(pipe: Any) -> Read:
            pipe.fcall("cc_merge_customers", 0, self.keys.prefix, keep, gone)
            self._append_events(pipe, [event])
            return lambda replies: None

        await self._enqueue(build)

    async def add_claim(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None:
        def build(pipe: Any) -> Read:
            pipe.zadd(self.keys.customer_claims(customer_id), {f"{kind.value}:{value}": _ms(event.at)}, nx=True)
            self._append_events(pipe, [event])
            return lambda replies: None

        await self._enqueue(build)

    async def set_customer(self, customer_id: str, *, name: str | None, value: float | None) -> None:
        fields: dict[str, str] = {}
        if name is not None:
            fields["name"] = name
        if value is not None:
            fields["value"] = repr(value)

        def build(pipe: Any) -> Read:
            if fields:
                pipe.hset(self.keys.customer(customer_id), mapping=fields)
            if name is not None:
                self._index_name(pipe, customer_id, name)
            return lambda replies: None

        await self._enqueue(build)
