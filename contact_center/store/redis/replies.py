"""The Redis store's part of the replies: the team's dictionary, and the replies agents used.

``team_words`` is a hash (word: who added it, when); each use goes to ``reply_uses:{hour}``, a
hash of counts per reply for that UTC hour (listed in ``reply_uses:hours``), so a year's report
reads 8,760 small hashes, never every use; the phrasings learned are the newest
:data:`PHRASINGS_KEPT` in the list ``reply_phrasings``. A reply's versions are the hash
``reply_versions:{id}`` (n: the version), the ids with any in the set ``reply_versions``.
"""

from __future__ import annotations

from typing import Any

import orjson

from contact_center.exceptions import Conflict
from contact_center.store.base import ReplyUse, ReplyVersion
from contact_center.store.redis.pipeline import Read, RedisPipeline

__all__ = ["PHRASINGS_KEPT", "RedisReplies"]

PHRASINGS_KEPT = 20_000


class RedisReplies(RedisPipeline):
    """The team's words and the replies' uses."""

    async def add_word(self, word: str, agent_id: str, at: float) -> bool:
        def build(pipe: Any) -> Read:
            pipe.hsetnx(self.keys.team_words, word, orjson.dumps([agent_id, at]))
            return lambda replies: bool(replies[-1])

        return bool(await self._enqueue(build))

    async def remove_word(self, word: str) -> bool:
        def build(pipe: Any) -> Read:
            pipe.hdel(self.keys.team_words, word)
            return lambda replies: bool(replies[-1])

        return bool(await self._enqueue(build))

    async def team_words(self) -> list[str]:
        async with self._reachable():
            words = await self._reader.hkeys(self.keys.team_words)
        return sorted(words)

    async def record_reply_use(self, use: ReplyUse) -> None:
        hour = int(use.at // 3600)

        def build(pipe: Any) -> Read:
            pipe.hincrby(self.keys.reply_uses(hour), use.reply_id, 1)
            pipe.zadd(self.keys.reply_use_hours, {str(hour): hour})
            if use.message:
                pipe.rpush(self.keys.reply_phrasings, orjson.dumps([use.reply_id, use.message]))
                pipe.ltrim(self.keys.reply_phrasings, -PHRASINGS_KEPT, -1)
            return lambda replies: None

        await self._enqueue(build)

    async def learned_phrasings(self, limit: int) -> list[tuple[str, str]]:
        async with self._reachable():
            rows = await self._reader.lrange(self.keys.reply_phrasings, -limit, -1) if limit > 0 else []
        return [(str(r), str(m)) for r, m in (orjson.loads(row) for row in rows)]

    async def reply_uses(self, since: float, until: float) -> dict[str, int]:
        """Counts of the hours from ``since`` to ``until`` (whole UTC hours: reports start on the hour)."""
        first, last = int(since // 3600), int(-(-until // 3600)) - 1
        async with self._reachable():
            hours = await self._reader.zrangebyscore(self.keys.reply_use_hours, first, last)
            pipe = self._reader.pipeline(transaction=False)
            for hour in hours:
                pipe.hgetall(self.keys.reply_uses(int(hour)))
            counted = await pipe.execute() if hours else []
        uses: dict[str, int] = {}
        for counts in counted:
            for reply_id, n in counts.items():
                uses[reply_id] = uses.get(reply_id, 0) + int(n)
        return uses

    async def add_reply_version(self, version: ReplyVersion) -> None:
        record = orjson.dumps([version.author, version.at, version.source])

        def build(pipe: Any) -> Read:
            pipe.hsetnx(self.keys.reply_versions(version.reply_id), str(version.n), record)
            pipe.sadd(self.keys.reply_version_ids, version.reply_id)
            return lambda replies: replies[-2]

        if not await self._enqueue(build):
            raise Conflict(f"reply {version.reply_id} has a version {version.n} already")

    async def reply_history(self, reply_id: str) -> list[ReplyVersion]:
        async with self._reachable():
            found = await self._reader.hgetall(self.keys.reply_versions(reply_id))
        return sorted((_version(reply_id, n, raw) for n, raw in found.items()), key=lambda v: v.n)

    async def latest_reply_versions(self) -> dict[str, ReplyVersion]:
        async with self._reachable():
            ids = sorted(await self._reader.smembers(self.keys.reply_version_ids))
            pipe = self._reader.pipeline(transaction=False)
            for reply_id in ids:
                pipe.hgetall(self.keys.reply_versions(reply_id))
            histories = await pipe.execute() if ids else []
        latest = {}
        for reply_id, found in zip(ids, histories, strict=True):
            if found:
                n = max(found, key=int)
                latest[reply_id] = _version(reply_id, n, found[n])
        return latest


def _version(reply_id: str, n: str, raw: str) -> ReplyVersion:
    author, at, source = orjson.loads(raw)
    return ReplyVersion(reply_id, int(n), str(author), float(at), str(source))
