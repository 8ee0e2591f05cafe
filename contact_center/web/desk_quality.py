"""Quality monitoring at the desk: supervisors review finished conversations, agents read their reviews.

- ``quality_sample`` (supervisors): this week's sample, ``[quality] sample_per_agent`` contacts each agent
  handled and closed, the same for every supervisor all week, each marked with its review if it has one.
- ``review_open`` {contact_id} (supervisors): a finished conversation whole (the contact, its customer, a
  chat's messages, an email's mails, the contact's own history: a call's record), the form, its review.
- ``review_save`` {contact_id, scores, comment} (supervisors): every criterion scored 1 to the scale; the
  agent's desks are told at once (``review_added``) and the review is theirs to read (``my_reviews``).
- ``my_reviews``: an agent's own reviews, newest first.

Protocol in docs/protocol.md.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, time
from typing import Any, Protocol

from channels.wire import Wire, event_json, message_json
from contact_center import topics
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine import Engine
from contact_center.events import ChannelNews, Event
from contact_center.exceptions import ClientError, Forbidden, NotFound
from contact_center.fields import require_text
from contact_center.model import Channel, ContactState
from contact_center.quality import Review, weekly_sample
from contact_center.sla import Period, period_start
from contact_center.store import Store
from contact_center.web.mail_json import mail_json

__all__ = ["DeskQuality"]

Handler = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


class Publisher(Protocol):
    def publish(self, topic: str, message: Event) -> None: ...


_COMMENT_MAX = 4000


class DeskQuality:
    """One desk socket's quality requests (``who``: its signed-in user and whether a supervisor)."""

    def __init__(
        self, engine: Engine, store: Store, config: Config, wire: Wire, clock: Clock, bus: Publisher,
        send: Callable[[dict[str, Any]], None], who: Callable[[], tuple[str | None, bool | None]],
    ) -> None:  # fmt: skip
        self._engine, self._store, self._config, self._wire = engine, store, config, wire
        self._clock, self._bus = clock, bus
        self._send, self._who = send, who

    @property
    def handlers(self) -> dict[str, Handler]:
        """Made when asked, not kept: an object holding its own bound methods is a reference cycle."""
        return {
            "quality_sample": self.sample,
            "review_open": self.open,
            "review_save": self.save,
            "my_reviews": self.mine,
        }

    def _supervisor(self) -> str:
        user, supervisor = self._who()
        if user is None or not supervisor:
            raise Forbidden("only a supervisor may review conversations")
        return user

    def _name(self, agent_id: str) -> str:
        try:
            return self._engine.agent(agent_id).display_name
        except KeyError:
            return agent_id

    async def sample(self, msg: dict[str, Any]) -> None:
        self._supervisor()
        calendar, now = self._config.sla.calendar, self._clock.now()
        monday = period_start(calendar.local_date(now), Period.WEEK)
        since = datetime.combine(monday, time(), calendar.zone).timestamp()
        facts = await self._store.contact_facts(since, now + 1)
        done = (facts.state == ContactState.CLOSED.value) & (facts.agent != "")
        handled = list(zip(facts.id[done].tolist(), facts.agent[done].tolist(), strict=True))
        channel_of = dict(zip(facts.id.tolist(), facts.channel.tolist(), strict=True))
        picked = weekly_sample(monday.isoformat(), handled, self._config.quality.sample_per_agent)
        agents = []
        for agent_id, ids in picked.items():
            reviews = [await self._store.review_of(cid) for cid in ids]
            contacts = [{"id": cid, "channel": channel_of[cid], "review": None if r is None else r.to_json()}
                        for cid, r in zip(ids, reviews, strict=True)]  # fmt: skip
            agents.append({"agent_id": agent_id, "name": self._name(agent_id), "contacts": contacts})
        self._send({"type": "quality_sample", "week": monday.isoformat(), "agents": agents})

    async def _finished(self, contact_id: str) -> Any:
        contact = await self._store.get_contact(contact_id)
        if contact is None:
            raise NotFound(f"no contact {contact_id!r}")
        if contact.state not in (ContactState.CLOSED, ContactState.ABANDONED) or not contact.agent_id:
            raise ClientError(
                f"contact_id: {contact_id!r} is {contact.state.value}; a review is of a conversation an agent"
                " finished", "invalid_state", field="contact_id",
            )  # fmt: skip
        return contact

    async def open(self, msg: dict[str, Any]) -> None:
        self._supervisor()
        contact = await self._finished(require_text("contact_id", msg.get("contact_id"), 64))
        customer = await self._store.get_customer(contact.customer_id)
        messages = await self._store.messages(contact.id)
        mails = await self._store.mails_of(contact.id) if contact.channel == Channel.EMAIL else []
        events = [e for e in await self._store.history(contact.customer_id) if e.contact_id == contact.id]
        review = await self._store.review_of(contact.id)
        self._send({
            "type": "review_open", "contact": self._wire.contact(contact),
            "customer": None if customer is None else self._wire.customer(customer),
            "agent_name": self._name(contact.agent_id or ""),
            "messages": [message_json(m) for m in messages], "mails": [mail_json(m) for m in mails],
            "events": [event_json(e) for e in reversed(events) if e.seq is None],
            "form": self._config.quality.form.to_json(), "review": None if review is None else review.to_json(),
        })  # fmt: skip

    async def save(self, msg: dict[str, Any]) -> None:
        reviewer = self._supervisor()
        contact = await self._finished(require_text("contact_id", msg.get("contact_id"), 64))
        form = self._config.quality.form
        try:
            scores = form.check(msg.get("scores"))
        except ValueError as exc:
            raise ClientError(str(exc), "invalid_field", field="scores") from None
        comment = msg.get("comment", "")
        if not isinstance(comment, str) or len(comment) > _COMMENT_MAX:
            raise ClientError(f"comment: text of at most {_COMMENT_MAX} characters", "invalid_field", field="comment")
        assert contact.agent_id is not None
        review = Review(
            contact.id, contact.agent_id, reviewer, self._clock.now(), contact.channel.value, scores,
            form.score(scores), comment.strip(), self._name(reviewer),
        )  # fmt: skip
        await self._store.put_review(review)
        told = {"type": "review_added", "review": review.to_json()}
        self._bus.publish(topics.agent(contact.agent_id), ChannelNews(told))
        self._send({"type": "review_saved", "review": review.to_json()})

    async def mine(self, msg: dict[str, Any]) -> None:
        user, _ = self._who()
        assert user is not None
        reviews = await self._store.reviews_of(user)
        self._send({"type": "my_reviews", "reviews": [r.to_json() for r in reviews],
                    "form": self._config.quality.form.to_json()})  # fmt: skip
