"""The reply library the desks use: read when the engine starts, its suggester built when first asked for.

Building the suggester loads the sentence encoder (about a second of CPU, once per process) and
encodes every phrasing, off the event loop; it is done on the first request rather than at start,
so a node that starts (or restarts, on a busy machine) spends nothing on it before an agent asks.

For a contact an agent holds, the three replies that best answer the customer's latest message,
in the customer's language, among those the agent may use (:meth:`ReplyLibrary.suggest`); and the
replies whose code or title is like what the agent typed after "/" or "::" (:meth:`ReplyLibrary.find`).
Each comes with its text filled for that customer (:func:`templates_responses.replies.render`):
what the engine does not know is left as ``[[...]]`` for the agent, and listed in ``to_fill``.

A reply may carry files (its ``attachments``, in the library's ``attachments/`` folder): read and
checked at :meth:`load` like the replies (each file's type is its bytes', among the types a chat
may carry, within its size), kept on the store and followed by
:class:`~contact_center.reply_attachments.ReplyAttachments`; :attr:`ReplyLibrary.files` is what
the library has now, and what a reply names is checked against it.

What agents pick is kept on the store (:meth:`ReplyLibrary.used`): the customer's message becomes
a phrasing of the reply picked (here at once; the other nodes are told by the editor), and the use
is counted for the reports.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from contact_center.embeddings import SentenceEncoder
from contact_center.exceptions import ClientError
from contact_center.files import ChatFile, accepted_type, content_id
from contact_center.model import Agent
from contact_center.reply_files import ATTACHMENTS, STARTER, read_attachments, read_texts
from contact_center.store.base import ReplyStore, ReplyUse
from templates_responses.acknowledgement import AUTOMATIC
from templates_responses.language import guess_language
from templates_responses.library_format import LibraryError, Problem, file_name_problem, read_library
from templates_responses.replies import Reply, render
from templates_responses.suggest import Suggester

__all__ = ["ReplyLibrary"]

log = structlog.get_logger("contact_center.replies")


class ReplyLibrary:
    """The library of ``desk.replies_dir`` (or the starter): its files read by :meth:`load`."""

    LEARNED = 20_000  # phrasings learned from use read at a build, the newest

    def __init__(
        self,
        folder: Any,
        languages: Sequence[str],
        store: ReplyStore | None = None,
        *,
        file_types: Collection[str] = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"),
        max_file_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.folder: Path = folder or STARTER
        self.writable = folder is not None  # the starter ships inside the package: its edits stay on the store
        self._store = store
        self.languages = tuple(languages)
        self._suggester: Suggester | None = None
        self._building: asyncio.Task[Suggester] | None = None
        self._stale = False  # the library changed while a build was under way
        self.replies: list[Reply] = []
        self._by_id: dict[str, Reply] = {}
        self._uses: Counter[str] = Counter()  # each reply's uses, as the store had them at the last build
        self.sources: dict[str, str] = {}  # each reply's file text, as read or last saved
        self.file_types = tuple(file_types)
        self.max_file_bytes = max_file_bytes
        self.files: dict[str, ChatFile] = {}  # the attachments by name, as this node has them (no bytes)
        self.on_disk: dict[str, bytes] = {}  # the attachments as the folder had them at load

    def load(self) -> None:
        """Read and check the folder (:class:`LibraryError` naming every problem); the suggester comes later."""
        files = read_texts(self.folder)
        on_disk = read_attachments(self.folder)
        problems = []
        for name, data in on_disk.items():
            try:
                self.file_type(name, data)
            except ClientError as exc:
                problems.append(Problem(str(self.folder / ATTACHMENTS / name), 0, str(exc)))
        try:
            self.replies = read_library(files, self.languages, on_disk)
        except LibraryError as exc:
            problems = [*exc.problems, *problems]
        if problems:
            raise LibraryError(problems)
        self._by_id = {r.id: r for r in self.replies}
        self.sources = {Path(name).stem: text for name, text in files}
        self.on_disk = on_disk
        self.files = {name: self.described(name, data) for name, data in on_disk.items()}
        log.info("replies.loaded", folder=str(self.folder), replies=len(self.replies), attachments=len(on_disk))

    def file_type(self, name: str, data: bytes, declared: str = "") -> str:
        """The type of an attachment that may be sent (its bytes'); :class:`ClientError` naming why not."""
        if said := file_name_problem(name):
            raise ClientError(f"name: {said}", "invalid_field", field="name")
        if len(data) > self.max_file_bytes:
            raise self.too_large(len(data))
        return accepted_type(data, declared, self.file_types)

    def too_large(self, size: int) -> ClientError:
        limit = round(self.max_file_bytes / 1048576, 2)
        return ClientError(f"file: {size:,} bytes is over the limit of {limit:g} MB", "invalid_field", field="file",
                           problem="file_too_large", limit=limit)  # fmt: skip

    def described(self, name: str, data: bytes, at: float = 0.0) -> ChatFile:
        """The library's attachment ``name`` holding ``data`` (kept by content: :func:`content_id`), without bytes."""
        return ChatFile(content_id(data), "", name, self.file_type(name, data), len(data), at)

    def put(self, reply: Reply, source: str) -> None:
        """``reply`` in the library from now on (new, or in place of the one of its id); suggestions follow."""
        self.replies = sorted([*(r for r in self.replies if r.id != reply.id), reply], key=lambda r: r.id)
        self._by_id = {r.id: r for r in self.replies}
        self.sources[reply.id] = source
        self._changed()

    def drop(self, reply_id: str) -> None:
        self.replies = [r for r in self.replies if r.id != reply_id]
        self._by_id.pop(reply_id, None)
        self.sources.pop(reply_id, None)
        self._changed()

    def _changed(self) -> None:
        """Build the suggester again (the old one serves until the new one is ready)."""
        if self._building is not None and not self._building.done():
            self._stale = True
            return
        if self._suggester is not None:
            self._building = asyncio.get_running_loop().create_task(self._rebuild())

    async def _rebuild(self) -> Suggester:
        while True:
            self._stale = False
            suggester = await self._build()
            if not self._stale:
                self._suggester = suggester
                return suggester

    async def _ready(self) -> Suggester:
        """The suggester, built in a thread on first need (a large library takes seconds); one build at a time."""
        if self._suggester is not None:
            return self._suggester
        failed = (
            self._building is not None
            and self._building.done()
            and (self._building.cancelled() or self._building.exception() is not None)
        )
        if self._building is None or failed:  # a build that failed (the store away) is tried again
            self._building = asyncio.get_running_loop().create_task(self._rebuild())
        return await asyncio.shield(self._building)

    async def _build(self) -> Suggester:
        learned = await self._store.learned_phrasings(self.LEARNED) if self._store is not None else []
        if self._store is not None:
            self._uses = Counter(await self._store.reply_uses(0.0, float(2**40)))
        return await asyncio.to_thread(Suggester, list(self.replies), SentenceEncoder(), learned)

    def language_of(self, skills: Sequence[tuple[str, int]], text: str) -> str:
        """The customer's language: the one their contact asks for (``lang_``), else the one they write in."""
        asked = next((s[5:] for s, _ in skills if s.startswith("lang_")), "")
        language = asked or guess_language(text)
        return language if language in self.languages else self.languages[0]

    async def suggest(
        self, agent: Agent, message: str, language: str, values: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        if not self.replies or not message.strip():
            return []
        suggester = await self._ready()
        found = await asyncio.to_thread(suggester.suggest, message, self._usable_now(agent), 3)
        return [self._shown(self._now(s.reply), language, values) for s in found]

    async def find(self, agent: Agent, typed: str, language: str, values: Mapping[str, str]) -> list[dict[str, Any]]:
        if not self.replies:
            return []
        suggester = await self._ready()
        usable = self._usable_now(agent)
        if not typed.strip():  # "/" alone: the replies used most, first
            found = sorted((r for r in self.replies if usable(r)), key=lambda r: (-self._uses[r.id], r.title))[:5]
        else:
            found = suggester.find(typed, usable)
        return [self._shown(self._now(r), language, values) for r in found]

    def reply(self, reply_id: str) -> Reply | None:
        """The reply of that id as it is now."""
        return self._by_id.get(reply_id)

    def _usable_now(self, agent: Agent) -> Any:
        usable = self._usable(agent)
        return lambda reply: (now := self._now(reply)) is not None and usable(now)

    def _now(self, reply: Reply) -> Any:
        """The library's reply of that id as it is now (a suggester being built again knows the old one)."""
        return self._by_id.get(reply.id)

    async def used(self, use: ReplyUse) -> bool:
        """An agent picked a reply for a message: counted, and (on the store) a phrasing of it from now on.

        False for a reply the library does not have (an old desk's, or made up): nothing is recorded.
        """
        if use.reply_id not in self._by_id:
            return False
        if self._store is not None:
            await self._store.record_reply_use(use)
        self.learn(use.reply_id, use.message)
        return True

    def learn(self, reply_id: str, message: str) -> None:
        """``message`` is a phrasing of ``reply_id`` from now on (here; the store has it for the next build)."""
        self._uses[reply_id] += 1
        if self._suggester is not None and message.strip():
            self._suggester.learn(reply_id, message)  # a few ms; on the loop, so learns never race

    @staticmethod
    def _usable(agent: Agent) -> Any:
        """What ``agent`` may be offered: theirs to use, and not one the engine sends itself."""
        skills = dict(agent.skills)
        return lambda reply: AUTOMATIC not in reply.tags and reply.may_use(agent.id, skills)

    def _shown(self, reply: Reply, language: str, values: Mapping[str, str]) -> dict[str, Any]:
        filled = render(reply.body(language, self.languages[0]), values)
        files = [self.files[n].described() | {"name": n} for n in reply.attachments if n in self.files]
        return {"id": reply.id, "code": reply.code, "title": reply.title, "text": filled.text,
                "to_fill": list(filled.to_fill), "attachments": files}  # fmt: skip
