"""The Redis store's units of work: a unit's records, events and mails in one ``cc_commit``, read back as they are."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from contact_center.model import (
    Contact,
    HistoryEvent,
    Presence,
)
from contact_center.records import presence_record
from contact_center.store.base import Changes, NewEvent
from contact_center.store.redis.codec import (
    Row,
    contact_from_hash,
    event_json,
    facts_of_row,
    presence_from_hash,
    rating_of,
    row_of,
    sla_of,
    status_change,
)
from contact_center.store.redis.mail import mail_unit, outbound_unit
from contact_center.store.redis.pipeline import Read, RedisPipeline, announcement

__all__ = ["RedisUnits"]


class RedisUnits(RedisPipeline):
    """Units of work in Redis: checked versions, then everything at once (see :mod:`.library`)."""

    async def record(self, contacts: Sequence[Contact], events: Sequence[NewEvent]) -> list[HistoryEvent]:
        """Write contacts as they are now (new records, versions unchecked) with events, in one transaction."""
        rows = [row_of(c) for c in contacts]
        staged = tuple(events)

        def build(pipe: Any) -> Read:
            self._save_contacts(pipe, rows)
            read = self._append_events(pipe, staged)
            return lambda replies: read(replies[len(replies) - len(staged) :] if staged else [])

        result: list[HistoryEvent] = await self._enqueue(build)
        return result

    def commit(self, changes: Changes) -> asyncio.Future[list[HistoryEvent]]:
        """Queue a unit of work: one ``cc_commit``, recorded whole if no record moved on meanwhile (else Stale)."""
        rows = [row_of(c) for c in changes.contacts]
        presences = [presence_record(p) for p in changes.presences]
        events = changes.events
        blobs: list[bytes] = []
        unit = {
            "check": [[self._record_key(key), version] for key, version in changes.expected.items()],
            "contacts": [
                [
                    r.id,
                    r.customer_id,
                    int(r.open),
                    repr(r.enqueued_at),
                    r.version,
                    r.json,
                    sla_of(r),
                    rating_of(r),
                    facts_of_row(r),
                ]
                for r in rows
            ],
            "presences": [
                [p["agent_id"], p["version"], orjson.dumps(p).decode(), p["status"], status_change(p)]
                for p in presences
            ],
            "events": [[e.customer_id, event_json(e)] for e in events],
            "mails": [mail_unit(self.keys, m, blobs) for m in changes.mails],
            "outbound": [outbound_unit(self.keys, o, blobs) for o in changes.outbound],
            "seats": [[s.name, s.holder, s.capacity] for s in changes.seats],
        }
        body = orjson.dumps(unit).decode()
        told = announcement(self.node_id, [r.record for r in rows], presences)

        def build(pipe: Any) -> Read:
            pipe.fcall("cc_commit", 0, self.keys.prefix, told, body, *blobs)

            def read(replies: list[Any]) -> list[HistoryEvent]:
                return [
                    HistoryEvent(int(i), e.customer_id, e.contact_id, e.channel, e.kind, e.at, e.actor, dict(e.data))
                    for i, e in zip(replies[0], events, strict=True)
                ]

            return read

        return self._enqueue(build)

    def _record_key(self, name: str) -> str:
        """The Redis key of a record the engine names ``contact:{id}`` or ``agent:{id}``."""
        kind, _, record_id = name.partition(":")
        if kind == "contact":
            return self.keys.contact(record_id)
        if kind == "agent":
            return self.keys.agent(record_id)
        raise ValueError(f"no record is named {name!r}")

    async def current(
        self, contact_ids: Sequence[str], agent_ids: Sequence[str]
    ) -> tuple[list[Contact], list[Presence]]:
        """The records as Redis has them now (those that exist)."""
        k = self.keys
        n = 2 * len(contact_ids)

        def build(pipe: Any) -> Read:
            for contact_id in contact_ids:
                pipe.hgetall(k.contact(contact_id))
                pipe.hget(k.conversation(contact_id), "last")
            for agent_id in agent_ids:
                pipe.hgetall(k.agent(agent_id))
            return read

        def read(replies: list[Any]) -> tuple[list[Contact], list[Presence]]:
            contacts = [contact_from_hash(h, last) for h, last in zip(replies[:n:2], replies[1:n:2], strict=True) if h]
            return contacts, [presence_from_hash(h) for h in replies[n:] if h]

        result: tuple[list[Contact], list[Presence]] = await self._lookup(build)
        return result

    def _append_events(self, pipe: Any, events: Sequence[NewEvent]) -> Callable[[list[Any]], list[HistoryEvent]]:
        """Queue ``events``; the returned function reads their ids from the replies (one each)."""
        for e in events:
            pipe.fcall("cc_append_event", 2, self.keys.event_ids, self.keys.history(e.customer_id), event_json(e))

        def read(replies: list[Any]) -> list[HistoryEvent]:
            return [
                HistoryEvent(int(i), e.customer_id, e.contact_id, e.channel, e.kind, e.at, e.actor, dict(e.data))
                for i, e in zip(replies, events, strict=True)
            ]

        return read

    def _save_contacts(self, pipe: Any, rows: Sequence[Row]) -> None:
        """Write contacts as they are (versions unchecked: new records) and announce them to other nodes."""
        k = self.keys
        for row in rows:
            month, facts = facts_of_row(row)
            record = {"v": row.version, "customer_id": row.customer_id, "record": row.json, "fm": month}
            pipe.hset(k.contact(row.id), mapping=record)
            pipe.sadd(k.customer_contacts(row.customer_id), row.id)
            pipe.hset(k.report_facts(month), row.id, facts)
            if row.open:
                pipe.zadd(k.open_contacts, {row.id: row.enqueued_at})
            else:
                pipe.zrem(k.open_contacts, row.id)
        if rows:
            pipe.publish(k.bus("state"), announcement(self.node_id, [r.record for r in rows], []))
