"""Transfers: an agent hands a contact it holds to a colleague, or back to the queue for another skill.

To a colleague, the contact is offered to them at once (they accept or reject it like any offer;
rejected or lapsed, it waits in the queue at its place). To the queue, it needs the skill named
instead of its topic's (a chat keeps its language), and it keeps its place: the customer has
waited already. Either way the agent who handed it on is not offered it again, and the customer
is told the agent left (``agent_left``) until someone joins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import structlog

from contact_center import topics
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.replica import Replica
from contact_center.engine.signals import Signals
from contact_center.engine.state import AgentRuntime, may_take
from contact_center.engine.work import Work
from contact_center.events import AgentLeft, ContactStateChanged
from contact_center.exceptions import ClientError
from contact_center.model import Contact, ContactState

__all__ = ["Transfers", "transfer_skills"]

log = structlog.get_logger("contact_center.engine")

OfferTo = Callable[[str, str, float], None]  # (contact id, agent id, now): an offer staged in the unit


def transfer_skills(config: Config) -> list[str]:
    """The skills a contact may be transferred to: those the deployment's topics and mailboxes ask for."""
    named = {s for topic in config.webchat.topics.values() for s, _ in topic.skills}
    named |= {s for box in config.email.mailboxes for s, _ in box.skills}
    return sorted(named)


def _needing(contact: Contact, skill: str) -> list[tuple[str, int]]:
    """The contact's skills with ``skill`` instead of its topic's: a chat keeps its language."""
    return [(skill, 1), *((s, n) for s, n in contact.skills if s.startswith("lang_"))]


class Transfers:
    """Handing contacts on (see the module's docstring)."""

    def __init__(
        self, work: Work, replica: Replica, signals: Signals, clock: Clock, config: Config, offer_to: OfferTo
    ) -> None:
        self._work = work
        self._replica = replica
        self._signals = signals
        self._clock = clock
        self._skills = set(transfer_skills(config))
        self._offer_to = offer_to

    async def to_agent(self, agent_id: str, contact_id: str, colleague_id: object, by: str = "") -> Contact:
        """Offer a held contact to ``colleague_id``, who must be available with room for its channel.

        ``by``: the supervisor who moved it (the history says so), else its agent handed it on.
        """

        def hand() -> Contact:
            held = self._replica.held(agent_id, contact_id, ContactState.ASSIGNED)
            rt = self._taker(colleague_id, held, agent_id)
            back = self._released(held, agent_id, held.skills, by, to=rt.agent.id)
            self._offer_to(back.id, rt.agent.id, self._clock.now())
            return back

        return await self._handed(agent_id, await self._work.run(hand))

    def _taker(self, colleague_id: object, contact: Contact, not_id: str = "") -> AgentRuntime:
        rt = self._replica.agents.get(colleague_id) if isinstance(colleague_id, str) else None
        if rt is None or colleague_id == not_id:
            raise ClientError(f"agent_id: {colleague_id!r} is not a colleague", "invalid_field", field="agent_id")
        channel = contact.channel.value
        if not may_take(rt, channel):
            raise ClientError(
                f"agent_id: {rt.agent.username} is not available for a {channel} now",
                "invalid_field",
                field="agent_id",
                problem="not_available",
            )
        return rt

    def _skill(self, skill: object) -> str:
        if skill not in self._skills:
            choices = ", ".join(sorted(self._skills))
            raise ClientError(f"skill: must be one of {choices}, got {skill!r}", "invalid_field", field="skill")
        assert isinstance(skill, str)
        return skill

    async def to_queue(self, agent_id: str, contact_id: str, skill: object, by: str = "") -> Contact:
        """Back to the queue at its place, needing ``skill`` instead of its topic's skills."""
        wanted = self._skill(skill)

        def hand() -> Contact:
            held = self._replica.held(agent_id, contact_id, ContactState.ASSIGNED)
            return self._released(held, agent_id, _needing(held, wanted), by, to_skill=wanted)

        contact = await self._handed(agent_id, await self._work.run(hand))
        self._signals.queue_changed()
        return contact

    async def move(self, by: str, contact_id: str, *, to_agent: object = None, skill: object = None) -> Contact:
        """A supervisor moves a contact: a held one as its agent would hand it on; a waiting one to an agent
        (offered to them now) or to another skill (at its place in the queue)."""
        contact = self._replica.contacts.get(contact_id)
        if contact is not None and contact.state == ContactState.ASSIGNED and contact.agent_id:
            if to_agent is not None:
                return await self.to_agent(contact.agent_id, contact_id, to_agent, by)
            return await self.to_queue(contact.agent_id, contact_id, skill, by)
        wanted = None if to_agent is not None else self._skill(skill)

        def shift() -> Contact:
            waiting = self._replica.contacts.get(contact_id)
            if waiting is None or waiting.state != ContactState.QUEUED:
                state = "closed" if waiting is None else waiting.state.value
                raise ClientError(
                    f"contact_id: {contact_id!r} is {state}; only a waiting or held contact can be moved",
                    "invalid_state",
                    field="contact_id",
                )
            if wanted is None:
                rt = self._taker(to_agent, waiting)
                moved = dataclasses.replace(waiting)
                self._work.put(moved, "contact.moved", f"supervisor:{by}", to=rt.agent.id)
                self._offer_to(moved.id, rt.agent.id, self._clock.now())
                return moved
            moved = dataclasses.replace(waiting, skills=_needing(waiting, wanted))
            self._work.put(moved, "contact.moved", f"supervisor:{by}", to_skill=wanted)
            return moved

        moved = await self._work.run(shift)
        log.info("contact.moved", contact_id=contact_id, by=by, to=to_agent, skill=wanted)
        self._signals.queue_changed()
        return moved

    def _released(self, held: Contact, agent_id: str, skills: list[tuple[str, int]], by: str, **to: str) -> Contact:
        back = dataclasses.replace(
            held,
            agent_id=None,
            skills=skills,
            declined=tuple(dict.fromkeys((*held.declined, agent_id))),
            wrap_until=None,
        )
        back.move(ContactState.QUEUED)
        actor = f"supervisor:{by}" if by else f"agent:{agent_id}"
        self._work.put(back, "contact.transferred", actor, **to, **({"from": agent_id} if by else {}))
        self._work.publish(topics.customer(held.customer_id), AgentLeft(held.id))
        log.info("contact.transferred", contact_id=held.id, agent_id=agent_id, **to)
        return back

    async def _handed(self, agent_id: str, contact: Contact) -> Contact:
        self._work.publish(topics.agent(agent_id), ContactStateChanged(contact.id, "transferred"))
        return contact
