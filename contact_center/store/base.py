"""The store port: every method a backend provides, and the values it trades in.

Each write is one atomic unit: recorded whole or not at all. A write that would duplicate
what must be unique (a customer id, an identity, a username) fails with :class:`Conflict`
for its caller alone. An ``async`` write is durable
when it returns. A staged write (``commit``, ``add_message``) is
queued at once, in call order, and its awaitable resolves when it is durable;
``post_message`` is queued the same way and calls back instead. ``barrier`` waits for
everything queued so far. The engine changes its state and stages the record under its
lock, then waits for durability outside the lock before telling anyone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import structlog

from contact_center.contact_facts import ContactFacts
from contact_center.files import ChatFile
from contact_center.mail import FilingContext, MailRecord, Outbound
from contact_center.model import Agent, Contact, Customer, HistoryEvent, IdentityKind, Presence
from contact_center.quality import Review

__all__ = [
    "STATUS_LOOKBACK_S",
    "AccountStore",
    "Challenge",
    "Changes",
    "ContactStore",
    "CustomerStore",
    "FirstResponses",
    "MailStore",
    "NewEvent",
    "QualityStore",
    "Ratings",
    "ReplyStore",
    "ReplyUse",
    "ReplyVersion",
    "ReportStore",
    "Seat",
    "Session",
    "StatusChange",
    "Store",
    "Strikes",
    "Written",
]

# Email contacts' arrivals and first responses (NaN: not answered yet), for the SLA clock's reports.
FirstResponses = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
Ratings = tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]  # each rated contact's start, and its score
# An agent's status from a moment on: (agent id, at, status). A store's status_changes(since, until) gives
# those in [since, until) and, for each agent, the last before ``since`` (up to STATUS_LOOKBACK_S back),
# the status it was in at ``since``; by agent, then time.
StatusChange = tuple[str, float, str]
STATUS_LOOKBACK_S = 31 * 86_400

# Told once a posted message is written: ``(event, new)``, or the exception that stopped it.
Written = Callable[[tuple[HistoryEvent, bool] | BaseException], None]


def settle(sink: asyncio.Future[Any] | Written, outcome: Any, *, failed: bool) -> None:
    """Hand a queued write's outcome to whoever waits for it: a future, or a callable told at once.

    Both backends use it after a commit; a listener's fault is logged and stops no one else.
    """
    if isinstance(sink, asyncio.Future):
        if not sink.done():
            if failed:
                sink.set_exception(outcome)
            else:
                sink.set_result(outcome)
        return
    try:
        sink(outcome)
    except Exception:
        structlog.get_logger("contact_center.store").exception("store.listener_failed")


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A history event not yet recorded; the store gives it its id."""

    customer_id: str
    contact_id: str | None
    channel: str | None
    kind: str
    at: float
    actor: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Session:
    """A bearer token's grant: a user (agent or supervisor) or a customer, until ``expires_at``.

    ``issued_at`` (when known) lets a store forget the session by itself once it lapses.
    """

    kind: str  # "user" or "customer"
    subject_id: str
    expires_at: float
    issued_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Strikes:
    """What a throttle counted under one key: how many, when the last came, and a lockout's end (0: none).

    A count is kept for a window from its first strike and then forgotten; a lockout outlives it.
    """

    count: int = 0
    last_at: float = 0.0
    locked_until: float = 0.0


@dataclass(frozen=True, slots=True)
class Challenge:
    """A one-time code mailed to ``address`` for a chat visitor (``customer_id``) to type back.

    Only a salted digest of the code is kept; the challenge lapses at ``expires_at``.
    """

    customer_id: str
    address: str
    salt: str
    digest: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Seat:
    """A place in a set of limited room, ``name`` (a booked slot's callbacks; the one open callback of a
    number), that ``holder`` (a contact id) takes with a unit, where the set holds at most ``capacity``; with
    ``capacity`` 0 the holder gives its place back. Taking a place held already changes nothing."""

    name: str
    holder: str
    capacity: int = 0


@dataclass(frozen=True, slots=True)
class Changes:
    """One unit of the engine's work, recorded whole or not at all.

    ``contacts`` and ``presences`` are records as they are after the change; ``expected``
    holds, for each (``contact:{id}``, ``agent:{id}``), the version the change was made on.
    A store that several nodes share (``shared``) records the unit only if every record is
    still at that version, else raises :class:`~contact_center.exceptions.Stale`, and tells
    the other nodes what it recorded. A store for one node has nothing to check.

    ``mails`` are mails fetched or sent, recorded with what they did; a fetched mail whose
    place in its mailbox is recorded already fails the unit with
    :class:`~contact_center.exceptions.Conflict`. ``outbound`` are mails to send; one whose
    outbox key is taken fails it the same way. ``seats`` are places taken or given back
    (:class:`Seat`); a place in a set that is full fails it the same way.
    """

    contacts: tuple[Contact, ...] = ()
    presences: tuple[Presence, ...] = ()
    expected: Mapping[str, int] = field(default_factory=dict)
    events: tuple[NewEvent, ...] = ()
    node: str = ""
    mails: tuple[MailRecord, ...] = ()
    outbound: tuple[Outbound, ...] = ()
    seats: tuple[Seat, ...] = ()


class CustomerStore(Protocol):
    """Customers and identities (proven) and claims (not)."""

    async def create_customer(self, customer: Customer) -> None: ...
    async def get_customer(self, customer_id: str) -> Customer | None: ...
    async def find_customer(self, kind: IdentityKind, value: str) -> str | None: ...
    async def customers_named(self, prefix: str, limit: int = 20) -> list[str]: ...
    async def add_identity(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None: ...
    async def merge_customers(self, keep: str, gone: str, event: NewEvent) -> None: ...
    async def set_customer(self, customer_id: str, *, name: str | None, value: float | None) -> None: ...
    async def add_claim(self, customer_id: str, kind: IdentityKind, value: str, event: NewEvent) -> None: ...


class ContactStore(Protocol):
    """Contacts and presences (a unit of work's records), conversations and history."""

    shared: bool  # engine nodes may share it: commits check versions and are announced

    async def record(self, contacts: Sequence[Contact], events: Sequence[NewEvent]) -> list[HistoryEvent]: ...
    def commit(self, changes: Changes) -> Awaitable[list[HistoryEvent]]: ...
    async def current(
        self, contact_ids: Sequence[str], agent_ids: Sequence[str]
    ) -> tuple[list[Contact], list[Presence]]: ...
    async def barrier(self) -> None: ...
    def add_message(
        self,
        contact: Contact,
        actor: str,
        text: str,
        client_id: str,
        at: float,
        extra: Sequence[NewEvent] = (),
        *,
        create: bool = False,
        files: Sequence[Mapping[str, Any]] = (),
    ) -> asyncio.Future[tuple[HistoryEvent, bool]]: ...
    def post_message(
        self, contact: Contact, actor: str, text: str, client_id: str, at: float, then: Written
    ) -> None: ...
    async def get_contact(self, contact_id: str) -> Contact | None: ...
    async def open_contacts(self) -> list[Contact]: ...
    async def messages(self, contact_id: str, after_seq: int = 0) -> list[HistoryEvent]: ...
    async def last_seqs(self, contact_ids: Sequence[str]) -> dict[str, int]: ...
    async def history(self, customer_id: str, limit: int = 500, before_id: int | None = None) -> list[HistoryEvent]: ...
    async def seats_taken(self, names: Sequence[str]) -> dict[str, int]: ...  # places held, of each set named
    async def seat_holders(self, name: str) -> list[str]: ...
    async def next_in_series(self, series: str) -> int: ...  # 1, 2, 3, ... per series name (a day's queue numbers)
    async def secret(self, name: str) -> str: ...  # a random key made once and shared by every node (signing links)


class MailStore(Protocol):
    """Mailboxes' cursors, what filing a mail depends on, tickets, mails and the outbox."""

    async def mailbox_cursor(self, mailbox: str) -> tuple[int, int] | None: ...
    async def filing_context(
        self, message_ids: Sequence[str], address: str, ticket_ref: str, acks_to: str, acks_since: float
    ) -> FilingContext: ...
    async def next_ticket(self) -> int: ...
    async def mail(self, mail_id: str) -> MailRecord | None: ...
    async def mails_of(self, contact_id: str, *, whole: bool = False) -> list[MailRecord]: ...
    async def quarantined(self, limit: int = 100) -> list[MailRecord]: ...
    async def outbound_due(self, now: float, limit: int = 100) -> list[Outbound]: ...
    async def update_outbound(self, outbound: Outbound) -> None: ...


class AccountStore(Protocol):
    """Users, sessions, and the throttles and one-time codes every node on the store shares."""

    async def create_user(self, agent: Agent, password_hash: str) -> None: ...
    async def user_by_name(self, username: str) -> tuple[Agent, str] | None: ...
    async def get_agent(self, agent_id: str) -> Agent | None: ...
    async def list_agents(self) -> list[Agent]: ...
    async def set_user(
        self, user_id: str, *, password_hash: str | None = None, disabled: bool | None = None
    ) -> None: ...
    async def create_session(self, token_hash: str, session: Session) -> None: ...
    async def get_session(self, token_hash: str) -> Session | None: ...
    async def delete_session(self, token_hash: str) -> None: ...
    async def delete_sessions_of(self, subject_id: str) -> int: ...
    async def purge_sessions(self, now: float) -> int: ...
    async def strike(
        self, key: str, now: float, window_s: float, *, lock_after: int = 0, lock_s: float = 0.0
    ) -> Strikes: ...
    async def strikes(self, keys: Sequence[str], now: float) -> list[Strikes]: ...
    async def forgive(self, key: str) -> None: ...
    async def put_challenge(self, key: str, challenge: Challenge, now: float) -> None: ...
    async def challenge(self, key: str, now: float) -> Challenge | None: ...
    async def drop_challenge(self, key: str) -> None: ...


class ReportStore(Protocol):
    """What the reports read."""

    async def first_responses(self, since: float, until: float) -> FirstResponses: ...
    async def ratings(self, since: float, until: float) -> Ratings: ...
    async def contact_facts(self, since: float, until: float) -> ContactFacts: ...  # arrived in [since, until)
    async def status_changes(self, since: float, until: float) -> list[StatusChange]: ...
    async def reviews(self, since: float, until: float) -> list[Review]: ...  # quality reviews made in the span


class FileStore(Protocol):
    """Files customers sent in chats (a message's data names them)."""

    async def put_file(self, file: ChatFile) -> None: ...
    async def chat_file(self, file_id: str, *, whole: bool = False) -> ChatFile | None: ...


@dataclass(frozen=True, slots=True)
class ReplyUse:
    """An agent picked a pre-written reply for the customer's ``message`` (in ``language``)."""

    reply_id: str
    agent_id: str
    contact_id: str
    message: str
    language: str
    at: float


@dataclass(frozen=True, slots=True)
class ReplyVersion:
    """Version ``n`` (from 1) of a reply's file: ``source`` its whole text ("" once deleted), by ``author``."""

    reply_id: str
    n: int
    author: str  # an agent's id, or "files" for what was found in the library's folder
    at: float
    source: str


class ReplyStore(Protocol):
    """What the desks learn about writing: the team's dictionary, which reply was used for what, and
    every version of every reply (``add_reply_version`` is :class:`Conflict` when that ``n`` exists)."""

    async def add_word(self, word: str, agent_id: str, at: float) -> bool: ...  # False: it was there
    async def remove_word(self, word: str) -> bool: ...
    async def team_words(self) -> list[str]: ...
    async def record_reply_use(self, use: ReplyUse) -> None: ...
    async def learned_phrasings(self, limit: int) -> list[tuple[str, str]]: ...  # (reply id, message), oldest first
    async def reply_uses(self, since: float, until: float) -> dict[str, int]: ...  # uses per reply id
    async def add_reply_version(self, version: ReplyVersion) -> None: ...
    async def reply_history(self, reply_id: str) -> list[ReplyVersion]: ...  # oldest first
    async def latest_reply_versions(self) -> dict[str, ReplyVersion]: ...


class QualityStore(Protocol):
    """Reviews of conversations: one per contact (a new one replaces it)."""

    async def put_review(self, review: Review) -> None: ...
    async def review_of(self, contact_id: str) -> Review | None: ...
    async def reviews_of(self, agent_id: str, limit: int = 50) -> list[Review]: ...  # newest first
    async def reviews(self, since: float, until: float) -> list[Review]: ...  # reviewed in [since, until)


class Store(
    CustomerStore, ContactStore, MailStore, AccountStore, ReportStore, FileStore, ReplyStore, QualityStore, Protocol
):
    """The whole port, one per aggregate above; each backend is a package with a module per aggregate."""

    async def close(self) -> None: ...
