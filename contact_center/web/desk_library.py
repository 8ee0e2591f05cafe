"""The reply library edited from the desk: supervisors the team's replies, every agent their own personal ones.

Requests (docs/protocol.md, desk): ``library`` is answered by ``library`` with the replies this
agent may edit; ``reply_source {reply_id}`` by ``reply_source`` with the reply's file text, its
version and its history (who saved which version, when); ``save_reply {reply_id, source, base}``
by ``reply_saved`` (``base``: the version the text was made from, 0 for a new reply), or by an
``error``: ``invalid_reply`` with each problem's line, ``conflict`` when someone saved since,
``forbidden`` for a reply that is not this agent's to change; ``delete_reply {reply_id, base}``
by ``reply_saved`` with ``deleted``. Every node's suggestions use a saved reply at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from contact_center.engine import Engine
from contact_center.exceptions import BadMessage, NotFound
from contact_center.fields import require_text
from contact_center.model import Agent
from contact_center.reply_editing import FILES, ReplyEditor
from contact_center.store.base import ReplyVersion

__all__ = ["DeskLibrary"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_SOURCE_CHARS = 100_000


class DeskLibrary:
    """The library requests of one desk socket (``agent`` gives its signed-in agent's id)."""

    def __init__(
        self, engine: Engine, editor: ReplyEditor, send: Callable[[dict[str, Any]], None],
        agent: Callable[[], str | None],
    ) -> None:  # fmt: skip
        self._engine = engine
        self._editor = editor
        self._send = send
        self._agent = agent

    @property
    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, None]]]:
        """Made when asked, not kept: an object holding its own bound methods is a reference cycle."""
        return {
            "library": self.listing,
            "reply_source": self.source,
            "save_reply": self.save,
            "delete_reply": self.delete,
        }

    def _me(self) -> Agent:
        agent_id = self._agent()
        assert agent_id is not None
        return self._engine.agent(agent_id)

    @staticmethod
    def _reply_id(msg: dict[str, Any]) -> str:
        reply_id = require_text("reply_id", msg.get("reply_id"), 64)
        if not _ID.match(reply_id):
            raise BadMessage("reply_id: a-z, 0-9 and -, at most 64", "invalid_field", field="reply_id",
                             problem="not_an_id")  # fmt: skip
        return reply_id

    @staticmethod
    def _base(msg: dict[str, Any]) -> int:
        base = msg.get("base")
        if not isinstance(base, int) or isinstance(base, bool) or base < 0:
            raise BadMessage("base: the version the text was made from (0 for a new reply)", "invalid_field",
                             field="base", problem="not_a_version")  # fmt: skip
        return base

    def _who(self, author: str) -> str:
        if author == FILES:
            return FILES
        try:
            return self._engine.agent(author).display_name
        except (KeyError, NotFound):
            return author

    def _history(self, versions: list[ReplyVersion]) -> list[dict[str, Any]]:
        return [{"n": v.n, "author": self._who(v.author), "at": v.at, "deleted": not v.source} for v in versions]

    async def listing(self, msg: dict[str, Any]) -> None:
        me = self._me()
        replies = [{"id": r.id, "title": r.title, "code": r.code, "personal": r.owner is not None,
                    "version": self._editor.versions.get(r.id, 0)} for r in self._editor.editable(me)]  # fmt: skip
        self._send({"type": "library", "replies": replies, "owner": me.id, "team": me.role == "supervisor"})

    async def source(self, msg: dict[str, Any]) -> None:
        reply_id = self._reply_id(msg)
        text, history = await self._editor.source(self._me(), reply_id)
        self._send({"type": "reply_source", "reply_id": reply_id, "source": text,
                    "version": self._editor.versions.get(reply_id, 0), "history": self._history(history)})  # fmt: skip

    async def save(self, msg: dict[str, Any]) -> None:
        reply_id = self._reply_id(msg)
        source = require_text("source", msg.get("source"), _SOURCE_CHARS)
        version = await self._editor.save(self._me(), reply_id, source, self._base(msg))
        self._send({"type": "reply_saved", "reply_id": reply_id, "version": version.n, "deleted": False})

    async def delete(self, msg: dict[str, Any]) -> None:
        reply_id = self._reply_id(msg)
        version = await self._editor.delete(self._me(), reply_id, self._base(msg))
        self._send({"type": "reply_saved", "reply_id": reply_id, "version": version.n, "deleted": True})
