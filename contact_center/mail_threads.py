"""Which thread a fetched mail joins, and who may make it join one.

A ``From`` header, a ``Reply-To`` and a ticket number in a subject are claims anyone can write
(ticket numbers are sequential, so easy to guess). So a mail joins a thread only

- through ``In-Reply-To`` or ``References`` naming a Message-ID of the thread (which a stranger
  cannot guess), and only from the thread's customer's address or an address an agent copied
  on the thread (``Cc`` of a reply); or
- through the thread's ticket in its subject, and only when the trusted mail server
  authenticated the sender (``Arrival.authenticated``) and it is the thread's customer.

Anything else that names a thread opens a contact of its own, *linked* to that ticket and marked
as from an unverified sender, for the agent to judge: it never lands in someone else's thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from contact_center.mail import Arrival, Direction, ThreadEntry
from contact_center.model import Contact
from contact_center.store import Store

__all__ = ["Threading", "thread_for"]


@dataclass(frozen=True, slots=True)
class Threading:
    """The ticket a mail continues and that ticket's latest contact ("" and None: a new thread).

    ``named`` is a ticket the mail named but may not join, with ``refused`` saying why.
    """

    ticket: str = ""
    latest: str | None = None
    named: str = ""
    refused: str = ""


async def _copied(store: Store, contact_id: str) -> set[str]:
    """The addresses agents copied (Cc) on the contact's replies."""
    mails = await store.mails_of(contact_id)
    return {a for m in mails if m.direction == Direction.OUT for a in m.summary.get("cc", ())}


async def _may_join(store: Store, arrival: Arrival, contact: Contact, customer_id: str) -> bool:
    return contact.customer_id == customer_id or arrival.address in await _copied(store, contact.id)


async def thread_for(store: Store, arrival: Arrival, parents: list[ThreadEntry], customer_id: str) -> Threading:
    """Where ``arrival`` belongs, by the rules above; ``customer_id`` is the customer its From address names.

    ``parents`` are the mails it answers that the store knows (its In-Reply-To and References,
    nearest first).
    """
    named = Threading()
    for entry in parents:
        if not entry.ticket:
            continue
        latest = await store.ticket_contact(entry.ticket)
        contact = await store.get_contact(latest) if latest else None
        if contact is not None and await _may_join(store, arrival, contact, customer_id):
            return Threading(entry.ticket, latest)
        why = f"it answers a mail of {entry.ticket}, whose customer writes from another address"
        named = Threading(named=entry.ticket, refused=why)
        break
    if named.named or not arrival.ticket_ref:
        return named
    latest = await store.ticket_contact(arrival.ticket_ref)
    contact = await store.get_contact(latest) if latest else None
    if contact is None:
        return named  # a ticket that does not exist: nothing to join, nothing to warn of
    if contact.customer_id != customer_id:
        why = f"its subject names {arrival.ticket_ref}, a ticket of another customer"
        return Threading(named=arrival.ticket_ref, refused=why)
    if not arrival.authenticated:
        why = f"its subject names {arrival.ticket_ref}, but its sender was not authenticated by the mail server"
        return Threading(named=arrival.ticket_ref, refused=why)
    return Threading(arrival.ticket_ref, latest)
