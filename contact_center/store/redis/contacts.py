"""The Redis store's contacts and conversations: messages numbered once per ``client_id``, and history."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from contact_center.model import (
    Contact,
    HistoryEvent,
)
from contact_center.store.base import NewEvent, Written
from contact_center.store.redis.codec import (
    Row,
    contact_from_hash,
    row_of,
    stored_event,
    stored_json,
)
from contact_center.store.redis.pipeline import Read
from contact_center.store.redis.units import RedisUnits

__all__ = ["RedisContacts"]


class RedisContacts(RedisUnits):
    """Contacts, messages and history in Redis."""

    def add_message(
        self,
        contact: Contact,
        actor: str,
        text: str,
        client_id: str,
        at: float,
        extra: Sequence[NewEvent] = (),
        *,
        create: bool = False,
        files: Sequence[Mapping[str, Any]] = (),
    ) -> asyncio.Future[tuple[HistoryEvent, bool]]:
        """Queue a message for ``contact``'s conversation, once per ``client_id`` (see the SQLite store)."""
        future: asyncio.Future[tuple[HistoryEvent, bool]] = asyncio.get_running_loop().create_future()
        row = row_of(contact) if create else None
        entry = (future, self._build_message, contact, actor, text, client_id, at, tuple(extra), row)
        self._queue((*entry, tuple(files)) if files else entry)
        return future

    def post_message(self, contact: Contact, actor: str, text: str, client_id: str, at: float, then: Written) -> None:
        self._queue((then, self._build_message, contact, actor, text, client_id, at, (), None))

    def _build_message(
        self,
        pipe: Any,
        contact: Contact,
        actor: str,
        text: str,
        client_id: str,
        at: float,
        extra: tuple[NewEvent, ...],
        row: Row | None,
        files: tuple[Mapping[str, Any], ...] = (),
    ) -> Read:
        k = self.keys
        if row is not None:  # a conversation's first message: the contact and its first events before it
            self._save_contacts(pipe, [row])
            self._append_events(pipe, extra)
        data: dict[str, Any] = {"text": text, "files": list(files)} if files else {"text": text}
        body = stored_json(contact.id, contact.channel.value, "message", at, actor, data, client_id)
        customer_id = contact.customer_id
        keys = (k.event_ids, k.conversation(contact.id), k.messages(contact.id), k.history(customer_id))
        pipe.fcall("cc_add_message", len(keys), *keys, client_id, body)
        after = 0
        if row is None and extra:  # otherwise its events follow the message, as in the SQLite store
            self._append_events(pipe, extra)
            after = len(extra)

        def read(replies: list[Any]) -> tuple[HistoryEvent, bool]:
            new, stored = replies[len(replies) - 1 - after]
            return stored_event(stored, customer_id), bool(new)

        return read

    async def get_contact(self, contact_id: str) -> Contact | None:
        def build(pipe: Any) -> Read:
            pipe.hgetall(self.keys.contact(contact_id))
            pipe.hget(self.keys.conversation(contact_id), "last")
            return lambda replies: contact_from_hash(*replies) if replies[0] else None

        result: Contact | None = await self._lookup(build)
        return result

    async def open_contacts(self) -> list[Contact]:
        async with self._reachable():
            ids = await self._redis.zrange(self.keys.open_contacts, 0, -1)
            async with self._redis.pipeline(transaction=False) as pipe:
                for contact_id in ids:
                    pipe.hgetall(self.keys.contact(contact_id))
                    pipe.hget(self.keys.conversation(contact_id), "last")
                replies = await pipe.execute()
            return [contact_from_hash(h, last) for h, last in zip(replies[::2], replies[1::2], strict=True) if h]

    async def messages(self, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]:
        def build(pipe: Any) -> Read:
            pipe.hget(self.keys.contact(contact_id), "customer_id")
            pipe.zrangebyscore(self.keys.messages(contact_id), f"({after_seq}", "+inf")
            return lambda replies: [stored_event(s, replies[0] or "") for s in replies[1]]

        result: list[HistoryEvent] = await self._lookup(build)
        return result

    async def last_seqs(self, contact_ids: Sequence[str]) -> dict[str, int]:
        """The last message number of each conversation asked for (0: none yet), in one call."""
        keys = [self.keys.conversation(c) for c in contact_ids]

        def build(pipe: Any) -> Read:
            pipe.fcall_ro("cc_last_seqs", len(keys), *keys)
            return lambda replies: dict(zip(contact_ids, map(int, replies[0]), strict=True))

        result: dict[str, int] = await self._lookup(build)
        return result

    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]:
        top = f"({before_id}" if before_id is not None else "+inf"

        def build(pipe: Any) -> Read:
            pipe.zrevrangebyscore(self.keys.history(customer_id), top, "-inf", start=0, num=limit)
            return lambda replies: [stored_event(s, customer_id) for s in reversed(replies[0])]

        result: list[HistoryEvent] = await self._lookup(build)
        return result

    async def seats_taken(self, names: Sequence[str]) -> dict[str, int]:
        """How many places are held in each set named (0 where none), in one call."""

        def build(pipe: Any) -> Read:
            for name in names:
                pipe.scard(self.keys.seat(name))
            return lambda replies: dict(zip(names, map(int, replies), strict=True))

        result: dict[str, int] = await self._lookup(build)
        return result

    async def seat_holders(self, name: str) -> list[str]:
        def build(pipe: Any) -> Read:
            pipe.smembers(self.keys.seat(name))
            return lambda replies: sorted(replies[0])

        result: list[str] = await self._lookup(build)
        return result

    async def next_in_series(self, series: str) -> int:
        async with self._reachable():
            return int(await self._redis.incr(self.keys.series(series)))

    async def secret(self, name: str) -> str:
        """The key kept under ``name``, made now if none was (the first node to ask makes it for all)."""
        async with self._reachable():
            await self._redis.set(self.keys.secret(name), secrets.token_hex(32), nx=True)
            return str(await self._redis.get(self.keys.secret(name)))
