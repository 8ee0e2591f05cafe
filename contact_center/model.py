"""The domain: customers, contacts, agents, offers, history events, and their lifecycles.

Statuses are ``str`` enums so they go to JSON and SQLite as plain text. Every lifecycle
move goes through :func:`transition`, which raises :class:`InvalidTransition` for a move
the table below does not allow.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from contact_center.exceptions import InvalidTransition

__all__ = [
    "AGENT_STATUS_MOVES",
    "CONTACT_MOVES",
    "OPEN_STATES",
    "Agent",
    "AgentStatus",
    "Channel",
    "Contact",
    "ContactState",
    "Customer",
    "HistoryEvent",
    "IdentityKind",
    "Offer",
    "OfferState",
    "Presence",
    "Role",
    "name_words",
    "transition",
]


class Channel(StrEnum):
    CHAT = "chat"
    EMAIL = "email"
    CALLBACK = "callback"
    CALL = "call"


class ContactState(StrEnum):
    SCHEDULED = "scheduled"  # waits for its time (``due_at``), then enters the queue: a booked callback
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    WRAP_UP = "wrap_up"
    CLOSED = "closed"
    ABANDONED = "abandoned"


class OfferState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    REVOKED = "revoked"


class AgentStatus(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    AWAY = "away"
    BUSY = "busy"


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    VISITOR = "visitor"
    USER_ID = "user_id"  # the host site's own id of its signed-in user, vouched for by the site


# A contact not ended yet: in every node's replica, and in the store's index of open contacts (both backends).
OPEN_STATES = frozenset(
    {ContactState.SCHEDULED, ContactState.QUEUED, ContactState.OFFERED, ContactState.ASSIGNED, ContactState.WRAP_UP}
)

CONTACT_MOVES: Mapping[ContactState, frozenset[ContactState]] = {
    # Into the queue at its time; cancelled (closed) or given up (abandoned) before.
    ContactState.SCHEDULED: frozenset({ContactState.QUEUED, ContactState.CLOSED, ContactState.ABANDONED}),
    # Closed before an agent had it: the customer cancelled what they asked for (a callback); or
    # scheduled: they moved it to an hour of their choosing.
    ContactState.QUEUED: frozenset(
        {ContactState.OFFERED, ContactState.ABANDONED, ContactState.CLOSED, ContactState.SCHEDULED}
    ),
    # Back to QUEUED on reject, timeout or the agent's disconnect.
    ContactState.OFFERED: frozenset(
        {
            ContactState.ASSIGNED,
            ContactState.QUEUED,
            ContactState.ABANDONED,
            ContactState.CLOSED,
            ContactState.SCHEDULED,
        }
    ),
    # Back to QUEUED when the agent is gone for good (desk reconnect grace expired); to SCHEDULED
    # when it is to be tried again later (a callback nobody answered).
    ContactState.ASSIGNED: frozenset({ContactState.WRAP_UP, ContactState.QUEUED, ContactState.SCHEDULED}),
    ContactState.WRAP_UP: frozenset({ContactState.CLOSED}),
    ContactState.CLOSED: frozenset(),
    ContactState.ABANDONED: frozenset(),
}

AGENT_STATUS_MOVES: Mapping[AgentStatus, frozenset[AgentStatus]] = {
    AgentStatus.OFFLINE: frozenset({AgentStatus.AVAILABLE, AgentStatus.AWAY}),
    AgentStatus.AVAILABLE: frozenset({AgentStatus.AWAY, AgentStatus.BUSY, AgentStatus.OFFLINE}),
    AgentStatus.AWAY: frozenset({AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.OFFLINE}),
    AgentStatus.BUSY: frozenset({AgentStatus.AVAILABLE, AgentStatus.AWAY, AgentStatus.OFFLINE}),
}

S = TypeVar("S", ContactState, OfferState, AgentStatus)


def transition(what: str, current: S, target: S, moves: Mapping[S, frozenset[S]]) -> S:
    """Return ``target`` if ``current -> target`` is allowed by ``moves``.

    Raises:
        InvalidTransition: naming ``what`` and both states.
    """
    if target not in moves[current]:
        raise InvalidTransition(what, current.value, target.value)
    return target


@dataclass(slots=True)
class Customer:
    """A person, known by one or more identities; ``value`` feeds the router's order.

    ``identities`` are proven: the customer wrote from the address, the host site vouched for
    it, the customer typed a code mailed to it, or an agent confirmed it. ``claims`` are what a
    chat visitor said of itself without proof ("I am vip@example.com"): shown to agents as
    unverified, and they give the visitor nothing of whoever holds that identity.
    """

    id: str
    name: str = ""
    value: float = 0.0
    created_at: float = 0.0
    identities: list[tuple[IdentityKind, str]] = field(default_factory=list)
    claims: list[tuple[IdentityKind, str]] = field(default_factory=list)


@dataclass(slots=True)
class Contact:
    """One unit of work on one channel; the same type for every channel.

    ``enqueued_at`` is the contact's original place in the queue and is never reset.
    ``last_seq`` numbers the messages of the conversation, 1, 2, 3, ...

    The rest is what routing needs, so that every engine node sharing a store sees the same:
    ``value`` is the customer's value when the contact was queued or revalued, ``offer`` the
    open offer while the contact is offered, ``declined`` the agents not to offer it to again
    (they rejected it or let an offer lapse), ``wrap_until`` the end of wrap-up. ``version``
    counts the record's changes; a node commits a change only if the record is still at the
    version it read. ``node`` is the node that made the latest change and runs its timers.

    An email contact carries its thread's ``ticket`` reference; ``answered_at`` is the first
    response sent to the customer (the SLA clock measures it against its deadline), and
    ``breached_at`` the moment its deadline passed unanswered (recorded once).

    ``left_at`` is when the customer ended a chat an agent held: the agent still has it to wrap
    up, but it is no longer the customer's open chat (their next message opens a new one).

    A chat's ``customer_node`` is the node holding the customer's socket; ``gone_at`` is set when
    the customer's last socket closed (or their node died): at that moment, unless they came back,
    the chat counts as left (abandoned if still waiting; its agent told if assigned).
    ``rating`` is the satisfaction the customer gave once the chat ended (its comment is in history).
    ``accepted_at`` is when an agent first accepted the contact (a transfer keeps it): the
    moment a chat, call or callback counts as answered in the service figures.

    A ``scheduled`` contact enters the queue at ``due_at`` (a booked callback, or one to try
    again), keeping its ``enqueued_at``. ``details`` are the fields of the contact's channel that
    no other channel has (a callback's number), as JSON-ready values.
    """

    id: str
    channel: Channel
    customer_id: str
    state: ContactState
    created_at: float
    enqueued_at: float
    skills: list[tuple[str, int]]
    priority: int = 0
    subject: str = ""
    agent_id: str | None = None
    disposition: str | None = None
    closed_at: float | None = None
    last_seq: int = 0
    value: float = 0.0
    offer: Offer | None = None
    declined: tuple[str, ...] = ()
    wrap_until: float | None = None
    version: int = 0
    node: str = ""
    ticket: str = ""
    answered_at: float | None = None
    breached_at: float | None = None
    left_at: float | None = None
    customer_node: str = ""
    gone_at: float | None = None
    rating: int | None = None  # the customer's satisfaction, 1 to 5, given once after the chat ended
    due_at: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    accepted_at: float | None = None

    @classmethod
    def arriving(
        cls, channel: Channel, customer_id: str, skills: list[tuple[str, int]], value: float, at: float, **fields: Any
    ) -> Contact:
        """A new contact of any channel, queued at ``at`` under a fresh id (``fields``: the channel's own)."""
        return cls(
            uuid.uuid4().hex[:16], channel, customer_id, ContactState.QUEUED, at, at, skills, value=value, **fields
        )

    def move(self, target: ContactState) -> None:
        """Move to ``target`` or raise :class:`InvalidTransition`."""
        self.state = transition(f"contact {self.id}", self.state, target, CONTACT_MOVES)


@dataclass(slots=True)
class Agent:
    """A person who handles contacts: skills 1-5, capacity per channel, a status."""

    id: str
    username: str
    display_name: str
    role: Role
    skills: dict[str, int]
    capacity: dict[str, int]
    wrap_up_s: float
    status: AgentStatus = AgentStatus.OFFLINE
    disabled: bool = False  # a supervisor disabled the account: no login, no session

    def move(self, target: AgentStatus) -> None:
        """Move to ``target`` or raise :class:`InvalidTransition`."""
        if target == self.status:
            return
        self.status = transition(f"agent {self.username}", self.status, target, AGENT_STATUS_MOVES)


@dataclass(slots=True)
class Offer:
    """A contact reserved for one agent until accepted, rejected or timed out.

    An offer ends by leaving its contact (the engine's ``_offer_closed`` says how); it has no
    moves of its own, so ``state`` stays ``pending`` for as long as there is an offer.
    """

    id: str
    contact_id: str
    agent_id: str
    created_at: float
    expires_at: float
    state: OfferState = OfferState.PENDING
    level: int = 0


@dataclass(slots=True)
class Presence:
    """An agent at work, as every engine node sees it: status, desks, idle time, reconnect grace.

    ``connections`` counts the agent's open desk sockets per engine node, so a node that dies
    can be struck off. ``load`` counts the contacts offered to or held by the agent, per channel:
    it is part of the record (not worked out from contacts a node may not have heard of yet),
    so a change that gives the agent work is checked against the load it was decided on.
    ``grace_until`` is set while held contacts wait for the agent to come back. ``version``
    and ``node`` are as for :class:`Contact`. ``status_reason`` says why the engine itself last
    changed the status (``offer_lapsed``, ``was_offline``...; "" when the agent chose it).
    ``status_since`` is when the status last changed (0: not since this record began); every
    store keeps each change, which is what occupancy is measured against.
    """

    agent_id: str
    status: AgentStatus = AgentStatus.OFFLINE
    connections: dict[str, int] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)
    idle_since: float = 0.0
    grace_until: float | None = None
    version: int = 0
    node: str = ""
    status_reason: str = ""
    status_since: float = 0.0

    @property
    def connected(self) -> int:
        return sum(self.connections.values())

    def move(self, target: AgentStatus) -> None:
        """Move to ``target`` or raise :class:`InvalidTransition`."""
        if target != self.status:
            self.status = transition(f"agent {self.agent_id}", self.status, target, AGENT_STATUS_MOVES)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One entry of a customer's append-only timeline.

    Messages are events with a ``seq`` (their number in the conversation) and a
    ``client_id`` (the sender's idempotency key).
    """

    id: int
    customer_id: str
    contact_id: str | None
    channel: str | None
    kind: str
    at: float
    actor: str
    data: Mapping[str, Any]
    seq: int | None = None
    client_id: str | None = None


def name_words(name: str) -> list[str]:
    """The words of a name as a search by name matches them: lower case, each once."""
    return list(dict.fromkeys(w for w in name.lower().split() if w))
