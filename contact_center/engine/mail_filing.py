"""Mail filing: a fetched mail into its thread's contact or a new one, an agent's reply out, the promise watched.

A mail is filed as one unit of work with its place in the mailbox: the mail, the contact, the
history events and the acknowledgement (once per thread, never to a machine, at most
``acks_per_sender`` per window). A place recorded before files nothing. An agent's reply goes
to the outbox once per ``client_id``; the first is the contact's first response, measured by
the promise (``risk`` and ``sla`` timers, armed by the replica for every unanswered email).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from functools import partial
from typing import Any, Protocol

import structlog

from contact_center import topics
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine.conversations import Worth
from contact_center.engine.replica import Replica
from contact_center.engine.state import OPEN_CHAT
from contact_center.engine.timers import Timers
from contact_center.engine.work import Work
from contact_center.events import MailFiled, MailSent, SlaAtRisk, SlaBreached
from contact_center.exceptions import ClientError, Conflict, Throttled
from contact_center.fields import normalise_email, require_text
from contact_center.files import ChatFile
from contact_center.mail import (
    Arrival,
    Composer,
    FilingContext,
    MailOutcome,
    MailRecord,
    Outbound,
    OutboundState,
    recipients,
)
from contact_center.mail_threads import Threading, thread_for
from contact_center.metrics import Metrics
from contact_center.model import Channel, Contact, ContactState, Customer, IdentityKind
from contact_center.store import Changes, ContactStore, CustomerStore, MailStore, NewEvent
from contact_center.store.base import AccountStore

__all__ = ["MailFiling"]


class _Store(MailStore, CustomerStore, ContactStore, AccountStore, Protocol):
    """The store as mail filing uses it: mail, the sender's customer, units of work, a count of left messages."""


log = structlog.get_logger("contact_center.engine")

_MAX_EMAIL_CHARS = 50_000  # an agent's email reply
_HOUR_S = 3600.0
_UNPROVEN = "the address was typed in the chat widget and is not proven to be the visitor's"


def _identity_address(address: str) -> str:
    """The sender's address as a customer's identity: normalised, or as the mail has it (still whom to answer)."""
    try:
        return normalise_email(address)
    except ClientError:
        return address.strip().lower()


class MailFiling:
    """Email in, email out, and the promise (see the module's docstring)."""

    def __init__(
        self,
        work: Work,
        replica: Replica,
        timers: Timers,
        store: _Store,
        clock: Clock,
        config: Config,
        metrics: Metrics,
        composer: Composer | None,
        worth: Worth,
    ) -> None:
        self._work = work
        self._replica = replica
        self._store = store
        self._clock = clock
        self._config = config
        self._metrics = metrics
        self._composer = composer
        self._worth = worth
        timers.handle("risk", self._at_risk)
        timers.handle("sla", self._breach)

    # ---------------------------------------------------------------- in

    async def receive(self, arrival: Arrival) -> MailOutcome:
        """File a fetched mail: into the open contact of its thread, or a new contact in the queue.

        Everything it depends on is read from the store at once (:class:`FilingContext`); what
        follows decides. The same bytes filed before under another place are noted as a
        ``duplicate``, nothing more; a place recorded before is ``recorded``.
        """
        record = arrival.record
        address = _identity_address(arrival.address)
        since = self._clock.now() - self._config.email.ack_window_min * 60
        ids = [record.message_id, *arrival.thread_ids]
        context = await self._store.filing_context(ids, address, arrival.ticket_ref, arrival.address, since)
        known = [e for e in context.entries if e.message_id == record.message_id]
        parents = [e for e in context.entries if e.message_id != record.message_id]
        if known and known[0].digest == record.digest:
            again = dataclasses.replace(record, duplicate_of=known[0].mail_id, thread_ids=())
            self._metrics.inc("cc_mails_filed_total", outcome="duplicate")
            return await self._file_alone(again, MailOutcome("duplicate", known[0].contact_id, known[0].ticket))
        if known:  # the sender used this Message-ID for another mail: this one gets its own
            own = f"<{record.digest[:40]}@reused-message-id.invalid>"
            problems = [
                *record.summary.get("problems", ()),
                f"Message-ID {record.message_id} was reused; kept as {own}",
            ]
            record = dataclasses.replace(record, message_id=own, summary={**record.summary, "problems": problems})
        customer_id, value = context.customer_id, context.value
        if customer_id is None:
            customer_id, value = await self._new_customer(address, arrival.name)
        threading = thread_for(arrival, parents, customer_id, context.tickets)
        return await self._file_in(arrival, record, customer_id, value, threading, context)

    async def left_message(self, customer_id: str, arrival: Arrival) -> MailOutcome:
        """A message a visitor left in the chat widget: an email contact of *the visitor's own* customer.

        The address the visitor typed is a claim: the contact is never filed under the customer
        who holds that address, and no acknowledgement goes to it unless the visitor proved it
        (it is one of the customer's identities); the agent's reply goes to it, marked unproven.
        A repeat (the same Message-ID, made from the widget's ``client_id``) files nothing again.
        At most ``webchat.left_messages_per_hour`` per customer.
        """
        record = arrival.record
        since = self._clock.now() - self._config.email.ack_window_min * 60
        context = await self._store.filing_context([record.message_id], "", "", arrival.address, since)
        known = next((e for e in context.entries if e.message_id == record.message_id), None)
        if known is not None:
            return MailOutcome("duplicate", known.contact_id, known.ticket)
        allowed = self._config.webchat.left_messages_per_hour
        left = await self._store.strike(f"left:{customer_id}", self._clock.now(), _HOUR_S)
        if left.count > allowed:
            raise Throttled(f"at most {allowed} messages an hour may be left; try again later", _HOUR_S, "rate_limited")
        customer = await self._store.get_customer(customer_id)
        proven = customer is not None and (IdentityKind.EMAIL, arrival.address) in customer.identities
        if not proven:
            arrival = dataclasses.replace(arrival, ack_refusal=_UNPROVEN)
        value = await self._worth(customer_id)
        return await self._file_in(arrival, record, customer_id, value, Threading(), context)

    async def _file_in(
        self,
        arrival: Arrival,
        record: MailRecord,
        customer_id: str,
        value: float,
        threading: Threading,
        context: FilingContext,
    ) -> MailOutcome:
        """File the mail where ``threading`` says, with a new ticket for a new thread."""
        ticket, latest = threading.ticket, threading.latest
        first = not ticket
        if first:
            ticket = f"{self._config.email.ticket_prefix}-{await self._store.next_ticket()}"
        if threading.named:
            log.warning("email.thread_refused", ticket=threading.named, reason=threading.refused)
            refused = {"ticket": threading.named, "reason": threading.refused}
            record = dataclasses.replace(record, summary={**record.summary, "thread_refused": refused})
        no_ack = self._ack_refusal(arrival, context) if first else "not the first mail of its thread"
        file = partial(self._file, arrival, record, customer_id, value, ticket, latest, no_ack)
        try:
            outcome = await self._work.run(file)
        except Conflict:
            log.info("email.recorded_already", mail_id=record.id, source=str(record.source))
            outcome = MailOutcome("recorded", None, ticket)
        self._metrics.inc("cc_mails_filed_total", outcome=outcome.kind)
        return outcome

    async def quarantine(self, record: MailRecord) -> MailOutcome:
        """Keep a fetched mail that cannot be read, with the reason, for supervisors; it files nothing."""
        log.warning("email.quarantined", mail_id=record.id, reason=record.quarantine, source=str(record.source))
        self._metrics.inc("cc_mails_quarantined_total")
        return await self._file_alone(record, MailOutcome("quarantined"))

    async def _file_alone(self, record: MailRecord, outcome: MailOutcome) -> MailOutcome:
        try:
            await self._store.commit(Changes(mails=(record,), node=self._work.node_id))
        except Conflict:
            return MailOutcome("recorded", outcome.contact_id, outcome.ticket)
        return outcome

    async def _new_customer(self, address: str, name: str) -> tuple[str, float]:
        """The customer a sender's address names, made now (or found, if made meanwhile), with its value."""
        customer = Customer(uuid.uuid4().hex[:16], name[:120], 0.0, self._clock.now(), [(IdentityKind.EMAIL, address)])
        try:
            await self._store.create_customer(customer)
        except Conflict:  # created meanwhile by a chat's identify or another mail
            found = await self._store.find_customer(IdentityKind.EMAIL, address)
            if found is None:
                raise
            return found, await self._worth(found)
        return customer.id, 0.0

    def _ack_refusal(self, arrival: Arrival, context: FilingContext) -> str | None:
        if arrival.ack_refusal is not None:
            return arrival.ack_refusal
        if self._composer is None:
            return "no mail composer is configured"
        cfg = self._config.email
        if context.acks_to_address >= cfg.acks_per_sender:
            return (
                f"{context.acks_to_address} acknowledgements went to {arrival.address} "
                f"in the last {cfg.ack_window_min:g} minutes"
            )
        if context.acks_to_domain >= cfg.acks_per_domain:
            domain = arrival.address.rsplit("@", 1)[-1]
            return (
                f"{context.acks_to_domain} acknowledgements went to {domain} in the last {cfg.ack_window_min:g} minutes"
            )
        return None

    def _file(
        self,
        arrival: Arrival,
        record: MailRecord,
        customer_id: str,
        value: float,
        ticket: str,
        latest: str | None,
        no_ack: str | None,
    ) -> MailOutcome:
        """Within the unit: the mail into the thread's open contact, or into a new one with its acknowledgement."""
        contact = self._replica.contacts.get(latest) if latest else None
        new = contact is None or contact.state not in OPEN_CHAT
        if contact is None or new:  # a new thread, or one whose contact is finished or wrapped up
            contact = self._new_contact(arrival, record, customer_id, value, ticket, latest)
        mail = dataclasses.replace(
            record,
            contact_id=contact.id,
            customer_id=contact.customer_id,
            ticket=ticket,
            thread_ids=(record.message_id,),
        )
        self._work.add(mails=[mail])
        self._work.note(contact, "email.received", "customer", mail_id=mail.id, subject=arrival.subject[:300],
                        address=arrival.address, preview=arrival.text[:300])  # fmt: skip
        acknowledged = new and no_ack is None and self._acknowledge(arrival, contact)
        if new and no_ack is not None:
            self._work.note(contact, "email.not_acknowledged", "system", reason=no_ack)
        if not new and contact.agent_id:
            self._work.publish(topics.agent(contact.agent_id), MailFiled(contact.id, mail.id))
        kind = "new" if new else "joined"
        log.info("email.filed", contact_id=contact.id, ticket=ticket, outcome=kind, acknowledged=acknowledged)
        return MailOutcome("new" if new else "filed", contact.id, ticket, acknowledged, no_ack)

    def _new_contact(
        self, arrival: Arrival, record: MailRecord, customer_id: str, value: float, ticket: str, latest: str | None
    ) -> Contact:
        now = self._clock.now()
        contact = Contact.arriving(Channel.EMAIL, customer_id, list(arrival.skills), value, now,
                                   subject=arrival.subject[:300], ticket=ticket)  # fmt: skip
        refused = record.summary.get("thread_refused")
        linked = {"linked_ticket": refused["ticket"], "unverified_sender": True} if refused else {}
        self._work.put(contact, "contact.created", "customer", ticket=ticket, follows=latest,
                       mailbox=arrival.mailbox_address, **linked)  # fmt: skip
        return contact

    def _acknowledge(self, arrival: Arrival, contact: Contact) -> bool:
        if self._composer is None:
            return False
        now = self._clock.now()
        due = self._config.email.promise.due(self._config.sla.calendar, now)
        ack, outbound = self._composer.acknowledgement(arrival, contact, due, now)
        self._work.add(mails=[ack], outbound=[outbound])
        self._work.note(contact, "email.acknowledged", "system", mail_id=ack.id, due_at=due)
        return True

    # ---------------------------------------------------------------- out

    async def reply(
        self,
        agent_id: str,
        contact_id: str,
        text: object,
        client_id: object,
        *,
        reply_to: object = None,
        cc: object = (),
        files: Sequence[ChatFile] = (),
    ) -> dict[str, Any]:
        """The agent answers an email contact: the reply goes to the outbox, once per ``client_id``.

        It goes to the thread's customer (:func:`~contact_center.mail.recipients`); to a
        ``Reply-To`` of the thread's mails only when the agent names it (``reply_to``), and to
        the addresses in ``cc`` besides, whose mails may then join the thread. The first reply is
        the contact's first response (``answered_at``), measured by the SLA clock; each reply is an
        ``email.sent`` history event. A repeat of ``client_id`` queues nothing and returns the reply
        queued first. ``files`` (a pre-written reply's, with their bytes) are attached, together at most
        ``email.max_attachment_mb``.
        """
        text = require_text("text", text, _MAX_EMAIL_CHARS)
        self._within_limit(files)
        client_id = require_text("client_id", client_id, 64)
        copies = self._copies(cc)
        held = self._replica.held(agent_id, contact_id, ContactState.ASSIGNED)
        if held.channel != Channel.EMAIL:
            raise ClientError(f"contact {contact_id!r} is a {held.channel.value}, not an email", "wrong_channel")
        if self._composer is None:
            raise ClientError("email is not configured on this engine (no SMTP)", "email_unavailable")
        thread = await self._store.mails_of(contact_id)
        to = await self._reply_address(held, thread, reply_to)
        key = f"reply:{contact_id}:{client_id}"
        send = partial(self._stage_reply, agent_id, contact_id, thread, text, key, to, copies, files)
        try:
            sent = await self._work.run(send)
        except Conflict:  # this client_id's reply is queued already
            queued = next((m for m in await self._store.mails_of(contact_id) if m.summary.get("key") == key), None)
            if queued is None:
                raise
            return {"contact_id": contact_id, "mail_id": queued.id, "outbound_id": None, "first_response": False}
        self._work.publish(topics.agent(agent_id), MailSent(contact_id, sent["mail_id"]))
        return sent

    def _within_limit(self, files: Sequence[ChatFile]) -> None:
        limit = self._config.email.max_attachment_mb
        if sum(f.size for f in files) > limit * 1024 * 1024:
            raise ClientError(f"attachments: together over the limit of {limit:g} MB for one mail", "invalid_field",
                              field="attachments", problem="file_too_large", limit=limit)  # fmt: skip

    def _stage_reply(
        self, agent_id: str, contact_id: str, thread: Sequence[MailRecord], text: str, key: str, to: str,
        cc: list[str], files: Sequence[ChatFile],
    ) -> dict[str, Any]:  # fmt: skip
        """Within the unit: the reply mail, queued to send, and the contact answered if it is the first."""
        assert self._composer is not None
        contact = self._replica.held(agent_id, contact_id, ContactState.ASSIGNED)
        author = self._replica.agents[agent_id].agent.display_name
        now = self._clock.now()
        mail, outbound = self._composer.reply(contact, thread, text, author, key, now, to=to, cc=cc, files=files)
        self._work.add(mails=[mail], outbound=[outbound])
        first = contact.answered_at is None
        data = {"mail_id": mail.id, "first_response": first, "text": text[:300], "to": to, "cc": cc}
        if files:
            data["files"] = [f.filename for f in files]
        if first:
            due = self._config.email.promise.due(self._config.sla.calendar, contact.created_at)
            self._work.put(dataclasses.replace(contact, answered_at=now), "email.sent", f"agent:{agent_id}",
                           within_promise=now <= due, **data)  # fmt: skip
        else:
            self._work.note(contact, "email.sent", f"agent:{agent_id}", **data)
        return {"contact_id": contact_id, "mail_id": mail.id, "outbound_id": outbound.id, "first_response": first}

    async def failed(self, pending: Outbound, error: str) -> None:
        """The outbox gave up on a mail (refused, or out of time): marked failed, and told in the contact's history."""
        await self._store.update_outbound(dataclasses.replace(pending, state=OutboundState.FAILED, last_error=error))
        contact = await self._store.get_contact(pending.contact_id) if pending.contact_id else None
        if contact is None:
            return
        data = {"mail_id": pending.mail_id, "kind": pending.kind, "error": error, "attempts": pending.attempts}
        event = NewEvent(contact.customer_id, contact.id, "email", "email.failed", self._clock.now(), "system", data)
        await self._store.record((), [event])

    def _copies(self, cc: object) -> list[str]:
        """The addresses an agent copies a reply to: at most ten, never the engine's own."""
        if not isinstance(cc, list | tuple) or len(cc) > 10:
            raise ClientError("cc: a list of at most 10 email addresses", "invalid_field")
        copies = list(dict.fromkeys(normalise_email(a) for a in cc))
        own = [a for a in copies if a in self._config.email.own_addresses]
        if own:
            raise ClientError(f"cc: {own[0]} is this engine's own mailbox", "invalid_field")
        return copies

    async def reply_addresses(self, contact: Contact, thread: Sequence[MailRecord]) -> tuple[str | None, list[str]]:
        """Where a reply to the contact goes, and the Reply-To addresses its mails asked for instead."""
        customer = await self._store.get_customer(contact.customer_id)
        emails = [v for k, v in customer.identities if k == IdentityKind.EMAIL] if customer is not None else []
        return recipients(thread, emails)

    async def _reply_address(self, contact: Contact, thread: Sequence[MailRecord], reply_to: object) -> str:
        to, offered = await self.reply_addresses(contact, thread)
        if reply_to is not None:
            wanted = normalise_email(reply_to)
            if wanted != to and wanted not in offered:
                raise ClientError(
                    f"reply_to: {wanted} is not a Reply-To of this thread's mails; replies go to {to}",
                    "invalid_field",
                )
            to = wanted
        if to is None:
            raise ClientError(f"contact {contact.id!r} has no mail from the customer to answer", "invalid_field")
        return to

    # ---------------------------------------------------------------- the promise

    async def _at_risk(self, contact_id: str) -> None:
        contact = self._replica.contacts.get(contact_id)
        if contact is None or contact.answered_at is not None:
            return
        due = self._config.email.promise.due(self._config.sla.calendar, contact.created_at)
        log.warning("sla.at_risk", contact_id=contact_id, due_at=due)
        self._work.publish(topics.SUPERVISORS, SlaAtRisk(contact_id, due))

    async def _breach(self, contact_id: str) -> None:
        def breach() -> None:
            contact = self._replica.contacts.get(contact_id)
            if contact is None or contact.answered_at is not None or contact.breached_at is not None:
                return
            due = self._config.email.promise.due(self._config.sla.calendar, contact.created_at)
            breached = dataclasses.replace(contact, breached_at=self._clock.now())
            self._work.put(breached, "sla.breached", "system", due_at=due)
            log.warning("sla.breached", contact_id=contact_id, due_at=due)
            self._work.publish(topics.SUPERVISORS, SlaBreached(contact_id, due))

        await self._work.run(breach)
