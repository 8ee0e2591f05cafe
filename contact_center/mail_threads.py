"""Which thread a fetched mail joins, and who may make it join one.

A ``From`` header, a ``Reply-To`` and a ticket number in a subject are claims anyone can write
(ticket numbers are sequential, so easy to guess). So a mail joins a thread only

- through ``In-Reply-To`` or ``References`` naming a Message-ID of the thread (which a stranger
  cannot guess), and only from the thread's customer's address or an address an agent sent a
  reply of the thread to (``To`` or ``Cc``: a message left in the chat widget is answered at
  the address the visitor typed, which is not the customer's proven one); or
- through the thread's ticket in its subject, and only when the trusted mail server
  authenticated the sender (``Arrival.authenticated``) and it is the thread's customer.

Anything else that names a thread opens a contact of its own, *linked* to that ticket and marked
as from an unverified sender, for the agent to judge: it never lands in someone else's thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contact_center.mail import Arrival, ThreadEntry, TicketView

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


def _may_join(arrival: Arrival, view: TicketView, customer_id: str) -> bool:
    return view.customer_id == customer_id or arrival.address in view.copied


def thread_for(
    arrival: Arrival, parents: list[ThreadEntry], customer_id: str, tickets: Mapping[str, TicketView]
) -> Threading:
    """Where ``arrival`` belongs, by the rules above; ``customer_id`` is the customer its From address names.

    ``parents`` are the mails it answers that the store knows (its In-Reply-To and References,
    nearest first); ``tickets`` the tickets they and the subject name, as the store has them
    (:class:`~contact_center.mail.FilingContext`). Nothing here reads the store.
    """
    named = Threading()
    for entry in parents:
        if not entry.ticket:
            continue
        view = tickets.get(entry.ticket)
        if view is not None and _may_join(arrival, view, customer_id):
            return Threading(entry.ticket, view.latest)
        why = f"it answers a mail of {entry.ticket}, whose customer writes from another address"
        named = Threading(named=entry.ticket, refused=why)
        break
    if named.named or not arrival.ticket_ref:
        return named
    view = tickets.get(arrival.ticket_ref)
    if view is None:
        return named  # a ticket that does not exist: nothing to join, nothing to warn of
    if view.customer_id != customer_id:
        why = f"its subject names {arrival.ticket_ref}, a ticket of another customer"
        return Threading(named=arrival.ticket_ref, refused=why)
    if not arrival.authenticated:
        why = f"its subject names {arrival.ticket_ref}, but its sender was not authenticated by the mail server"
        return Threading(named=arrival.ticket_ref, refused=why)
    return Threading(arrival.ticket_ref, view.latest)
