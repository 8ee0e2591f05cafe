"""The moves of a contact's record that several services make: back to the queue, abandoned, closed.

Each is staged within the caller's unit of work (:mod:`.work`); none commits or waits. An
offer goes back when the agent declines it, lets it lapse, goes away or loses its desk; an
assigned contact goes back when its agent is gone; a wrap-up ends by its timer or when the
agent is gone; a contact is abandoned when the customer leaves before an agent has it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import structlog

from contact_center import topics
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.replica import Replica
from contact_center.engine.state import AgentRuntime
from contact_center.engine.work import Work
from contact_center.events import AgentLeft, ContactStateChanged, CustomerLeft, OfferClosed
from contact_center.model import Contact, ContactState, Offer

__all__ = ["Moves"]

log = structlog.get_logger("contact_center.engine")


class Moves:
    """Contact moves shared by the services (see the module's docstring)."""

    def __init__(self, work: Work, replica: Replica, clock: Clock, config: Config) -> None:
        self._work = work
        self._replica = replica
        self._clock = clock
        self._config = config

    def return_offer(self, contact: Contact, reason: str, *, declined: bool) -> None:
        """Put an offered contact back in the queue at its original place.

        ``declined``: the agent rejected it or let the offer lapse, so it is not offered there again.
        """
        offer = contact.offer
        assert offer is not None
        back = dataclasses.replace(contact, offer=None)
        back.move(ContactState.QUEUED)
        if declined and offer.agent_id not in back.declined:
            back.declined = (*back.declined, offer.agent_id)
        self._work.put(back, "contact.requeued", "system", agent_id=offer.agent_id, reason=reason)
        self.offer_closed(offer, reason)
        log.info("offer.returned", contact_id=contact.id, agent_id=offer.agent_id, reason=reason)

    def offer_closed(self, offer: Offer, reason: str) -> None:
        self._work.publish(topics.agent(offer.agent_id), OfferClosed(offer.id, offer.contact_id, reason))

    def return_offers(self, rt: AgentRuntime, reason: str) -> None:
        """Every offer the agent has open goes back to the queue (not declined: it may come again)."""
        for offer in list(rt.offers.values()):
            self.return_offer(self._replica.contacts[offer.contact_id], reason, declined=False)

    def requeue(self, contact: Contact, reason: str) -> None:
        """An assigned contact goes back to the queue: its agent is gone."""
        agent_id = contact.agent_id
        back = dataclasses.replace(contact, agent_id=None)
        back.move(ContactState.QUEUED)
        self._work.put(back, "contact.requeued", "system", agent_id=agent_id, reason=reason)
        self._work.publish(topics.customer(contact.customer_id), AgentLeft(contact.id))

    def abandon(self, contact: Contact) -> None:
        """The customer left before an agent had the contact."""
        offer = contact.offer
        ended = dataclasses.replace(contact, offer=None, closed_at=self._clock.now())
        ended.move(ContactState.ABANDONED)
        self._work.put(ended, "contact.abandoned", "customer")
        if offer is not None:
            self.offer_closed(offer, "abandoned")

    def customer_left(self, contact: Contact) -> None:
        """The customer left the chat: abandoned if no agent has it; else it goes to wrap-up, its agent told.

        Nobody reads a reply any more, so the reply box closes; the agent may give a disposition
        meanwhile (``close``), or the wrap-up ends by itself. The customer's next message opens a new chat.
        """
        if contact.state != ContactState.ASSIGNED:
            self.abandon(contact)
            return
        self._work.publish(topics.agent(contact.agent_id or ""), CustomerLeft(contact.id))
        self.talk_over(contact, "customer.left", "customer")

    def talk_over(self, contact: Contact, kind: str, actor: str, **data: Any) -> Contact:
        """The assigned ``contact``'s conversation is over (the customer gone, a call hung up): wrap-up follows,
        its agent told; the agent may give the disposition meanwhile (``close``)."""
        rt = self._replica.agents.get(contact.agent_id or "")
        wrap_s = rt.agent.wrap_up_s if rt is not None else self._config.desk.default_wrap_up_s
        now = self._clock.now()
        left = dataclasses.replace(contact, left_at=now, gone_at=None, wrap_until=now + wrap_s)
        left.move(ContactState.WRAP_UP)
        self._work.put(left, kind, actor, **data)
        self._work.publish(topics.agent(contact.agent_id or ""), ContactStateChanged(contact.id, "wrap_up", wrap_s))
        return left

    def wrap_up(self, contact: Contact, disposition: str, actor: str, **data: Any) -> Contact:
        """The agent holding ``contact`` is done with it: wrap-up for the agent's wrap-up time, the agent told."""
        rt = self._replica.agents.get(contact.agent_id or "")
        wrap_s = rt.agent.wrap_up_s if rt is not None else self._config.desk.default_wrap_up_s
        ended = dataclasses.replace(contact, disposition=disposition, wrap_until=self._clock.now() + wrap_s)
        ended.move(ContactState.WRAP_UP)
        self._work.put(ended, "contact.wrap_up", actor, disposition=disposition, **data)
        self._work.publish(topics.agent(contact.agent_id or ""), ContactStateChanged(contact.id, "wrap_up", wrap_s))
        return ended

    def finish_wrap_up(self, contact_id: str) -> None:
        """The contact's wrap-up is over: closed, and its agent idle from now if it holds nothing else."""
        held = self._replica.contacts.get(contact_id)
        if held is None or held.state != ContactState.WRAP_UP:
            return
        contact = dataclasses.replace(held, closed_at=self._clock.now(), wrap_until=None)
        contact.move(ContactState.CLOSED)
        self._work.put(contact, "contact.closed", "system", disposition=contact.disposition)
        rt = self._replica.agents.get(contact.agent_id or "")
        if rt is not None:
            if not rt.held:
                self._work.set_presence(rt, idle_since=self._clock.now())
            self._work.publish(topics.agent(rt.agent.id), ContactStateChanged(contact_id, "closed"))

    def gone_for_now(self, rt: AgentRuntime, reason: str) -> None:
        """No desk of the agent is left: its offers go back; held contacts wait out the grace period."""
        self.return_offers(rt, reason)
        self._work.set_presence(rt, grace_until=self._clock.now() + self._config.desk.reconnect_grace_s)
