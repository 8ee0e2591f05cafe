"""The Redis store's reports: the email promise's arrivals and first responses; the customers' ratings."""

from __future__ import annotations

import itertools

import numpy as np
import orjson

from contact_center.collector import collector_held
from contact_center.contact_facts import ContactFacts, facts_of
from contact_center.store.base import STATUS_LOOKBACK_S, FirstResponses, Ratings, StatusChange
from contact_center.store.redis.codec import month_of
from contact_center.store.redis.keys import ms as _ms
from contact_center.store.redis.pipeline import RedisPipeline

__all__ = ["RedisReports"]


class RedisReports(RedisPipeline):
    """What the reports read from Redis."""

    async def first_responses(self, since: float, until: float) -> FirstResponses:
        """See the SQLite store; here from the ``sla:email`` index and its first responses."""
        async with self._reachable():
            found = await self._reader.zrangebyscore(self.keys.sla_email, _ms(since), f"({_ms(until)}", withscores=True)
            answered = await self._reader.hmget(self.keys.sla_answered, [c for c, _ in found]) if found else []
        arrived = np.fromiter((score / 1000 for _, score in found), dtype=np.float64, count=len(found))
        first = np.fromiter((np.nan if a is None else float(a) for a in answered), dtype=np.float64, count=len(found))
        return arrived, first

    async def ratings(self, since: float, until: float) -> Ratings:
        """See the SQLite store; here from the ``ratings`` index (by start) and its scores."""
        async with self._reachable():
            found = await self._reader.zrangebyscore(self.keys.ratings, _ms(since), f"({_ms(until)}", withscores=True)
            scores = await self._reader.hmget(self.keys.rating_scores, [c for c, _ in found]) if found else []
        kept = [(at, s) for (_, at), s in zip(found, scores, strict=True) if s is not None]
        started = np.fromiter((at / 1000 for at, _ in kept), dtype=np.float64, count=len(kept))
        return started, np.fromiter((int(s) for _, s in kept), dtype=np.int8, count=len(kept))

    async def contact_facts(self, since: float, until: float) -> ContactFacts:
        """See the SQLite store; here from the month buckets the span touches, kept to the span."""
        months = range(int(month_of(since)), int(month_of(max(since, until - 0.001))) + 1)
        async with self._reachable():
            pipe = self._blobs.pipeline(transaction=False)  # as bytes: orjson parses them without a decode
            for month in months:
                pipe.hvals(self.keys.report_facts(str(month)))
            buckets = await pipe.execute()
        # One parse of them all, as one JSON array; then the span's alone (a month's bucket may be wider).
        with collector_held():  # a list per row, all dropped once laid out in columns
            facts = facts_of(orjson.loads(b"[" + b",".join(itertools.chain.from_iterable(buckets)) + b"]"))
        inside = (facts.created >= since) & (facts.created < until)
        return facts if bool(inside.all()) else facts.take(inside)

    async def status_changes(self, since: float, until: float) -> list[StatusChange]:
        """See :data:`~contact_center.store.base.StatusChange`; from the ``statuses`` index."""
        low = _ms(since - STATUS_LOOKBACK_S)
        async with self._reachable():
            found = await self._reader.zrangebyscore(self.keys.statuses, low, f"({_ms(until)}", withscores=True)
        before: dict[str, StatusChange] = {}
        inside: list[StatusChange] = []
        for member, score in found:
            agent, status, _ = member.rsplit("|", 2)
            change = (agent, score / 1000, status)
            if change[1] < since:
                before[agent] = change  # in time order: the last one stays
            else:
                inside.append(change)
        return sorted([*before.values(), *inside])
