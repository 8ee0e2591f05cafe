"""The Redis store's reviews of conversations: ``reviews`` (contact id -> the review as JSON), found by time
in ``reviews:at`` and per agent in ``reviews:agent:{id}`` (scores: the review's time, ms)."""

from __future__ import annotations

from typing import Any

import orjson

from contact_center.quality import Review
from contact_center.store.redis.keys import ms as _ms
from contact_center.store.redis.pipeline import Read, RedisPipeline

__all__ = ["RedisQuality"]


class RedisQuality(RedisPipeline):
    """Reviews: one per contact, the latest."""

    async def put_review(self, review: Review) -> None:
        k = self.keys

        def build(pipe: Any) -> Read:
            pipe.hset(k.reviews, review.contact_id, orjson.dumps(review.to_json()))
            pipe.zadd(k.reviews_at, {review.contact_id: _ms(review.at)})
            pipe.zadd(k.agent_reviews(review.agent_id), {review.contact_id: _ms(review.at)})
            return lambda replies: None

        await self._enqueue(build)

    async def review_of(self, contact_id: str) -> Review | None:
        async with self._reachable():
            raw = await self._reader.hget(self.keys.reviews, contact_id)
        return None if raw is None else Review.from_json(orjson.loads(raw))

    async def _read(self, ids: list[str]) -> list[Review]:
        if not ids:
            return []
        async with self._reachable():
            rows = await self._reader.hmget(self.keys.reviews, ids)
        return [Review.from_json(orjson.loads(r)) for r in rows if r is not None]

    async def reviews_of(self, agent_id: str, limit: int = 50) -> list[Review]:
        async with self._reachable():
            ids = await self._reader.zrevrange(self.keys.agent_reviews(agent_id), 0, limit - 1)
        return await self._read(ids)

    async def reviews(self, since: float, until: float) -> list[Review]:
        async with self._reachable():
            ids = await self._reader.zrangebyscore(self.keys.reviews_at, _ms(since), f"({_ms(until)}")
        return await self._read(ids)
