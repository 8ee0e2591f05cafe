"""The Redis store's files: what customers sent in chats, one hash each (its description and its bytes)."""

from __future__ import annotations

from typing import Any

import orjson

from contact_center.exceptions import Conflict
from contact_center.files import ChatFile
from contact_center.store.redis.pipeline import Read, RedisPipeline

__all__ = ["RedisFiles"]


class RedisFiles(RedisPipeline):
    """Files under ``file:{id}``."""

    async def put_file(self, file: ChatFile) -> None:
        assert file.data is not None
        meta = orjson.dumps([file.customer_id, file.filename, file.content_type, file.size, file.at])

        def build(pipe: Any) -> Read:
            pipe.hsetnx(self.keys.file(file.id), "meta", meta)
            pipe.hsetnx(self.keys.file(file.id), "data", file.data)
            return lambda replies: replies[-2]

        if not await self._enqueue(build):
            raise Conflict(f"file {file.id} exists already")

    async def chat_file(self, file_id: str, *, whole: bool = False) -> ChatFile | None:
        """A file by its id; its bytes only when ``whole`` (read on the connection that keeps bytes as bytes)."""
        key = self.keys.file(file_id)
        async with self._reachable():
            if whole:
                meta, data = await self._blobs.hmget(key, ["meta", "data"])
            else:
                meta, data = await self._reader.hget(key, "meta"), None
        if not meta:
            return None
        customer_id, filename, content_type, size, at = orjson.loads(meta)
        return ChatFile(file_id, customer_id, filename, content_type, int(size), float(at), data)
