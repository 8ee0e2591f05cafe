"""What the service reports know of each contact: one column per fact, for many contacts at once.

Both stores read the same facts (:data:`FIELDS`) of the contacts that arrived in a span of time
and lay them out here: times as float arrays (NaN where something has not happened), names as
object arrays. One row per contact; :mod:`contact_center.service_figures` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from contact_center.model import Contact

__all__ = [
    "FIELDS", "ContactFacts", "arrival_order", "columns_of", "factorize", "facts_of", "facts_row", "in_arrival_order",
    "slot_of",
]  # fmt: skip

# The order of a row: the text facts first, then the times and the rating.
FIELDS = (
    "id", "channel", "customer_id", "state", "agent_id", "disposition",
    "created_at", "accepted_at", "answered_at", "closed_at", "slot", "rating",
)  # fmt: skip
_TEXT = 6
_FEW = (1, 3, 4, 5)  # channel, state, agent, disposition: a few texts, each repeated many times

Floats = npt.NDArray[np.float64]
Texts = npt.NDArray[np.object_]


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """The facts of ``len(self)`` contacts, in arrival order.

    ``accepted``: an agent first accepted it (chat, call, callback answered); ``answered``: an
    email's first response; ``closed``: it ended (closed or abandoned); ``slot``: a booked
    callback's hour; ``rating``: the customer's 1-5. NaN where there is none.
    """

    id: Texts
    channel: Texts
    customer: Texts
    state: Texts
    agent: Texts  # "" where no agent had it
    disposition: Texts  # "" where none was given
    created: Floats
    accepted: Floats
    answered: Floats
    closed: Floats
    slot: Floats
    rating: Floats

    def __len__(self) -> int:
        return len(self.created)

    @staticmethod
    def joined(parts: Sequence[ContactFacts]) -> ContactFacts:
        """The parts' facts one after the other (each part's contacts arrived after all of the one before's),
        each column copied once (none, when all but one part are empty)."""
        some = [p for p in parts if len(p)] or list(parts[:1])
        if not some:
            return columns_of(())
        if len(some) == 1:
            return some[0]
        return ContactFacts(*(np.concatenate([getattr(p, n) for p in some]) for n in _ATTRS))

    def put(self, rows: npt.NDArray[np.intp], part: ContactFacts) -> None:
        """Set the facts of ``rows`` to ``part``'s (one row of it each), in place."""
        for name in _ATTRS:
            getattr(self, name)[rows] = getattr(part, name)

    def take(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> ContactFacts:
        """The facts of the rows ``keep`` selects."""
        return ContactFacts(*(getattr(self, name)[keep] for name in _ATTRS))


_ATTRS = ("id", "channel", "customer", "state", "agent", "disposition",
          "created", "accepted", "answered", "closed", "slot", "rating")  # fmt: skip


def facts_row(c: Contact) -> tuple[Any, ...]:
    """A contact's facts in the order of :data:`FIELDS` (None where there is none)."""
    return (
        c.id, c.channel.value, c.customer_id, c.state.value, c.agent_id or "", c.disposition or "",
        c.created_at, c.accepted_at, c.answered_at, c.closed_at, slot_of(c.details), c.rating,
    )  # fmt: skip


def factorize(values: Texts, ordered: bool = True) -> tuple[list[str], npt.NDArray[np.intp]]:
    """The distinct texts (sorted if ``ordered``, else as first met) and each value's index among them.

    Dictionary look-ups in C (``dict.fromkeys``, ``map``), where numpy's own ``unique`` would first copy every
    text into a fixed-width array (several times slower for ids).
    """
    listed = values.tolist()
    names = list(dict.fromkeys(listed))
    if ordered:
        names.sort()
    code = {name: i for i, name in enumerate(names)}
    return names, np.fromiter(map(code.__getitem__, listed), dtype=np.intp, count=len(listed))


def slot_of(details: dict[str, Any]) -> float | None:
    slot = details.get("slot")
    return float(slot) if isinstance(slot, int | float) and not isinstance(slot, bool) else None


def facts_of(rows: Sequence[Sequence[Any]] | Iterable[Sequence[Any]]) -> ContactFacts:
    """Rows in the order of :data:`FIELDS` (None, or NaN, where a fact is missing), sorted by arrival (rows given
    in arrival order keep their order; others are sorted by arrival, then id)."""
    facts = columns_of(rows)
    return facts if in_arrival_order(facts) else facts.take(arrival_order(facts))


def in_arrival_order(facts: ContactFacts) -> bool:
    return len(facts) < 2 or bool((facts.created[1:] >= facts.created[:-1]).all())


def arrival_order(facts: ContactFacts) -> npt.NDArray[np.intp]:
    """The rows' order by arrival, ties by id."""
    return np.lexsort((facts.id.astype(str), facts.created))


def columns_of(rows: Sequence[Sequence[Any]] | Iterable[Sequence[Any]]) -> ContactFacts:
    """Rows in the order of :data:`FIELDS` laid out in columns, in the order given."""
    listed = list(rows)
    n = len(listed)
    by_field = list(zip(*listed, strict=True)) if listed else [()] * len(FIELDS)  # one pass, in C
    columns: list[Any] = []
    for i, values in enumerate(by_field):
        if i < _TEXT:
            col = np.empty(n, dtype=object)
            texts = [v or "" for v in values] if None in values else values
            if i in _FEW:  # each repeated text one object: counting them later stays in cache
                one = dict(zip(texts, texts, strict=True))
                texts = list(map(one.__getitem__, texts))
            col[:] = texts
        else:
            col = np.array(values, dtype=np.float64) if n else np.zeros(0)  # None is NaN
        columns.append(col)
    return ContactFacts(*columns)
