"""Today's facts kept as records are applied: every reading equals what reading the whole span from the store gives,
on both stores, while the store is read once (and again only when told, when the span moves, or after RELOAD_S)."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import numpy as np
import pytest

from contact_center.contact_facts import ContactFacts
from contact_center.model import Channel, Contact, ContactState
from contact_center.store import Changes, Store
from contact_center.today_facts import RELOAD_S, TodayFacts

SINCE = 1_796_000_000.0
UNTIL = SINCE + 2 * 86_400


class Counted:
    """A real store whose span reads are counted (everything else goes straight to it)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.reads = 0

    async def contact_facts(self, since: float, until: float) -> ContactFacts:
        self.reads += 1
        return await self.store.contact_facts(since, until)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def arriving(n: int, at: float) -> Contact:
    return Contact(f"c{n:04d}", Channel.CHAT, f"cu{n % 7}", ContactState.QUEUED, at, at, [("general", 1)], version=1)


async def write(store: Store, today: TodayFacts, *contacts: Contact) -> None:
    """What a unit of work does: the records written, and the node applying them (which TodayFacts hears)."""
    await store.commit(Changes(contacts=contacts, expected={}))
    for contact in contacts:
        today.heard(contact)


def same(a: ContactFacts, b: ContactFacts) -> None:
    for field in dataclasses.fields(ContactFacts):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if x.dtype == np.float64:
            np.testing.assert_array_equal(x, y, err_msg=field.name)  # NaN equals NaN here
        else:
            assert x.tolist() == y.tolist(), field.name


async def test_every_reading_equals_the_store_read_whole_while_the_store_is_read_once(store: Store):
    """A day of random arrivals (some committed after later ones, some finished as they came), answers, closes and
    ratings: after each step the kept facts equal a fresh read of the span; the span was read from the store once."""
    rng = random.Random(18)
    counted, today = Counted(store), TodayFacts()
    first = [arriving(n, SINCE + 10 * n) for n in range(5)]
    await store.commit(Changes(contacts=tuple(first), expected={}))  # before the first reading: read, not heard
    await today.facts(counted, SINCE, UNTIL, 0.0)  # type: ignore[arg-type]
    live = {c.id: c for c in first}
    for step in range(60):
        at = SINCE + 100 + 20 * step
        moves: list[Contact] = []
        for _ in range(rng.randint(1, 3)):
            n = len(live)
            late = rng.random() < 0.2  # its unit committed after later arrivals'
            came = arriving(n, at - (rng.uniform(5, 60) if late else 0))
            if rng.random() < 0.1:  # gone before anyone saw it: finished in the unit that made it
                came = dataclasses.replace(came, state=ContactState.ABANDONED, closed_at=at)
            moves.append(came)
        for c in rng.sample(sorted(live.values(), key=lambda c: c.id), k=min(3, len(live))):
            moves.append(_next(c, at, rng))
        for c in moves:
            live[c.id] = c
        await write(store, today, *{c.id: c for c in moves}.values())
        kept = await today.facts(counted, SINCE, UNTIL, float(step))  # type: ignore[arg-type]
        same(kept, await store.contact_facts(SINCE, UNTIL))
    assert counted.reads == 1
    assert len(kept) == len(live)


def _next(c: Contact, at: float, rng: random.Random) -> Contact:
    """The contact's next step: offered and accepted, closed, or (closed) rated."""
    if c.state == ContactState.QUEUED:
        return dataclasses.replace(c, state=ContactState.ASSIGNED, agent_id=f"a{rng.randint(1, 3)}", accepted_at=at,
                                   version=c.version + 1)  # fmt: skip
    if c.state == ContactState.ASSIGNED:
        return dataclasses.replace(c, state=ContactState.CLOSED, closed_at=at, disposition="resolved",
                                   version=c.version + 1)  # fmt: skip
    return dataclasses.replace(c, rating=rng.randint(1, 5), version=c.version + 1)


async def test_a_record_outside_the_span_is_not_kept(store: Store):
    """Yesterday's contact closing today, and tomorrow's beyond the span, leave today's facts alone."""
    today = TodayFacts()
    await today.facts(store, SINCE, UNTIL, 0.0)
    await write(store, today, arriving(1, SINCE - 60), arriving(2, UNTIL + 1), arriving(3, SINCE + 5))
    kept = await today.facts(store, SINCE, UNTIL, 1.0)
    assert kept.id.tolist() == ["c0003"]


async def test_what_changed_without_being_heard_is_read_when_told_when_the_span_moves_or_after_a_while(store: Store):
    """A change the node never applied (a merge, a missed announcement) shows once told to read again, once the
    day turns, or at the net of RELOAD_S; not before."""
    counted, today = Counted(store), TodayFacts()
    await write(store, today, arriving(1, SINCE + 5))
    assert (await today.facts(counted, SINCE, UNTIL, 0.0)).customer.tolist() == ["cu1"]  # type: ignore[arg-type]
    quiet = dataclasses.replace(arriving(1, SINCE + 5), customer_id="merged", version=2)
    await store.commit(Changes(contacts=(quiet,), expected={}))  # not heard
    assert (await today.facts(counted, SINCE, UNTIL, 1.0)).customer.tolist() == ["cu1"]  # type: ignore[arg-type]
    today.reread()
    assert (await today.facts(counted, SINCE, UNTIL, 2.0)).customer.tolist() == ["merged"]  # type: ignore[arg-type]
    later = dataclasses.replace(quiet, customer_id="again", version=3)
    await store.commit(Changes(contacts=(later,), expected={}))
    assert (await today.facts(counted, SINCE, UNTIL, 2.0 + RELOAD_S)).customer.tolist() == ["again"]  # type: ignore[arg-type]
    moved = await today.facts(counted, SINCE + 86_400, UNTIL + 86_400, 3.0 + RELOAD_S)  # type: ignore[arg-type]
    assert len(moved) == 0 and counted.reads == 4


async def test_a_failed_read_is_tried_again_at_the_next_reading(store: Store):
    """The store away while the day is read: the reading fails, and the next one reads it whole."""

    class Failing(Counted):
        async def contact_facts(self, since: float, until: float) -> ContactFacts:
            self.reads += 1
            if self.reads == 1:
                raise ConnectionError("store away")
            return await self.store.contact_facts(since, until)

    failing, today = Failing(store), TodayFacts()
    await store.commit(Changes(contacts=(arriving(1, SINCE + 5),), expected={}))
    with pytest.raises(ConnectionError):
        await today.facts(failing, SINCE, UNTIL, 0.0)  # type: ignore[arg-type]
    assert (await today.facts(failing, SINCE, UNTIL, 1.0)).id.tolist() == ["c0001"]  # type: ignore[arg-type]
