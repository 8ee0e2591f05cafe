"""The Redis store's mail: fetched and sent mails, threads and tickets, the outbox, acknowledgements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from contact_center.mail import FilingContext, MailRecord, Outbound, OutboundState, ThreadEntry, TicketView
from contact_center.store.redis.codec import (
    mail_from_hash,
)
from contact_center.store.redis.keys import Keys
from contact_center.store.redis.keys import ms as _ms
from contact_center.store.redis.pipeline import Read, RedisPipeline

__all__ = ["RedisMail", "mail_unit", "outbound_unit"]


def _blob(blobs: list[bytes], data: bytes) -> int:
    """Pass ``data`` as an argument of its own (bytes, not JSON); its index in the function's ARGV."""
    blobs.append(data)
    return 3 + len(blobs)


def mail_unit(k: Keys, m: MailRecord, blobs: list[bytes]) -> dict[str, Any]:
    """A mail as ``cc_commit`` takes it: its keys built, its bytes passed as arguments of their own."""
    src = m.source
    at = _ms(m.at)
    ref = orjson.dumps([m.id, m.digest, m.contact_id, m.ticket]).decode()
    listed = k.contact_mails(m.contact_id) if m.contact_id else k.quarantined if m.quarantine else ""
    return {
        "id": m.id,
        "key": k.mail(m.id),
        "meta": orjson.dumps(m.meta()).decode(),
        "raw": _blob(blobs, m.raw),
        "parts": [[f"p:{i}", _blob(blobs, a.data)] for i, a in enumerate(m.attachments) if a.data is not None],
        "src": k.mail_source(src.mailbox, src.uidvalidity, src.uid) if src else "",
        "where": f"{src.mailbox} UID {src.uid} (UIDVALIDITY {src.uidvalidity})" if src else m.id,
        "box": k.mailbox(src.mailbox) if src else "",
        "uidv": str(src.uidvalidity) if src else "",
        "uid": src.uid if src else 0,
        "threads": [[k.thread_id(mid), ref] for mid in m.thread_ids],
        "ticket": k.ticket(m.ticket) if m.ticket and m.contact_id else "",
        "contact": m.contact_id or "",
        "at": at,
        "listed": listed,
    }


def outbound_unit(k: Keys, o: Outbound, blobs: list[bytes]) -> dict[str, Any]:
    """A mail to send as ``cc_commit`` takes it."""
    return {
        "id": o.id,
        "name": o.key,
        "key": k.outbox(o.id),
        "unique": k.outbox_key(o.key),
        "meta": orjson.dumps(o.meta()).decode(),
        "raw": _blob(blobs, o.raw),
        "due": k.outbox_due,
        "next": _ms(o.next_at),
        "acks": k.acks(o.recipients[0]) if o.kind == "ack" and o.recipients else "",
        "acks_domain": k.acks_domain(o.recipients[0].rsplit("@", 1)[-1]) if o.kind == "ack" and o.recipients else "",
        "created": _ms(o.created_at),
    }


def _listed(value: Any) -> list[Any]:
    """A list from Lua's cjson, which writes an empty table as ``{}``."""
    return value if isinstance(value, list) else []


def _filing_context(found: list[Any]) -> FilingContext:
    entries, customer, tickets, to_address, to_domain = found
    thread = tuple(ThreadEntry(mid, *orjson.loads(ref)) for mid, ref in _listed(entries))
    views = {
        t: TicketView(t, latest, owner, frozenset(_listed(copied))) for t, latest, owner, copied in _listed(tickets)
    }
    customer_id, value = (str(customer[0]), float(customer[1])) if customer else (None, 0.0)
    return FilingContext(thread, customer_id, value, views, int(to_address), int(to_domain))


class RedisMail(RedisPipeline):
    """Mail in Redis."""

    async def mailbox_cursor(self, mailbox: str) -> tuple[int, int] | None:
        def build(pipe: Any) -> Read:
            pipe.hmget(self.keys.mailbox(mailbox), "uidvalidity", "last_uid")
            return lambda replies: None if replies[0][0] is None else (int(replies[0][0]), int(replies[0][1]))

        result: tuple[int, int] | None = await self._lookup(build)
        return result

    async def filing_context(
        self, message_ids: Sequence[str], address: str, ticket_ref: str, acks_to: str, acks_since: float
    ) -> FilingContext:
        """What filing a fetched mail depends on, in one call of ``cc_filing_context``."""
        wanted = list(dict.fromkeys(message_ids))
        domain = acks_to.rsplit("@", 1)[-1]
        args = (self.keys.prefix, address, acks_to, domain, _ms(acks_since), ticket_ref, *wanted)

        def build(pipe: Any) -> Read:
            pipe.fcall_ro("cc_filing_context", 0, *args)
            return lambda replies: _filing_context(orjson.loads(replies[0]))

        result: FilingContext = await self._lookup(build)
        return result

    async def next_ticket(self) -> int:
        async with self._reachable():
            return int(await self._redis.incr(self.keys.ticket_numbers))

    async def _mails(self, ids: Sequence[str]) -> list[MailRecord]:
        async with self._reachable(), self._blobs.pipeline(transaction=False) as pipe:
            for mail_id in ids:
                pipe.hgetall(self.keys.mail(mail_id))
            replies = await pipe.execute()
        return [mail_from_hash(h) for h in replies if h]

    async def mail(self, mail_id: str) -> MailRecord | None:
        found = await self._mails([mail_id])
        return found[0] if found else None

    async def mails_of(self, contact_id: str, *, whole: bool = False) -> list[MailRecord]:
        async with self._reachable():
            ids = await self._reader.zrange(self.keys.contact_mails(contact_id), 0, -1)
        if whole:
            return await self._mails(ids)
        async with self._reachable(), self._reader.pipeline(transaction=False) as pipe:
            for mail_id in ids:
                pipe.hget(self.keys.mail(mail_id), "meta")
            metas = await pipe.execute()
        light = []
        for meta in metas:
            if meta is not None:
                found = orjson.loads(meta)
                light.append(MailRecord.from_meta(found, b"", [None] * len(found["attachments"])))
        return light

    async def quarantined(self, limit: int = 100) -> list[MailRecord]:
        async with self._reachable():
            ids = await self._reader.zrevrange(self.keys.quarantined, 0, limit - 1)
        return await self._mails(ids)

    async def _outbound(self, ids: Sequence[str]) -> list[Outbound]:
        async with self._reachable(), self._blobs.pipeline(transaction=False) as pipe:
            for outbound_id in ids:
                pipe.hmget(self.keys.outbox(outbound_id), "meta", "raw")
            replies = await pipe.execute()
        return [Outbound.from_meta(orjson.loads(meta), raw) for meta, raw in replies if meta is not None]

    async def outbound_due(self, now: float, limit: int = 100) -> list[Outbound]:
        async with self._reachable():
            ids = await self._reader.zrangebyscore(self.keys.outbox_due, "-inf", _ms(now), start=0, num=limit)
        return await self._outbound(ids)

    async def update_outbound(self, outbound: Outbound) -> None:
        k = self.keys
        meta = orjson.dumps(outbound.meta()).decode()
        queued = outbound.state == OutboundState.QUEUED

        def build(pipe: Any) -> Read:
            pipe.hset(k.outbox(outbound.id), "meta", meta)
            if queued:
                pipe.zadd(k.outbox_due, {outbound.id: _ms(outbound.next_at)})
            else:
                pipe.zrem(k.outbox_due, outbound.id)
            return lambda replies: None

        await self._enqueue(build)
