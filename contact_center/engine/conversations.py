"""Conversations: a chat on both sides (the customer's messages, the agent's replies), its end and wrap-up.

Messages are appended without the lock: the store numbers them in each conversation, and
what a socket has in flight shares one commit. The sender is answered once its message is
durable, then both sides are told (:class:`~.units.Written`). Opening a chat is a unit of
work like any other change, joined by a message of the same customer that comes meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

import structlog

from contact_center import topics
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.chat_files import ChatFiles
from contact_center.engine.moves import Moves
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.timers import Timers
from contact_center.engine.units import Answer, Written, answer_future
from contact_center.engine.work import Work
from contact_center.events import Ended, MessagePosted, NoteAdded, Read, Typing
from contact_center.exceptions import ClientError, Conflict, Forbidden
from contact_center.fields import require_text
from contact_center.files import ChatFile
from contact_center.model import Channel, Contact, ContactState, HistoryEvent
from contact_center.store import ContactStore

__all__ = ["Conversations"]

log = structlog.get_logger("contact_center.engine")

Worth = Callable[[str], Awaitable[float]]  # a customer's value, from the record
_SUBJECT_CHARS = 200


def _tell_written(done: Written, written: asyncio.Future[tuple[HistoryEvent, bool]]) -> None:
    """A message with files is written (or not): ``done`` as for any posted message."""
    if written.cancelled():
        done(asyncio.CancelledError())
        return
    failed = written.exception()
    done(failed if failed is not None else written.result())


class Conversations:
    """Chats on both sides, and the end of any contact (see the module's docstring)."""

    def __init__(
        self,
        work: Work,
        replica: Replica,
        moves: Moves,
        timers: Timers,
        signals: Signals,
        store: ContactStore,
        clock: Clock,
        config: Config,
        worth: Worth,
        files: ChatFiles,
    ) -> None:
        self._files = files
        self._work = work
        self._replica = replica
        self._moves = moves
        self._signals = signals
        self._store = store
        self._clock = clock
        self._config = config
        self._worth = worth
        self._contacts = replica.contacts  # read on every message: one look-up fewer
        timers.handle("wrap", self._wrap_up_over)

    # ---------------------------------------------------------------- the customer's side

    def chat_skills(self, topic: str, language: str) -> list[tuple[str, int]]:
        """The skills a chat needs: the topic's, then the language as ``lang_<code>``."""
        topics = self._config.webchat.topics
        if topic not in topics:
            raise ClientError(f"topic: unknown topic {topic!r} (one of {', '.join(topics)})", "invalid_field")
        if language not in self._config.webchat.languages:
            langs = ", ".join(self._config.webchat.languages)
            raise ClientError(f"language: unknown language {language!r} (one of {langs})", "invalid_field")
        return [*topics[topic].skills, (f"lang_{language}", 1)]

    def customer_writes(
        self,
        customer_id: str,
        text: object,
        client_id: object,
        answer: Answer,
        topic: str = "general",
        language: str = "en",
        files: object = None,
    ) -> Contact | Awaitable[Contact | None]:
        """A customer's chat message: the one way in, whether it goes into their open chat or opens one.

        ``answer`` is told the recorded message (or what stopped it) once it is durable, before
        anyone else hears of it. Into an open chat, the message is staged and the chat returned at
        once: a socket reads on meanwhile, so the messages a client has in flight share one commit.
        A message that opens a chat returns an awaitable of the new chat (None if it could not be
        opened: ``answer`` was told why), to be awaited before the customer's next message (which
        then joins it). A repeat of ``client_id`` is answered with
        the message first recorded and changes nothing. Bad fields raise at once. A message may
        carry ``files`` the customer uploaded (their ids; its text may then be empty): it is
        then always awaited, as the files are looked up first.
        """
        with_files = files is not None and files != []
        text = require_text("text", text if text is not None or not with_files else "",
                            self._config.webchat.max_message_chars, allow_empty=with_files)  # fmt: skip
        client_id = require_text("client_id", client_id, 64)
        if with_files:
            return self._write_with_files(customer_id, text, client_id, answer, files, topic, language)
        contact = self._replica.open_chat(customer_id)
        if contact is not None:
            # Appending to an open conversation needs no lock: the store numbers messages.
            self._post(contact, "customer", text, client_id, answer)
            return contact
        skills = self.chat_skills(topic, language)
        return self._open_chat(customer_id, text, client_id, answer, skills, topic, language)

    async def _write_with_files(
        self,
        customer_id: str,
        text: str,
        client_id: str,
        answer: Answer,
        files: object,
        topic: str,
        language: str,
    ) -> Contact | None:
        try:
            described = await self._files.described(customer_id, files)
            contact = self._replica.open_chat(customer_id)
            skills = self.chat_skills(topic, language) if contact is None else []
        except Exception as exc:  # told to the sender alone
            answer(exc)
            return None
        if contact is not None:
            self._post(contact, "customer", text, client_id, answer, described)
            return contact
        return await self._open_chat(customer_id, text, client_id, answer, skills, topic, language, described)

    async def customer_message(
        self,
        customer_id: str,
        text: object,
        client_id: object,
        *,
        topic: str = "general",
        language: str = "en",
        files: object = None,
    ) -> tuple[Contact, HistoryEvent]:
        """:meth:`customer_writes`, waiting until the message is durable: the chat it is in, and the message."""
        future, answer = answer_future()
        written = self.customer_writes(customer_id, text, client_id, answer, topic=topic, language=language,
                                       files=files)  # fmt: skip
        contact = written if isinstance(written, Contact) else await written
        event = await future  # what stopped it, if anything, is raised here
        assert contact is not None
        return contact, event

    def customer_read(self, customer_id: str, contact_id: object, seq: object) -> None:
        """The customer saw their open chat up to ``seq``: its agent is told (nothing is stored)."""
        contact = self._replica.open_chat(customer_id)
        if contact is None or contact.id != contact_id:
            raise Forbidden(f"contact {contact_id!r} is not your open chat")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq <= contact.last_seq:
            raise ClientError("seq: must be the number of a message of the chat", "invalid_field", field="seq")
        if contact.agent_id:
            self._work.publish(topics.agent(contact.agent_id), Read(contact.id, seq))

    def customer_typing(self, customer_id: str) -> None:
        contact = self._replica.open_chat(customer_id)
        if contact is not None and contact.agent_id:
            self._work.publish(topics.agent(contact.agent_id), Typing(contact.id))

    async def customer_left(self, customer_id: str) -> Contact | None:
        """The customer ended the chat: abandoned if no agent had it yet."""

        def leave() -> Contact | None:
            contact = self._replica.open_chat(customer_id)
            if contact is not None:
                self._moves.customer_left(contact)
            return contact

        contact = await self._work.run(leave)
        if contact is not None:
            self._work.publish(topics.customer(customer_id), Ended(contact.id, "customer"))
            self._signals.queue_changed()
        return contact

    async def _open_chat(
        self,
        customer_id: str,
        text: str,
        client_id: str,
        answer: Answer,
        skills: list[tuple[str, int]],
        topic: str,
        language: str,
        files: Sequence[Mapping[str, Any]] = (),
    ) -> Contact | None:
        """Open a chat with its first message (or join one opened meanwhile); ``answer`` is told as for any message."""
        try:
            value = await self._worth(customer_id)

            def open_or_join() -> tuple[Contact, Awaitable[tuple[HistoryEvent, bool]] | None]:
                found = self._replica.open_chat(customer_id)
                if found is not None:
                    return found, None
                return self._new_chat(customer_id, value, text, client_id, skills, topic, language, files)

            contact, first = await self._work.run(open_or_join)
            if first is None:  # another message of this customer's opened it first
                self._post(contact, "customer", text, client_id, answer, files)
                return contact
            try:
                event, _ = await first
            except BaseException:
                self._replica.drop(contact)  # not recorded: it never was
                raise
        except Exception as exc:  # told to the sender alone, like a message that could not be recorded
            answer(exc)
            return None
        self._replica.known_version(f"contact:{contact.id}", contact.version)
        self._signals.queue_changed()
        answer(event)  # the sender first, as for every message
        self._publish_message(contact, event)
        return contact

    def _new_chat(
        self,
        customer_id: str,
        value: float,
        text: str,
        client_id: str,
        skills: list[tuple[str, int]],
        topic: str,
        language: str,
        files: Sequence[Mapping[str, Any]] = (),
    ) -> tuple[Contact, Awaitable[tuple[HistoryEvent, bool]]]:
        """A new chat and its first message, written together (the store announces the new record)."""
        now = self._clock.now()
        node = self._work.node_id  # the customer's socket is here
        # A chat's subject is its first message (cut short): what an offer shows without a read of the store.
        subject = (text or ", ".join(str(f["name"]) for f in files))[:_SUBJECT_CHARS]
        contact = Contact.arriving(Channel.CHAT, customer_id, skills, value, now, last_seq=1, version=1, node=node,
                                   customer_node=node, subject=subject)  # fmt: skip
        created = self._work.event(contact, "contact.created", "customer", topic=topic, language=language)
        first = self._store.add_message(contact, "customer", text, client_id, now, [created], create=True,
                                        files=files)  # fmt: skip
        self._replica.apply(contact)
        log.info("contact.created", contact_id=contact.id, channel="chat", customer_id=customer_id)
        return contact, first

    # ---------------------------------------------------------------- the agent's side

    def agent_writes(self, agent_id: str, contact_id: str, text: object, client_id: object, answer: Answer) -> None:
        """The agent's chat reply, the one way in: staged at once, ``answer`` told once it is durable."""
        text = require_text("text", text, self._config.webchat.max_message_chars)
        client_id = require_text("client_id", client_id, 64)
        contact = self._replica.held(agent_id, contact_id, ContactState.ASSIGNED)
        self._post(contact, f"agent:{agent_id}", text, client_id, answer)

    async def agent_sends(
        self, agent_id: str, contact_id: str, text: object, client_id: object, files: Sequence[ChatFile], answer: Answer
    ) -> None:
        """The agent's chat reply with ``files`` (a pre-written reply's, with their bytes): each given to the
        customer first, then the message staged naming them; its text may be empty."""
        text = require_text("text", text if text is not None else "", self._config.webchat.max_message_chars,
                            allow_empty=bool(files))  # fmt: skip
        client_id = require_text("client_id", client_id, 64)
        contact = self._replica.held(agent_id, contact_id, ContactState.ASSIGNED)
        key = f"{contact_id}:{client_id}"
        given = [(await self._files.give(contact.customer_id, f, key)).described() for f in files]
        contact = self._replica.held(agent_id, contact_id, ContactState.ASSIGNED)  # still, after the wait
        self._post(contact, f"agent:{agent_id}", text, client_id, answer, given)

    async def agent_reply(self, agent_id: str, contact_id: str, text: object, client_id: object) -> HistoryEvent:
        """:meth:`agent_writes`, waiting until the reply is durable."""
        future, answer = answer_future()
        self.agent_writes(agent_id, contact_id, text, client_id, answer)
        return await future

    def agent_typing(self, agent_id: str, contact_id: str) -> None:
        contact = self._replica.held(agent_id, contact_id, ContactState.ASSIGNED)
        self._work.publish(topics.customer(contact.customer_id), Typing(contact_id))

    async def transcript(self, agent_id: str, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]:
        contact = self._replica.contacts.get(contact_id)
        offered = contact is not None and contact.offer is not None and contact.offer.agent_id == agent_id
        if contact is None or (contact.agent_id != agent_id and not offered):
            raise Forbidden(f"contact {contact_id!r} is not yours")
        return await self._store.messages(contact_id, after_seq)

    # ---------------------------------------------------------------- the end of a contact

    async def close(self, agent_id: str, contact_id: str, disposition: str) -> Contact:
        """The agent ends a contact with a disposition; wrap-up time follows."""
        if disposition not in self._config.desk.dispositions:
            choices = ", ".join(self._config.desk.dispositions)
            raise ClientError(f"disposition: must be one of {choices}, got {disposition!r}", "invalid_field")

        def wrap() -> tuple[Contact, bool]:
            held = self._replica.held(agent_id, contact_id)
            if held.state == ContactState.WRAP_UP:  # wrapping up already (the customer left, say): done, with this
                done = dataclasses.replace(held, disposition=disposition)
                self._work.put(done, "contact.disposition", f"agent:{agent_id}", disposition=disposition)
                self._moves.finish_wrap_up(contact_id)
                return done, True
            return self._moves.wrap_up(held, disposition, f"agent:{agent_id}"), False

        contact, finished = await self._work.run(wrap)
        if finished:  # finished now: told by the move
            self._signals.queue_changed()
            return contact
        self._work.publish(topics.customer(contact.customer_id), Ended(contact.id, "agent"))
        return contact

    async def rate(self, customer_id: str, contact_id: object, score: object, comment: object = "") -> Contact:
        """The customer's satisfaction with a chat of theirs that ended: 1 to 5, and a comment; once."""
        cid = require_text("contact_id", contact_id, 64)
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise ClientError("score: must be a whole number from 1 to 5", "invalid_field", field="score")
        said = require_text("comment", comment if comment is not None else "", 1000, allow_empty=True)
        found = self._replica.contacts.get(cid) or await self._store.get_contact(cid)
        if found is None or found.customer_id != customer_id or found.channel != Channel.CHAT:
            raise Forbidden(f"contact {cid!r} is not a chat of yours")

        def record() -> Contact:
            contact = self._replica.contacts.get(cid) or found
            if (
                contact.state in (ContactState.QUEUED, ContactState.OFFERED, ContactState.ASSIGNED)
                and not contact.left_at
            ):
                raise ClientError("the chat has not ended: rate it once it has", "invalid_transition")
            if contact.rating is not None:
                raise Conflict(f"chat {cid} was rated already")
            rated = dataclasses.replace(contact, rating=score)
            self._work.put(rated, "rating", "customer", score=score, comment=said.strip())
            return rated

        return await self._work.run(record)

    async def add_note(self, agent_id: str, contact_id: str, text: object) -> NoteAdded:
        """An internal note on a contact the agent holds: in its history, for agents only."""
        note = require_text("text", text, self._config.webchat.max_message_chars)

        def write() -> NoteAdded:
            held = self._replica.held(agent_id, contact_id)
            self._work.note(held, "note", f"agent:{agent_id}", text=note)
            return NoteAdded(contact_id, agent_id, note, self._clock.now())

        added = await self._work.run(write)
        self._work.publish(topics.agent(agent_id), added)  # every tab of the agent's
        return added

    async def _wrap_up_over(self, contact_id: str) -> None:
        await self._work.run(partial(self._moves.finish_wrap_up, contact_id))
        self._signals.queue_changed()

    # ---------------------------------------------------------------- messages

    def _post(
        self,
        contact: Contact,
        actor: str,
        text: str,
        client_id: str,
        answer: Answer,
        files: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Stage a message; once durable, answer its sender, then tell everyone else (a repeat again)."""
        done = Written(self._tell_message, contact, answer)
        if not files:
            self._store.post_message(contact, actor, text, client_id, self._clock.now(), done)
            return
        written = self._store.add_message(contact, actor, text, client_id, self._clock.now(), files=files)
        written.add_done_callback(partial(_tell_written, done))

    def _tell_message(self, contact: Contact, event: HistoryEvent) -> None:
        """A new message is durable: keep the conversation's number, and publish it to both sides."""
        current = self._contacts.get(contact.id, contact)
        current.last_seq = max(current.last_seq, event.seq or 0)
        self._publish_message(current, event)

    def _publish_message(self, contact: Contact, event: HistoryEvent) -> None:
        """Publish a durable message (outside any unit: it is told at once)."""
        posted, publish = MessagePosted(event), self._work.publish_now
        publish(topics.customer(contact.customer_id), posted)
        if contact.agent_id:
            publish(topics.agent(contact.agent_id), posted)
