"""The dashboard's reading at the end of a busy hour: what one reading of today's and this week's figures costs the
event loop, read every second while a supervisor watches and every 15 s for the service-level gauges.

A day of ``contacts`` (chat, email, callbacks, some abandoned; the soak's hour at 5 a second is 18,000) in the
embedded store; the figures read once (the day loaded), then ``readings`` readings with 20 new records noted
before each, as the engine notes them. Baseline in the same run: the same figures from the same facts with each
span (the day, the week, the hours) measured alone, as every reading did before the contacts were measured once.

    python -m bench dashboard
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.figures import median
from contact_center.config import parse_config
from contact_center.contact_facts import ContactFacts
from contact_center.dashboard_figures import DashboardFigures
from contact_center.model import Channel, Contact, ContactState
from contact_center.service_figures import Rules, figures_of, hourly_of, measured_of
from contact_center.service_report import rules_of
from contact_center.sla import BusinessCalendar, Period
from contact_center.store import Changes
from contact_center.store.sqlite import SqliteStore

__all__ = ["run", "section"]

_CHANNELS = [Channel.CHAT] * 7 + [Channel.EMAIL] * 2 + [Channel.CALLBACK]


def _contact(rng: random.Random, created: float, n: int) -> Contact:
    channel = rng.choice(_CHANNELS)
    if rng.random() < 0.1:
        return Contact(uuid.uuid4().hex[:16], channel, f"cu{rng.randrange(n)}", ContactState.ABANDONED, created,
                       created, [("general", 1)], closed_at=created + rng.expovariate(1 / 30), version=1)  # fmt: skip
    accepted = created + rng.expovariate(1 / 8)
    c = Contact(uuid.uuid4().hex[:16], channel, f"cu{rng.randrange(n)}", ContactState.CLOSED, created, created,
                [("general", 1)], agent_id=f"agent{rng.randrange(10)}", accepted_at=accepted,
                closed_at=accepted + rng.expovariate(1 / 20), version=1)  # fmt: skip
    if channel == Channel.EMAIL:
        c.answered_at = accepted
    return c


async def _fill(store: SqliteStore, now: float, contacts: int) -> None:
    rng, batch = random.Random(7), []
    for n in range(contacts):
        batch.append(_contact(rng, now - 3600 + n * 3600 / contacts, contacts))
        if len(batch) == 1000 or n == contacts - 1:
            await store.commit(Changes(contacts=tuple(batch), expected={f"contact:{c.id}": 0 for c in batch}))
            batch = []


def _computed(facts: ContactFacts, cal: BusinessCalendar, rules: Rules, now: float, shared: bool) -> float:
    """Seconds to make the day's, the week's and the hours' figures from ``facts`` (measured once, or per span)."""
    today = cal.local_date(now)
    since = now - 7 * 86_400
    started = time.perf_counter()
    measured = measured_of(facts, cal, rules, now) if shared else None
    figures_of(facts, cal, rules, now, Period.DAY, today, today, now - 86_400, now + 86_400, measured)
    figures_of(facts, cal, rules, now, Period.WEEK, today, today, since, now + 86_400, measured)
    hourly_of(facts, cal, rules, now, today, measured)
    return time.perf_counter() - started


async def run(contacts: int = 18_000, readings: int = 30) -> dict[str, Any]:
    config = parse_config({})
    cal, rules, now = config.sla.calendar, rules_of(config), time.time()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "day.sqlite3")
        await _fill(store, now, contacts)
        figures = DashboardFigures(store, cal, rules, {**config.reports.targets, "email": config.email.target})
        await figures.read(now)
        reading_ms, pairs = [], []
        for k in range(readings):
            for j in range(20):
                figures.heard(_contact(rng, now + k + j / 20, contacts))
            started = time.perf_counter()
            await figures.read(now + k + 1)
            reading_ms.append((time.perf_counter() - started) * 1000)
            facts = await store.contact_facts(now - 7 * 86_400, now + 86_400)
            alone = _computed(facts, cal, rules, now + k + 1, shared=False)
            pairs.append((_computed(facts, cal, rules, now + k + 1, shared=True) * 1000, alone * 1000))
        await store.close()
    reading_ms.sort()
    return {
        "contacts": contacts,
        "readings": readings,
        "reading_p50_ms": statistics.median(reading_ms),
        "reading_max_ms": reading_ms[-1],
        "shared_p50_ms": median(pairs, 0),
        "alone_p50_ms": median(pairs, 1),
        "ratio": median(pairs, 0) / median(pairs, 1),
    }


def section(r: dict[str, Any]) -> list[str]:
    return [
        "## The dashboard's reading",
        "",
        f"`bench/dashboard_reading.py`: one reading of the dashboard's figures (today, this week, today by hour, the "
        f"agents' day) with {r['contacts']:,} contacts today, as at the end of the soak's hour, after 20 new records "
        f"noted; {r['readings']} readings. The event loop does nothing else meanwhile, so this is how late every "
        "message on the node can be, once a second while a supervisor watches and every 15 s for the gauges.",
        "",
        "| figure | measured |",
        "|---|---|",
        f"| a reading, p50 and longest | {r['reading_p50_ms']:.1f} ms, {r['reading_max_ms']:.1f} ms |",
        f"| the figures from the facts, contacts measured once | {r['shared_p50_ms']:.1f} ms |",
        f"| baseline: each span measured alone | {r['alone_p50_ms']:.1f} ms |",
        f"| ratio | {r['ratio']:.2f} |",
        "",
    ]


if __name__ == "__main__":
    print(asyncio.run(run()))
