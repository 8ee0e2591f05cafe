"""The supervisors' side at scale: a simulated day of 100,000 contacts, and a year's service report.

- **Simulator**: a day of 100,000 contacts (chat, email, calls; Poisson arrivals, exponential
  handle times, impatient callers) through the real integrated queue and router, under each of
  the four policies, 155 agents (chat 2 at once, email 1, a call alone). Baseline in the same run:
  the same arrivals through a bare
  first-come-first-served simulation (a heap of agents' free times, no router, no queue): what
  the event loop alone costs.
- **Service report**: a year of 150,000 contacts (at least a million history events: a chat
  answered and closed records seven, one message each way) in the embedded store and on a private
  redis-server; the service report for the
  year by month, five times each. Baseline in the same run: the email promise's report on the
  same store (the one that was there before).
"""

from __future__ import annotations

import asyncio
import heapq
import random
import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.cluster import RedisProcess
from channels.registry import channel_kinds
from contact_center.config import parse_config
from contact_center.model import Channel, Contact, ContactState
from contact_center.reports import email_attainment
from contact_center.service_report import rules_of, service_report
from contact_center.simulation import POLICIES, SimAgent, simulate
from contact_center.simulation_traffic import generated
from contact_center.sla import Period
from contact_center.store import Changes, Store
from contact_center.store.redis import RedisStore
from contact_center.store.sqlite import SqliteStore

__all__ = ["run", "section"]

DAY_CONTACTS = 100_000
YEAR_CONTACTS = 150_000
EVENTS_PER_CONTACT = 7  # the fewest a chat records: created, its message, offered, assigned, a reply, wrap-up, closed
AGENTS = 155
START = 1_767_200_400.0  # 2026-01-01 00:00 in Jakarta


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fcfs(arrivals: list[Any], agents: int) -> None:
    free = [0.0] * agents
    for a in arrivals:
        heapq.heapreplace(free, max(a.at, free[0]) + a.handle_s)


def simulator() -> dict[str, Any]:
    config = parse_config({})
    kinds, thresholds = channel_kinds(config), rules_of(config).thresholds
    rates = {"chat": 2600.0, "email": 1000.0, "call": 566.7}  # an hour, all day: 100,000 a day
    day = generated(rates, {"chat": 240, "email": 420, "call": 200}, START, seed=11, patience_s={"call": 120})
    day = day[:DAY_CONTACTS]
    # Staffed near its targets (calls about 90 % in 30 s): the free agents a pass looks at are what a day has.
    agents = [SimAgent(f"a{n}", {"general": 3}, {"chat": 2, "email": 1, "call": 1}) for n in range(AGENTS)]
    started = time.perf_counter()
    _fcfs(day, AGENTS)
    baseline_s = time.perf_counter() - started
    runs = []
    for name in POLICIES:
        before = _rss_mib()
        started = time.perf_counter()
        result = simulate(day, agents, kinds, config.routing.policy, thresholds, name)
        took = time.perf_counter() - started
        runs.append({"policy": name, "seconds": took, "contacts_per_s": len(day) / took, "passes": result.passes,
                     "rss_growth_mib": _rss_mib() - before,
                     "service_levels": {ch: c.service_level for ch, c in result.channels.items()}})  # fmt: skip
    return {"contacts": len(day), "agents": AGENTS, "baseline_s": baseline_s, "runs": runs}


async def _fill(store: Store) -> None:
    rng = random.Random(5)
    customers = [f"cu{n}" for n in range(50_000)]  # contacts name them; reports do not read the customers
    batch: list[Contact] = []
    channels = [Channel.CHAT] * 5 + [Channel.EMAIL] * 3 + [Channel.CALL] + [Channel.CALLBACK]
    with tqdm(total=YEAR_CONTACTS, desc="a year of contacts", unit="contact") as bar:
        for n in range(YEAR_CONTACTS):
            created = START + n * (365 * 86_400 / YEAR_CONTACTS)
            accepted = created + rng.expovariate(1 / 40)
            c = Contact(uuid.uuid4().hex[:16], rng.choice(channels), rng.choice(customers), ContactState.CLOSED,
                        created, created, [("general", 1)], agent_id=f"agent{n % 60}", accepted_at=accepted,
                        closed_at=accepted + rng.expovariate(1 / 300), version=1,
                        rating=rng.randint(1, 5) if n % 7 == 0 else None)  # fmt: skip
            if c.channel == Channel.EMAIL:
                c.answered_at = accepted + rng.expovariate(1 / 3600)
            batch.append(c)
            if len(batch) == 1000:
                await store.commit(Changes(contacts=tuple(batch), expected={f"contact:{x.id}": 0 for x in batch}))
                bar.update(len(batch))
                batch = []


async def _report(store: Store) -> dict[str, Any]:
    config = parse_config({})
    calendar, rules, now = config.sla.calendar, rules_of(config), START + 366 * 86_400
    first, last = calendar.local_date(START), calendar.local_date(START + 364 * 86_400)
    report_s, baseline_s = [], []
    for _ in range(5):
        started = time.perf_counter()
        made = await service_report(store, calendar, rules, now, Period.MONTH, first, last)
        report_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        await email_attainment(store, calendar, config.email.promise, now, Period.MONTH, first, last)
        baseline_s.append(time.perf_counter() - started)
    arrived = sum(s.arrived for s in made.figures.totals)
    return {"contacts": arrived, "p50_s": statistics.median(report_s), "max_s": max(report_s),
            "baseline_p50_s": statistics.median(baseline_s)}  # fmt: skip


async def service_reports() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = SqliteStore(Path(tmp) / "year.sqlite3")
        await _fill(sqlite)
        out["sqlite"] = await _report(sqlite)
        await sqlite.close()
        redis = RedisProcess()
        redis.start()
        try:
            store = await RedisStore(redis.url, "bench:").open()
            await _fill(store)
            out["redis"] = await _report(store)
            await store.close()
        finally:
            redis.stop()
    return out


def run() -> dict[str, Any]:
    return {"simulator": simulator(), "report": asyncio.run(service_reports())}


def _verdict(worst: float, target: float) -> str:
    return "met" if worst <= target else f"missed, by {worst / target - 1:.0%} at worst"


def section(r: dict[str, Any]) -> list[str]:
    sim, rep = r["simulator"], r["report"]
    lines = [
        "## Supervisors: the routing simulator and the service report",
        "",
        f"**Simulator** (`bench/supervisors.py`): a day of {sim['contacts']:,} contacts (chat, email, calls with "
        f"impatient callers) through the real queue and router, {sim['agents']} agents, under each policy. "
        f"Baseline in the same run: the same arrivals through a bare first-come-first-served loop, "
        f"{sim['baseline_s']:.2f} s. The target is 10 s a day: {_verdict(max(x['seconds'] for x in sim['runs']), 10)}. "
        "Nearly all of it is the router's passes, one per arrival or agent come free; each is given only the "
        "agents with room on a line that waits (an agent who could be offered none of its contacts changes no "
        "decision), about a quarter of the floor at this load.",
        "",
        "| policy | seconds | contacts per second | routing passes | × baseline | RSS growth "
        "| service level (chat / email / call) |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in sim["runs"]:
        sl = " / ".join("-" if x["service_levels"].get(ch) is None else f"{x['service_levels'][ch]:.1%}"
                        for ch in ("chat", "email", "call"))  # fmt: skip
        lines.append(f"| {x['policy']} | {x['seconds']:.2f} | {x['contacts_per_s']:,.0f} | {x['passes']:,} | "
                     f"{x['seconds'] / sim['baseline_s']:.0f}× | {x['rss_growth_mib']:.0f} MiB | {sl} |")  # fmt: skip
    lines += [
        "",
        f"**Service report**: a year of {YEAR_CONTACTS:,} contacts (at least {YEAR_CONTACTS * EVENTS_PER_CONTACT:,} "
        "history events: a chat answered and closed records seven), the report "
        "for the year by month, five runs. Baseline in the same run: the email promise's report on the same store. "
        f"The target is 1 s: {_verdict(max(x['p50_s'] for x in rep.values()), 1)} (p50). Most of it is reading "
        "and laying out the rows (SQLite's fetch, Redis's transfer and one JSON parse) and grouping by customer; "
        "the cyclic collector is held back while rows become columns (its passes over rows about to die took a "
        "fifth of the time).",
        "",
        "| store | contacts counted | p50 | max | email report p50 (baseline) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("sqlite", "redis"):
        x = rep.get(name)
        if x:
            lines.append(f"| {name} | {x['contacts']:,} | {x['p50_s']:.2f} s | {x['max_s']:.2f} s | "
                         f"{x['baseline_p50_s']:.2f} s | {x['p50_s'] / x['baseline_p50_s']:.1f}× |")  # fmt: skip
    return [*lines, ""]
