"""The reply library's attachments: files sent with a reply, kept on the store, mirrored in the folder.

A reply names its files (``attachments = ["fees.pdf"]``), which are in the library's
``attachments/`` folder. Every node must be able to send them, so each is on the store too: its
bytes as a file kept by what it holds (:func:`~contact_center.files.content_id`: the same bytes
have the same id on every node), its name's history as versions of the library file
``attachments/<name>`` (:class:`~contact_center.store.base.ReplyVersion`, whose ``source`` is the
file's id, "" once it was removed). As with the replies' texts
(:mod:`contact_center.reply_editing`), :meth:`ReplyAttachments.sync` squares the folder with the
store at start: a file the store has a newer version of is written to the folder (when it is
``desk.replies_dir``), a file changed by hand since its last version is recorded as a new one.

Supervisors add files from the desk (:meth:`~ReplyAttachments.upload`), checked as a customer's
would be: the type its bytes say, among the types a chat may carry, within the size limit. A file
a reply names cannot be removed. What an agent sends with a reply
(:meth:`~ReplyAttachments.to_send`) is what that reply names, of a reply the agent may use.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from contact_center import events, topics
from contact_center.bus import Bus
from contact_center.clock import Clock
from contact_center.engine.chat_files import MAX_FILES
from contact_center.exceptions import ClientError, Conflict, Forbidden, NotFound
from contact_center.files import ChatFile, content_id
from contact_center.model import Agent, Role
from contact_center.reply_files import ATTACHMENTS, write_bytes
from contact_center.reply_library import ReplyLibrary
from contact_center.store.base import FileStore, ReplyStore, ReplyVersion

__all__ = ["PREFIX", "FileInUse", "ReplyAttachments"]

log = structlog.get_logger("contact_center.replies")

PREFIX = f"{ATTACHMENTS}/"  # a version of the library file ``attachments/<name>``
FILES = "files"  # the author of a version found in the folder


class _Store(ReplyStore, FileStore, Protocol):
    pass


class FileInUse(ClientError):
    """An attachment replies still name, which cannot be removed: ``replies`` says which."""

    code = "file_in_use"
    http_status = 409

    def __init__(self, name: str, replies: list[str]) -> None:
        text = f"attachment {name} is sent with {', '.join(replies)}: take it out of those first"
        super().__init__(text, replies=", ".join(replies))


class ReplyAttachments:
    """The ``library``'s attachments on the store and in its folder, every node kept in step."""

    def __init__(self, library: ReplyLibrary, store: _Store, bus: Bus, clock: Clock) -> None:
        self._library = library
        self._store = store
        self._bus = bus
        self._clock = clock
        self.versions: dict[str, int] = {}  # the latest version of each name, as this node has it
        self._stop: Callable[[], None] = lambda: None
        self._fetching: set[asyncio.Task[None]] = set()

    async def sync(self) -> None:
        """Follow other nodes' uploads, and square the folder with the store (see the module)."""
        self._stop = self._bus.subscribe(topics.REPLIES, self._heard)
        found = await self._store.latest_reply_versions()
        latest = {k.removeprefix(PREFIX): v for k, v in found.items() if k.startswith(PREFIX)}
        on_disk = self._library.on_disk
        for name, version in sorted(latest.items()):
            data = on_disk.get(name)
            if data is not None and content_id(data) == version.source:
                await self._keep(name, data)
                self.versions[name] = version.n
                continue
            if data is not None:
                history = {v.source for v in await self._store.reply_history(PREFIX + name)}
                if content_id(data) not in history:  # changed by hand: the file wins
                    await self._record(name, data, FILES, version.n)
                    continue
            await self._apply(version)
        for name, data in sorted(on_disk.items()):
            if name not in latest:
                await self._record(name, data, FILES, 0)
        self._library.on_disk = {}  # on the store now: the bytes are read from there

    def close(self) -> None:
        self._stop()

    async def _keep(self, name: str, data: bytes) -> ChatFile:
        """The file's bytes on the store (once: the same bytes have the same id)."""
        file = dataclasses.replace(self._library.described(name, data, self._clock.now()), data=data)
        if await self._store.chat_file(file.id) is None:
            try:
                await self._store.put_file(file)
            except Conflict:  # another node put the same bytes first
                pass
        return dataclasses.replace(file, data=None)

    async def _record(self, name: str, data: bytes, author: str, base: int) -> ReplyVersion:
        kept = await self._keep(name, data)
        version = ReplyVersion(PREFIX + name, base + 1, author, self._clock.now(), kept.id)
        try:
            await self._store.add_reply_version(version)
        except Conflict:
            last = (await self._store.reply_history(PREFIX + name))[-1]
            if last.source != kept.id:
                raise Conflict(f"attachment {name} was changed by {last.author} at {last.at:.0f}; try again") from None
            version = last  # another node, starting with the same folder, recorded it first
        self.versions[name] = version.n
        self._library.files[name] = kept
        return version

    async def _apply(self, version: ReplyVersion) -> None:
        """Take ``version`` into this node's library (and folder), unless it has that one or a newer."""
        name = version.reply_id.removeprefix(PREFIX)
        if self.versions.get(name, 0) >= version.n:
            return
        self.versions[name] = version.n
        path = self._library.folder / ATTACHMENTS / name
        if not version.source:
            self._library.files.pop(name, None)
            if self._library.writable:
                path.unlink(missing_ok=True)
            return
        found = await self._store.chat_file(version.source, whole=self._library.writable)
        if found is None:
            log.error("replies.attachment_missing", name=name, file_id=version.source, n=version.n)
            return
        self._library.files[name] = dataclasses.replace(found, filename=name, data=None)
        if self._library.writable and found.data is not None:
            await asyncio.to_thread(write_bytes, path, found.data)

    def _heard(self, event: Any) -> None:
        if not isinstance(event, events.ReplyChanged) or not event.reply_id.startswith(PREFIX):
            return
        if self.versions.get(event.reply_id.removeprefix(PREFIX), 0) < event.n:
            task = asyncio.get_running_loop().create_task(self._fetch(event.reply_id))
            self._fetching.add(task)
            task.add_done_callback(self._fetching.discard)

    async def _fetch(self, file: str) -> None:
        try:
            history = await self._store.reply_history(file)
            if history:
                await self._apply(history[-1])
        except Exception as exc:  # the store away: the next change or restart brings it
            log.warning("replies.fetch_failed", reply_id=file, error=repr(exc))

    # ---------------------------------------------------------------- what the desk asks

    async def upload(self, agent: Agent, name: str, data: bytes, declared: str = "") -> ReplyVersion:
        """A supervisor adds (or replaces) the attachment ``name``: checked, kept, and every node told."""
        if agent.role != Role.SUPERVISOR:
            raise Forbidden("the library's attachments are the supervisors'")
        self._library.file_type(name, data, declared)  # ClientError naming what is wrong
        version = await self._record(name, data, agent.id, self.versions.get(name, 0))
        if self._library.writable:
            await asyncio.to_thread(write_bytes, self._library.folder / ATTACHMENTS / name, data)
        self._told(version)
        return version

    async def remove(self, agent: Agent, name: str) -> ReplyVersion:
        """A supervisor removes an attachment no reply names any more."""
        if agent.role != Role.SUPERVISOR:
            raise Forbidden("the library's attachments are the supervisors'")
        if name not in self._library.files:
            raise NotFound(f"no attachment {name!r}")
        naming = [r.id for r in self._library.replies if name in r.attachments]
        if naming:
            raise FileInUse(name, naming)
        version = ReplyVersion(PREFIX + name, self.versions.get(name, 0) + 1, agent.id, self._clock.now(), "")
        await self._store.add_reply_version(version)
        await self._apply(version)
        self._told(version)
        return version

    def _told(self, version: ReplyVersion) -> None:
        self._bus.publish(topics.REPLIES, events.ReplyChanged(version.reply_id, version.n))
        log.info("replies.attachment_saved", name=version.reply_id, n=version.n, author=version.author,
                 removed=not version.source)  # fmt: skip

    async def read(self, name: str) -> ChatFile:
        """The attachment ``name`` with its bytes; :class:`NotFound` when the library has none of that name."""
        known = self._library.files.get(name)
        found = await self._store.chat_file(known.id, whole=True) if known is not None else None
        if found is None or found.data is None:
            raise NotFound(f"no attachment {name!r}")
        return dataclasses.replace(found, filename=name)

    async def to_send(self, agent: Agent, wanted: object) -> list[ChatFile]:
        """The files of the replies the agent sends with a message: ``[{"reply": id, "name": name}, ...]``.

        Each must be an attachment of that reply, and the reply one the agent may use.
        """
        if not isinstance(wanted, list) or len(wanted) > MAX_FILES:
            raise ClientError(f"attachments: a list of at most {MAX_FILES} of the replies' files",
                              "invalid_field", field="attachments")  # fmt: skip
        skills, files = dict(agent.skills), []
        for item in wanted:
            reply_id = item.get("reply") if isinstance(item, dict) else None
            name = item.get("name") if isinstance(item, dict) else None
            reply = self._library.reply(reply_id) if isinstance(reply_id, str) else None
            if reply is None or not reply.may_use(agent.id, skills):
                raise Forbidden(f"attachments: {reply_id!r} is not a reply you may use")
            if name not in reply.attachments:
                raise ClientError(f"attachments: reply {reply.id} has no file {name!r}", "invalid_field",
                                  field="attachments")  # fmt: skip
            files.append(await self.read(str(name)))
        return list({f.id: f for f in files}.values())
