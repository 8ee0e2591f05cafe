"""The replica: this node's copy of the records, and everything derived from them.

The records are the open contacts (with their offer) and the agents' presences. From them
the replica keeps the integrated queue, the open offers, each agent's load, what it holds and
is offered, the floor (the agents the router may offer work to now), each customer's open
chat and the timers a record needs. :meth:`Replica.apply` and :meth:`Replica.apply_presence`
are the only ways a record changes here, whether a unit of this node made it
(:mod:`.work`), another node announced it, or the store was read again; so what derives from
a record is always in line with it. Services read the replica and change it only through a
unit of work. Nothing here does I/O.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from typing import Final

from contact_center.channel_kinds import ChannelKinds
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.state import HELD, OPEN, AgentRuntime, has_room, is_open_chat
from contact_center.engine.timers import Timers
from contact_center.exceptions import NotFound, NotHeld
from contact_center.model import Agent, AgentStatus, Channel, Contact, ContactState, Offer, Presence
from contact_center.queue import AnswerPace, IntegratedQueue
from routing import AgentState

__all__ = ["Replica"]

# Versions of finished contacts kept, so that a late announcement from another node cannot revive one.
# Alone on its store a node hears no announcements: it keeps none (a soak's hour had kept 18,000).
SHARED_REMEMBERED: Final = 50_000
_CONTACT_TIMERS = ("offer", "wrap", "risk", "sla", "gone", "due")


class Replica:
    """The records as this node knows them (see the module's docstring).

    ``learn`` is told the id of an agent a record names but this node has no account of
    (created on another node), so that it is read from the store. ``remembered`` finished contacts'
    versions are kept (see :data:`SHARED_REMEMBERED`). Each callable in :attr:`applied` is told of
    every contact record applied, as it is.
    """

    def __init__(
        self,
        config: Config,
        clock: Clock,
        timers: Timers,
        kinds: ChannelKinds,
        *,
        learn: Callable[[str], None] | None,
        remembered: int = SHARED_REMEMBERED,
    ) -> None:
        self._clock = clock
        self._timers = timers
        self._learn = learn
        self._kinds = kinds
        self.contacts: dict[str, Contact] = {}  # open contacts, by id (the one dict, never replaced)
        self.agents: dict[str, AgentRuntime] = {}
        self.offers: dict[str, Offer] = {}  # open offers, by id
        self.floor: dict[str, AgentState] = {}  # agents able to take offers now
        self.queue = IntegratedQueue(kinds, config.routing.policy)
        # how fast each channel's waiting contacts are being answered (heard from every node)
        self.paces = {kind.channel: AnswerPace(kind.pace_window_s) for kind in kinds}
        self.chat_of: dict[str, str] = {}  # customer id -> its latest open chat's id
        self.scheduled: set[str] = set()  # contacts waiting for their time, out of the queue (statistics count them)
        self.held_of: dict[str, set[str]] = {}  # customer id -> its contacts agents hold (assigned, wrap-up)
        self._known: OrderedDict[str, int] = OrderedDict()  # record key -> version the store confirmed
        self._remembered = remembered
        self.applied: list[Callable[[Contact], None]] = []

    # ---------------------------------------------------------------- reading

    def contact(self, contact_id: str) -> Contact | None:
        return self.contacts.get(contact_id)

    def runtime(self, agent_id: str) -> AgentRuntime:
        rt = self.agents.get(agent_id)
        if rt is None:
            raise NotFound(f"agent {agent_id} does not exist")
        return rt

    def open_chat(self, customer_id: str) -> Contact | None:
        """The customer's chat that is waiting or being worked, if any."""
        contact = self.contacts.get(self.chat_of.get(customer_id, ""))
        if contact is not None and contact.customer_id == customer_id and is_open_chat(contact):
            return contact
        return None

    def held(self, agent_id: str, contact_id: str, state: ContactState | None = None) -> Contact:
        """The contact if this agent holds it (in ``state``, or assigned or in wrap-up); else :class:`NotHeld`."""
        contact = self.contacts.get(contact_id)
        if contact is None or contact.agent_id != agent_id or (state is None and contact.state not in HELD):
            raise NotHeld(f"contact {contact_id!r} is not assigned to you", contact_id=contact_id)
        if state is not None and contact.state != state:
            raise NotHeld(
                f"contact {contact_id!r} is {contact.state.value}, not {state.value}",
                contact_id=contact_id,
                state=contact.state.value,
            )
        return contact

    def holders(self, customer_id: str) -> dict[str, set[str]]:
        """The agents holding a contact of this customer, each with the ids of those it holds."""
        found: dict[str, set[str]] = {}
        for contact_id in self.held_of.get(customer_id, ()):
            contact = self.contacts.get(contact_id)
            if contact is not None and contact.agent_id and contact.customer_id == customer_id:
                found.setdefault(contact.agent_id, set()).add(contact_id)
        return found

    def of_customer(self, *customer_ids: str) -> Iterator[Contact]:
        """The open contacts of these customers (a list taken now: records may change meanwhile)."""
        return iter([c for c in self.contacts.values() if c.customer_id in customer_ids])

    # ---------------------------------------------------------------- agents

    def add_agent(self, agent: Agent) -> AgentRuntime:
        """An account this node did not know yet (its presence as new); the one known if it did."""
        if agent.id in self.agents:
            return self.agents[agent.id]
        rt = self.agents[agent.id] = AgentRuntime(agent, Presence(agent.id, idle_since=self._clock.now()))
        for contact in list(self.contacts.values()):  # contacts heard of before the agent
            if agent.id in (contact.agent_id, contact.offer.agent_id if contact.offer else None):
                self.apply(contact)
        return rt

    # ---------------------------------------------------------------- records

    def apply(self, new: Contact) -> None:
        """Make ``new`` the contact's record here, and bring what derives from it in line."""
        old = self.contacts.get(new.id)
        if old is not None:
            self._unindex(old)
            if old.state != new.state == ContactState.ASSIGNED and (pace := self.paces.get(new.channel)):
                pace.answered(self._clock.now())
        if new.state in OPEN:
            self.contacts[new.id] = new
            self._index(new)
        else:
            self.contacts.pop(new.id, None)
        for told in self.applied:
            told(new)

    def drop(self, contact: Contact) -> None:
        """Forget a contact that was never recorded (if nothing replaced it since)."""
        if self.contacts.get(contact.id) is contact:
            self._unindex(contact)
            del self.contacts[contact.id]

    def apply_presence(self, rt: AgentRuntime, new: Presence) -> None:
        rt.presence = new
        rt.agent.status = new.status
        rt.load = Counter(new.load)
        rt.snapshot = None
        self._refresh(rt)
        if new.grace_until is None:
            self._timers.disarm("grace", new.agent_id)
        else:
            self._timers.arm("grace", new.agent_id, new.node, new.grace_until)

    def known_version(self, key: str, version: int) -> bool:
        """Note a version the store has; False if a later one is known already."""
        known = self._known.get(key, -1)
        if version < known:
            return False
        self._known[key] = version
        self._known.move_to_end(key)
        while len(self._known) > self._remembered + len(self.contacts) + len(self.agents):
            self._known.popitem(last=False)
        return True

    def heard_contact(self, contact: Contact, *, force: bool = False) -> None:
        """A contact's record as another node committed it, or as the store has it (``force``)."""
        if not self.known_version(f"contact:{contact.id}", contact.version):
            return
        local = self.contacts.get(contact.id)
        if local is not None and not force and local.version >= contact.version:
            return
        if local is not None:
            contact.last_seq = max(contact.last_seq, local.last_seq)
        self.apply(contact)

    def heard_presence(self, presence: Presence, *, force: bool = False) -> None:
        """An agent's presence as another node committed it, or as the store has it (``force``)."""
        rt = self.agents.get(presence.agent_id)
        if rt is None:
            if self._learn is not None:
                self._learn(presence.agent_id)
            return
        if not self.known_version(f"agent:{presence.agent_id}", presence.version):
            return
        if not force and rt.presence.version >= presence.version:
            return
        self.apply_presence(rt, presence)

    # ---------------------------------------------------------------- what derives from a record

    def _index(self, c: Contact) -> None:
        if c.channel == Channel.CHAT and is_open_chat(c):  # not one in wrap-up, or left: a newer chat may be open
            self.chat_of[c.customer_id] = c.id
            if c.gone_at is not None:  # every socket of the customer closed: gone then, unless they come back
                self._timers.arm("gone", c.id, c.node, c.gone_at)
        due, at_risk = self._kinds.promise(c)  # a channel's own promise, watched until first answered
        if due is not None:
            if at_risk is not None and at_risk > self._clock.now():  # a warning is for what is still ahead
                self._timers.arm("risk", c.id, c.node, at_risk)
            self._timers.arm("sla", c.id, c.node, due)
        if c.state == ContactState.QUEUED:
            self.queue.put(c)
        elif c.state == ContactState.SCHEDULED:
            self.scheduled.add(c.id)
            self._timers.arm("due", c.id, c.node, c.due_at if c.due_at is not None else self._clock.now())
        elif c.state == ContactState.OFFERED and c.offer is not None:
            offer = c.offer
            self.offers[offer.id] = offer
            rt = self._agent_or_learn(offer.agent_id)
            if rt is not None:
                rt.offers[offer.id] = offer
            self._timers.arm("offer", c.id, c.node, offer.expires_at, offer.id)
        elif c.state in HELD and c.agent_id:
            self.held_of.setdefault(c.customer_id, set()).add(c.id)
            rt = self._agent_or_learn(c.agent_id)
            if rt is not None:
                rt.held.add(c.id)
            if c.state == ContactState.WRAP_UP and c.wrap_until is not None:
                self._timers.arm("wrap", c.id, c.node, c.wrap_until)

    def _unindex(self, c: Contact) -> None:
        if self.chat_of.get(c.customer_id) == c.id:
            del self.chat_of[c.customer_id]
        held = self.held_of.get(c.customer_id)
        if held is not None:
            held.discard(c.id)
            if not held:
                del self.held_of[c.customer_id]
        self.queue.remove(c.id)
        self.scheduled.discard(c.id)
        for kind in _CONTACT_TIMERS:
            self._timers.disarm(kind, c.id)
        if c.state == ContactState.OFFERED and c.offer is not None:
            self.offers.pop(c.offer.id, None)
            rt = self.agents.get(c.offer.agent_id)
            if rt is not None:
                rt.offers.pop(c.offer.id, None)
        elif c.state in HELD and c.agent_id:
            rt = self.agents.get(c.agent_id)
            if rt is not None:
                rt.held.discard(c.id)

    def _refresh(self, rt: AgentRuntime) -> None:
        """Keep the floor up to date: the agents that may be offered work now, as the router sees them.

        An agent full on every channel is left off, so a pass never looks at it.
        """
        p = rt.presence
        if p.connections and p.status == AgentStatus.AVAILABLE and has_room(rt.load, rt.agent.capacity):
            self.floor[rt.agent.id] = rt.state()
        else:
            self.floor.pop(rt.agent.id, None)

    def _agent_or_learn(self, agent_id: str) -> AgentRuntime | None:
        rt = self.agents.get(agent_id)
        if rt is None and self._learn is not None:
            self._learn(agent_id)
        return rt
