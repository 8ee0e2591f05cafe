"""Editing the reply library from the desk: every save a version on the store (who, when, the whole file).

Who may change what: a supervisor the team's replies; any agent their own personal replies
(``owner`` is their id; only they are offered them). A save names the version it was made from
(``base``, 0 for a new reply): if someone saved since, it is refused (:class:`Conflict`, naming who
and when) and nothing is written. The text is the reply's file (the documented format), checked as
the library would be (a short code taken twice included); a problem is an :class:`InvalidReply`
naming each line, and nothing is written.

A save goes to the store first (``reply_versions``: the history), then to the folder when it is
``desk.replies_dir`` (the starter library inside the package is never written: its edits live on
the store), and every node's library follows (the ``replies`` topic). At start
:meth:`ReplyEditor.sync` squares the folder with the store: a reply the store has a newer version
of takes it (a folder not shared between nodes, or the read-only starter, catches up); a file
changed on disk by hand since its last version wins and is recorded as a version by ``files``.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import structlog

from contact_center import events, topics
from contact_center.bus import Bus
from contact_center.clock import Clock
from contact_center.exceptions import ClientError, Conflict, Forbidden, NotFound
from contact_center.model import Agent, Role
from contact_center.reply_attachments import PREFIX
from contact_center.reply_files import remove, write
from contact_center.reply_library import ReplyLibrary
from contact_center.store.base import ReplyStore, ReplyUse, ReplyVersion
from templates_responses.acknowledgement import REPLY_ID, unsendable
from templates_responses.library_format import LibraryError, Problem, read_library, read_reply, write_reply
from templates_responses.replies import Reply

__all__ = ["FILES", "InvalidReply", "ReplyEditor"]

log = structlog.get_logger("contact_center.replies")

FILES = "files"  # the author of a version found in the folder


class InvalidReply(ClientError):
    """A reply's text the library cannot take: each problem with its line."""

    code = "invalid_reply"
    http_status = 422  # understood, and refused for what it says

    def __init__(self, problems: LibraryError) -> None:
        lines = [{"file": p.file, "line": p.line, "message": p.message} for p in problems.problems]
        super().__init__("; ".join(f"line {p['line']}: {p['message']}" for p in lines), problems=lines)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ReplyEditor:
    """Saves and deletes of the ``library``'s replies, their history, and every node kept in step."""

    def __init__(self, library: ReplyLibrary, store: ReplyStore, bus: Bus, clock: Clock) -> None:
        self._library = library
        self._store = store
        self._bus = bus
        self._clock = clock
        self.versions: dict[str, int] = {}  # the latest version of each reply, as this node has it
        self._stop: Callable[[], None] = lambda: None
        self._fetching: set[asyncio.Task[None]] = set()
        self._origin = uuid.uuid4().hex  # this editor, on the bus (it hears its own news too)

    async def sync(self) -> None:
        """Follow other nodes' saves, and square the folder with the store's versions (see the module)."""
        self._stop = self._bus.subscribe(topics.REPLIES, self._heard)
        found = await self._store.latest_reply_versions()
        latest = {k: v for k, v in found.items() if not k.startswith(PREFIX)}  # the attachments are followed apart
        for reply_id, version in sorted(latest.items()):
            source = self._library.sources.get(reply_id)
            if source is not None and _digest(source) == _digest(version.source):
                self.versions[reply_id] = version.n  # the folder has it already
                continue
            if source is not None:
                history = {_digest(v.source) for v in await self._store.reply_history(reply_id)}
                if _digest(source) not in history:  # changed by hand: the file wins
                    await self._record(reply_id, source, FILES, version.n)
                    continue
            self._apply(version)
        for reply_id, source in sorted(self._library.sources.items()):
            if reply_id not in latest:
                await self._record(reply_id, source, FILES, 0)

    def close(self) -> None:
        self._stop()

    async def _record(self, reply_id: str, source: str, author: str, base: int) -> ReplyVersion:
        version = ReplyVersion(reply_id, base + 1, author, self._clock.now(), source)
        try:
            await self._store.add_reply_version(version)
        except Conflict:
            found = (await self._store.reply_history(reply_id))[-1]
            if found.author == author and found.source == source:
                self.versions[reply_id] = found.n
                return found  # another node, starting with the same folder, recorded it first
            raise Conflict(f"reply {reply_id} was changed by {found.author} at {found.at:.0f}; load it again") from None
        self.versions[reply_id] = version.n
        return version

    def _apply(self, version: ReplyVersion) -> None:
        """Take ``version`` into this node's library, unless it has that one (or a newer) already."""
        if self.versions.get(version.reply_id, 0) < version.n:
            self._take(version)

    def _take(self, version: ReplyVersion) -> None:
        """``version`` into this node's library (and its folder, when it is the configured one)."""
        self.versions[version.reply_id] = version.n
        if not version.source:
            self._library.drop(version.reply_id)
            if self._library.writable:
                remove(self._library.folder, version.reply_id)
            return
        try:
            reply = read_reply(f"{version.reply_id}.toml", version.source, self._library.languages)
        except LibraryError as exc:  # written by a node with other languages, say: kept as it is here
            log.error("replies.version_unreadable", reply_id=version.reply_id, n=version.n, problems=str(exc))
            return
        self._library.put(reply, version.source)
        if self._library.writable:
            write(self._library.folder, version.reply_id, version.source)

    async def used(self, use: ReplyUse) -> None:
        """An agent picked a reply: counted and learned here (:meth:`ReplyLibrary.used`), then on every node."""
        if await self._library.used(use):
            self._bus.publish(topics.REPLIES, events.PhrasingLearned(use.reply_id, use.message, self._origin))

    def _heard(self, event: Any) -> None:
        if isinstance(event, events.PhrasingLearned) and event.origin != self._origin:
            self._library.learn(event.reply_id, event.message)
            return
        if not isinstance(event, events.ReplyChanged) or event.reply_id.startswith(PREFIX):
            return  # an attachment's: :class:`~contact_center.reply_attachments.ReplyAttachments` follows those
        if self.versions.get(event.reply_id, 0) < event.n:
            task = asyncio.get_running_loop().create_task(self._fetch(event.reply_id))
            self._fetching.add(task)
            task.add_done_callback(self._fetching.discard)

    async def _fetch(self, reply_id: str) -> None:
        try:
            history = await self._store.reply_history(reply_id)
        except Exception as exc:  # the store away: the next save or restart brings it
            log.warning("replies.fetch_failed", reply_id=reply_id, error=repr(exc))
            return
        if history:
            self._apply(history[-1])

    # ---------------------------------------------------------------- what the desk asks

    def editable(self, agent: Agent) -> list[Reply]:
        return [r for r in self._library.replies if self._may_edit(agent, r)]

    @staticmethod
    def _may_edit(agent: Agent, reply: Reply) -> bool:
        return reply.owner == agent.id or (reply.owner is None and agent.role == Role.SUPERVISOR)

    def _existing(self, agent: Agent, reply_id: str) -> Reply | None:
        found = next((r for r in self._library.replies if r.id == reply_id), None)
        if found is not None and not self._may_edit(agent, found):
            raise Forbidden(f"reply {reply_id}: only its owner, or a supervisor for the team's replies, may change it")
        return found

    async def source(self, agent: Agent, reply_id: str) -> tuple[str, list[ReplyVersion]]:
        if self._existing(agent, reply_id) is None:
            raise NotFound(f"no reply {reply_id}")
        return self._library.sources.get(reply_id, ""), await self._store.reply_history(reply_id)

    async def save(self, agent: Agent, reply_id: str, source: str, base: int) -> ReplyVersion:
        """A new version of ``reply_id`` (a new reply when ``base`` is 0) from its file's text."""
        existing = self._existing(agent, reply_id)
        if (existing is None) != (base == 0):
            raise Conflict(f"reply {reply_id} " + ("does not exist (any more)" if base else "exists already"))
        try:
            reply = read_reply(f"{reply_id}.toml", source, self._library.languages)
            others = [(f"{r.id}.toml", write_reply(r)) for r in self._library.replies if r.id != reply_id]
            read_library([*others, (f"{reply_id}.toml", source)], self._library.languages, self._library.files)
        except LibraryError as exc:
            raise InvalidReply(exc) from None
        if reply.id == REPLY_ID and unsendable(reply):
            line = source.count("\n", 0, source.find("[body]")) + 1 if "[body]" in source else 1
            raise InvalidReply(LibraryError([Problem(f"{reply_id}.toml", line, f"body.{lang}: {what}")
                                             for lang, what in unsendable(reply)]))  # fmt: skip
        if agent.role != Role.SUPERVISOR and reply.owner != agent.id:
            raise Forbidden(f"owner: a personal reply is yours (owner = \"{agent.id}\"); the team's are supervisors'")
        if reply.owner is not None and reply.owner != agent.id:
            raise Forbidden("owner: a personal reply can only be its owner's")
        return await self._saved(reply_id, source, agent.id, base)

    async def delete(self, agent: Agent, reply_id: str, base: int) -> ReplyVersion:
        if self._existing(agent, reply_id) is None:
            raise NotFound(f"no reply {reply_id}")
        return await self._saved(reply_id, "", agent.id, base)

    async def _saved(self, reply_id: str, source: str, author: str, base: int) -> ReplyVersion:
        known = self.versions.get(reply_id, 0)
        if base != known:
            raise Conflict(f"reply {reply_id} is at version {known}, not {base}: load it again")
        version = await self._record(reply_id, source, author, base)
        self._take(version)
        self._bus.publish(topics.REPLIES, events.ReplyChanged(reply_id, version.n))
        log.info("replies.saved", reply_id=reply_id, n=version.n, author=author, deleted=not source)
        return version

    async def import_replies(
        self,
        agent: Agent,
        files: list[tuple[str, str]],
        *,
        adding: Collection[str] = (),
        before: Callable[[], Awaitable[None]] | None = None,
    ) -> list[ReplyVersion]:
        """Team replies from ``(file name, text)`` pairs (a CSV's rows already as files): all or nothing.

        Checked with the rest of the library first (a short code taken twice, a missing language, a
        file that neither the library nor ``adding`` has, ...); ``before`` runs once all is known good
        (the import's files are taken). A reply that is already the library's (its file laid out
        otherwise, say) is left as it is. Each other is saved as a new version by ``agent`` (a
        supervisor), over whatever version is there.
        """
        if agent.role != Role.SUPERVISOR:
            raise Forbidden("importing replies is for supervisors")
        try:
            incoming = read_library(files, self._library.languages)
        except LibraryError as exc:
            raise InvalidReply(exc) from None
        texts = {reply.id: text for reply, (_, text) in zip(incoming, sorted(files, key=_stem), strict=True)}
        kept = [(f"{r.id}.toml", write_reply(r)) for r in self._library.replies if r.id not in texts]
        problems = [Problem(f"{r.id}.toml", 1, f"owner: an import is the team's; {r.id} names one")
                    for r in incoming if r.owner is not None]  # fmt: skip
        problems += [Problem(f"{r.id}.toml", 1, f"body.{lang}: {what}") for r in incoming if r.id == REPLY_ID
                     for lang, what in unsendable(r)]  # fmt: skip
        try:
            mine = [*kept, *((f"{rid}.toml", text) for rid, text in texts.items())]
            read_library(mine, self._library.languages, {*self._library.files, *adding})
        except LibraryError as exc:
            problems += exc.problems
        if problems:
            raise InvalidReply(LibraryError(problems))
        if before is not None:
            await before()
        saved = []
        for reply in incoming:  # a reply the same as the library's (however its file is laid out) stays
            if self._library.reply(reply.id) != reply:
                saved.append(await self._saved(reply.id, texts[reply.id], agent.id, self.versions.get(reply.id, 0)))
        return saved


def _stem(file: tuple[str, str]) -> str:
    return file[0].replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".toml")
