"""The reply library the desks use: read when the engine starts, its suggester built off the event loop.

For a contact an agent holds, the three replies that best answer the customer's latest message,
in the customer's language, among those the agent may use (:meth:`ReplyLibrary.suggest`); and the
replies whose code or title is like what the agent typed after "/" or "::" (:meth:`ReplyLibrary.find`).
Each comes with its text filled for that customer (:func:`templates_responses.replies.render`):
what the engine does not know is left as ``[[...]]`` for the agent, and listed in ``to_fill``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from contact_center.embeddings import SentenceEncoder
from contact_center.model import Agent
from contact_center.reply_files import STARTER, read_folder
from templates_responses.language import guess_language
from templates_responses.replies import Reply, render
from templates_responses.suggest import Suggester

__all__ = ["ReplyLibrary"]

log = structlog.get_logger("contact_center.replies")


class ReplyLibrary:
    """The library of ``desk.replies_dir`` (or the starter), ready once :meth:`load` has run."""

    def __init__(self, folder: Any, languages: Sequence[str]) -> None:
        self._folder = folder or STARTER
        self._languages = tuple(languages)
        self._suggester: Suggester | None = None
        self.replies: list[Reply] = []

    async def load(self) -> None:
        """Read and check the folder, and build the suggester in a thread (a large library takes seconds)."""
        self.replies = read_folder(self._folder, self._languages)
        self._suggester = await asyncio.to_thread(Suggester, self.replies, SentenceEncoder())
        log.info("replies.loaded", folder=str(self._folder), replies=len(self.replies))

    @property
    def ready(self) -> bool:
        return self._suggester is not None

    def language_of(self, skills: Sequence[tuple[str, int]], text: str) -> str:
        """The customer's language: the one their contact asks for (``lang_``), else the one they write in."""
        asked = next((s[5:] for s, _ in skills if s.startswith("lang_")), "")
        language = asked or guess_language(text)
        return language if language in self._languages else self._languages[0]

    async def suggest(
        self, agent: Agent, message: str, language: str, values: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        if self._suggester is None or not message.strip():
            return []
        usable = self._usable(agent)
        found = await asyncio.to_thread(self._suggester.suggest, message, usable, 3)
        return [self._shown(s.reply, language, values) for s in found]

    def find(self, agent: Agent, typed: str, language: str, values: Mapping[str, str]) -> list[dict[str, Any]]:
        if self._suggester is None:
            return []
        return [self._shown(r, language, values) for r in self._suggester.find(typed, self._usable(agent))]

    def learn(self, reply_id: str, message: str) -> None:
        if self._suggester is not None:
            self._suggester.learn(reply_id, message)

    @staticmethod
    def _usable(agent: Agent) -> Any:
        skills = dict(agent.skills)
        return lambda reply: reply.may_use(agent.id, skills)

    def _shown(self, reply: Reply, language: str, values: Mapping[str, str]) -> dict[str, Any]:
        filled = render(reply.body(language, self._languages[0]), values)
        return {"id": reply.id, "code": reply.code, "title": reply.title, "text": filled.text,
                "to_fill": list(filled.to_fill)}  # fmt: skip
