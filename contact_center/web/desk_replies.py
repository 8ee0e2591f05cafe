"""The desk's pre-written replies: suggestions for the contact in front of the agent, and "/" to find one.

Requests (docs/protocol.md, desk): ``suggest {contact_id}`` is answered by ``suggestions`` with the
three replies that best answer the customer's latest message; ``find_replies {contact_id, query}``
by ``replies_found``, the replies whose code or title is like ``query``; ``reply_used {contact_id,
reply_id}`` tells the library which reply the agent picked for that message, so it is found for
such a message next time. Each reply comes with its text filled for the contact's customer.
``check_draft {contact_id, text}`` is answered by ``draft_checked``: the findings of the checkers
(:class:`~contact_center.proofreading.Proofreader`), never over the team's dictionary, the product
names, or the customer's and agent's names; ``add_word {word}`` puts a word in the team's
dictionary (``word_added``), for every agent from their next check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contact_center.engine import Engine
from contact_center.exceptions import BadMessage
from contact_center.fields import require_text
from contact_center.mail import Direction
from contact_center.model import Channel, Contact
from contact_center.ports import DeskPorts
from contact_center.proofreading import Proofreader
from contact_center.reply_attachments import ReplyAttachments
from contact_center.reply_editing import ReplyEditor
from contact_center.reply_library import ReplyLibrary
from contact_center.store.base import ReplyStore, ReplyUse
from templates_responses.acknowledgement import office_hours, when

__all__ = ["DeskReplies", "Writing"]

_A_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass(frozen=True, slots=True)
class Writing:
    """What the desk writes with: the reply library and its editor, the checkers, and what the team keeps."""

    library: ReplyLibrary
    editor: ReplyEditor
    proofreader: Proofreader
    store: ReplyStore
    attachments: ReplyAttachments | None = None


_RECENT = 30  # messages looked back through for the customer's latest
_DRAFT_CHARS = 100_000
_MESSAGE_CHARS = (
    4000  # of an email, read for suggestions  # a draft checked (the rules read its first 20,000 characters)
)


def _utf16(text: str) -> Callable[[int], int]:
    """Where a character of ``text`` is in the browser's strings (UTF-16 units: an emoji counts two)."""
    if text.isascii():
        return lambda i: i
    return lambda i: len(text[:i].encode("utf-16-le")) // 2


class DeskReplies:
    """The reply requests of one desk socket (``agent`` gives its signed-in agent's id)."""

    def __init__(
        self, engine: Engine, ports: DeskPorts, writing: Writing, send: Callable[[dict[str, Any]], None],
        agent: Callable[[], str | None],
    ) -> None:  # fmt: skip
        self._engine = engine
        self._ports = ports
        self._library = writing.library
        self._editor = writing.editor
        self._proofreader = writing.proofreader
        self._store = writing.store
        self._send = send
        self._agent = agent

    @property
    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Coroutine[Any, Any, None]]]:
        """Made when asked, not kept: an object holding its own bound methods is a reference cycle."""
        return {
            "suggest": self.suggest,
            "find_replies": self.find,
            "reply_used": self.used,
            "check_draft": self.check_draft,
            "add_word": self.add_word,
        }

    def _held(self, msg: dict[str, Any]) -> tuple[str, Contact]:
        agent_id = self._agent()
        assert agent_id is not None
        return agent_id, self._engine.held(agent_id, require_text("contact_id", msg.get("contact_id"), 64))

    async def _latest(self, contact: Contact) -> str:
        """What the customer wrote last: a chat's latest message of theirs; an email's latest mail (its new
        text, without what it quotes), after its subject."""
        if contact.channel == Channel.EMAIL:
            mails = [m for m in await self._ports.log.mails_of(contact.id) if m.direction == Direction.IN]
            if not mails:
                return contact.subject
            summary = mails[-1].summary
            text = str(summary.get("visible_text") or summary.get("text") or "")
            return f"{summary.get('subject') or contact.subject}\n{text}"[:_MESSAGE_CHARS]
        if contact.channel != Channel.CHAT:
            return contact.subject
        messages = await self._ports.log.messages(contact.id, max(0, contact.last_seq - _RECENT))
        return next((m.data.get("text", "") for m in reversed(messages) if m.actor == "customer"), "")

    async def _values(self, agent_id: str, contact: Contact, language: str = "") -> dict[str, str]:
        """What the engine fills in a reply for this contact (see :data:`templates_responses.replies.VARIABLES`)."""
        customer = await self._ports.log.get_customer(contact.customer_id)
        config, now = self._engine.config, self._ports.clock.now()
        calendar, language = config.sla.calendar, language or self._library.languages[0]
        values = {"agent_name": self._engine.agent(agent_id).display_name, "ticket": contact.ticket,
                  "office_hours": office_hours(calendar.week, language), "company": config.desk.company}  # fmt: skip
        if customer is not None and customer.name:
            values["customer_name"] = customer.name
        if contact.channel == Channel.EMAIL and contact.answered_at is None:
            due = config.email.promise.due(calendar, contact.created_at)
            values["answer_by"] = when(datetime.fromtimestamp(due, calendar.zone), language)
        if not calendar.is_open(now):
            values["opens_at"] = when(datetime.fromtimestamp(calendar.add(now, 0), calendar.zone), language)
        return {k: v for k, v in values.items() if v}

    async def suggest(self, msg: dict[str, Any]) -> None:
        agent_id, contact = self._held(msg)
        message = await self._latest(contact)
        language = self._library.language_of(contact.skills, message)
        values = await self._values(agent_id, contact, language)
        replies = await self._library.suggest(self._engine.agent(agent_id), message, language, values)
        self._send({"type": "suggestions", "contact_id": contact.id, "language": language, "replies": replies})

    async def find(self, msg: dict[str, Any]) -> None:
        agent_id, contact = self._held(msg)
        query = require_text("query", msg.get("query", ""), 64, allow_empty=True).lstrip("/:")
        language = self._library.language_of(contact.skills, await self._latest(contact))
        values = await self._values(agent_id, contact, language)
        replies = await self._library.find(self._engine.agent(agent_id), query, language, values)
        self._send({"type": "replies_found", "contact_id": contact.id, "query": msg.get("query", ""),
                    "replies": replies})  # fmt: skip

    async def check_draft(self, msg: dict[str, Any]) -> None:
        """The checkers over a draft: ``draft_checked`` with the findings, in the browser's offsets."""
        agent_id, contact = self._held(msg)
        text = require_text("text", msg.get("text", ""), _DRAFT_CHARS, allow_empty=True)
        language = self._library.language_of(contact.skills, text)
        channel = "email" if contact.channel == Channel.EMAIL else "chat"
        keep = [*await self._store.team_words(), *self._names(await self._values(agent_id, contact))]
        at = _utf16(text)
        findings = [
            {"start": at(f.start), "end": at(f.end), "rule": f.rule, "fixes": list(f.fixes), "message": f.message,
             "word": text[f.start : f.end] if f.rule == "spelling" else ""}
            for f in await self._proofreader.check(text, language, channel, keep)
        ]  # fmt: skip
        self._send({"type": "draft_checked", "contact_id": contact.id, "text": text, "language": language,
                    "findings": findings})  # fmt: skip

    @staticmethod
    def _names(values: dict[str, str]) -> list[str]:
        return [w for key in ("customer_name", "agent_name") for w in _A_WORD.findall(values.get(key, ""))]

    async def add_word(self, msg: dict[str, Any]) -> None:
        """A word for the team's dictionary: one word (letters, inner hyphens or apostrophes), as written."""
        agent_id = self._agent()
        assert agent_id is not None
        word = require_text("word", msg.get("word"), 64).strip()
        if not _A_WORD.fullmatch(word):
            raise BadMessage(
                "word: one word of letters, with hyphens or apostrophes inside",
                "invalid_field",
                field="word",
                problem="not_a_word",
            )
        added = await self._store.add_word(word, agent_id, self._ports.clock.now())
        self._send({"type": "word_added", "word": word, "new": added})

    async def used(self, msg: dict[str, Any]) -> None:
        agent_id, contact = self._held(msg)
        reply_id = require_text("reply_id", msg.get("reply_id"), 64)
        message = await self._latest(contact)
        language = self._library.language_of(contact.skills, message)
        use = ReplyUse(reply_id, agent_id, contact.id, message, language, self._ports.clock.now())
        await self._editor.used(use)
