"""Files customers send in chats: checked and kept when uploaded, named by the message that carries them.

A file is uploaded first (``POST /api/chat/files``, with the customer's token) and kept whole
in the store, checked by :mod:`contact_center.files`: at most ``webchat.attachment_max_mb``,
of one of ``webchat.attachment_types`` by its bytes. A chat message then names it by id; the
message carries its description (name, type, size), and only files the same customer sent
may be named (:meth:`ChatFiles.described`). A file an agent sends (a pre-written reply's) is
given to the customer (:meth:`ChatFiles.give`): a copy of their own, which they may then fetch.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import structlog

from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.exceptions import ClientError, Conflict, Forbidden
from contact_center.files import ChatFile, accepted_type, clean_name
from contact_center.store.base import FileStore

__all__ = ["MAX_FILES", "ChatFiles"]

log = structlog.get_logger("contact_center.engine")

MAX_FILES = 5  # files one message may carry


class ChatFiles:
    """Uploads, and the files a message names."""

    def __init__(self, store: FileStore, clock: Clock, config: Config) -> None:
        self._store = store
        self._clock = clock
        self._config = config.webchat

    @property
    def max_bytes(self) -> int:
        return int(self._config.attachment_max_mb * 1024 * 1024)

    def too_large(self, size: int) -> ClientError:
        limit = self._config.attachment_max_mb
        return ClientError(
            f"file: {size:,} bytes is over the limit of {limit:g} MB",
            "invalid_field",
            field="file",
            problem="file_too_large",
            limit=limit,
        )

    async def receive(self, customer_id: str, name: object, declared: object, data: bytes) -> ChatFile:
        """Keep a file the customer uploads, if it may be kept; bad ones raise :class:`ClientError` naming why."""
        if len(data) > self.max_bytes:
            raise self.too_large(len(data))
        kind = accepted_type(data, str(declared or ""), self._config.attachment_types)
        filename = clean_name(name if isinstance(name, str) else "")
        kept = ChatFile(uuid.uuid4().hex[:20], customer_id, filename, kind, len(data), self._clock.now(), data)
        await self._store.put_file(kept)
        log.info("file.received", file_id=kept.id, customer_id=customer_id, content_type=kind, size=len(data))
        return kept

    async def give(self, customer_id: str, file: ChatFile, key: str) -> ChatFile:
        """``file`` (with its bytes) given to the customer in the message ``key``: kept as theirs, once.

        Its id comes from the message and the file, so a repeat of the message gives nothing twice.
        """
        assert file.data is not None
        given = ChatFile(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}/{file.id}").hex[:20], customer_id, file.filename,
                         file.content_type, file.size, self._clock.now(), file.data)  # fmt: skip
        try:
            await self._store.put_file(given)
        except Conflict:  # given already, by the first of a message's repeats
            found = await self._store.chat_file(given.id)
            if found is None or found.customer_id != customer_id:
                raise
            return found
        log.info("file.given", file_id=given.id, customer_id=customer_id, name=file.filename, size=file.size)
        return dataclasses.replace(given, data=None)

    async def described(self, customer_id: str, ids: object) -> list[dict[str, Any]]:
        """What a message says of the files it names: each one this customer uploaded, at most :data:`MAX_FILES`."""
        if not isinstance(ids, list) or not ids or len(ids) > MAX_FILES or not all(isinstance(i, str) for i in ids):
            raise ClientError(
                f"files: a list of 1 to {MAX_FILES} file ids", "invalid_field", field="files", problem="bad_files"
            )
        described = []
        for file_id in dict.fromkeys(ids):
            found = await self._store.chat_file(file_id[:64])
            if found is None or found.customer_id != customer_id:
                raise Forbidden(f"file {file_id[:64]!r} is not one you sent")
            described.append(found.described())
        return described
