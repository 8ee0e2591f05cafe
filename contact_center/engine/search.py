"""Finding a customer by what an agent knows of them: a name, an email address, a phone number or a ticket.

What the query looks like decides where to look: an address with ``@`` and a phone number are
exact identities (proven ones: what a customer only claimed finds nobody); a ticket reference
(``CS-12``) finds the customer of its latest contact; anything else is the start of a word of a
name. Every hit is read again from the store, so a merged or renamed customer is not shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from contact_center.config import Config
from contact_center.exceptions import BadMessage
from contact_center.fields import normalise_email, normalise_phone, require_text
from contact_center.mail import FilingContext
from contact_center.model import Customer, IdentityKind, name_words
from contact_center.store import CustomerStore

__all__ = ["CustomerSearch"]

_PHONE = re.compile(r"\+?[\d\s().-]{6,}")


class _Store(CustomerStore, Protocol):
    async def filing_context(
        self, message_ids: Sequence[str], address: str, ticket_ref: str, acks_to: str, acks_since: float
    ) -> FilingContext: ...


class CustomerSearch:
    """Search of customers (see the module's docstring)."""

    def __init__(self, store: _Store, config: Config) -> None:
        self._store = store
        self._ticket = re.compile(rf"(?i){re.escape(config.email.ticket_prefix)}-\d+")

    async def find(self, query: object, limit: int = 20) -> list[Customer]:
        text = require_text("query", query, 200).strip()
        if len(text) < 2:
            raise BadMessage("query: at least 2 characters", "invalid_field", field="query", problem="too_short")
        ids = await self._ids(text, limit)
        found = []
        for customer_id in ids:
            customer = await self._store.get_customer(customer_id)
            if customer is not None and (not self._by_name(text) or _named(customer, text)):
                found.append(customer)
        return found[:limit]

    async def _ids(self, text: str, limit: int) -> list[str]:
        if "@" in text:
            hit = await self._store.find_customer(IdentityKind.EMAIL, _or_raw(normalise_email, text))
            return [hit] if hit else []
        if self._ticket.fullmatch(text):
            context = await self._store.filing_context([], "", text.upper(), "", 0.0)
            return [t.customer_id for t in context.tickets.values()]
        if _PHONE.fullmatch(text):
            hit = await self._store.find_customer(IdentityKind.PHONE, _or_raw(normalise_phone, text))
            return [hit] if hit else []
        return await self._store.customers_named(text.split()[0], limit * 2)

    def _by_name(self, text: str) -> bool:
        return "@" not in text and not self._ticket.fullmatch(text) and not _PHONE.fullmatch(text)


def _named(customer: Customer, text: str) -> bool:
    """Every word typed starts a word of the customer's name, as it is now."""
    words = name_words(customer.name)
    return all(any(w.startswith(q) for w in words) for q in name_words(text))


def _or_raw(normalise: Callable[[str], str], text: str) -> str:
    """The identity as the store keeps it; what does not read as one is looked up as typed (and finds nobody)."""
    try:
        return normalise(text)
    except BadMessage:
        return text.lower()
