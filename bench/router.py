"""Router throughput: offers per second for 10,000 waiting contacts x 1,000 agents with 20 skills.

The baseline, measured in the same run on the same snapshot, is the obvious full scan
(:func:`routing.reference.route_by_scan`), which decides exactly the same offers.
"""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from typing import Any

from tqdm import tqdm

from routing import AgentState, RoutingPolicy, SkillRequirement, Snapshot, WaitingContact, WideningStep, route
from routing.reference import route_by_scan

NOW = 1_800_000_000.0
SKILLS = [f"skill_{i:02d}" for i in range(20)]
POLICY = RoutingPolicy(
    widening=(WideningStep(30, relax_levels=1), WideningStep(60, relax_levels=4, drop_secondary=True)),
    value_bands=(100.0, 1000.0),
)


def make_agents(n: int, rng: random.Random) -> tuple[AgentState, ...]:
    agents = []
    for i in range(n):
        skills = {s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(3, 8))}
        agents.append(
            AgentState(f"agent-{i}", skills, {"chat": 3, "email": 5, "call": 1}, {}, NOW - rng.uniform(0, 3600))
        )
    return tuple(agents)


def make_contacts(n: int, rng: random.Random) -> tuple[WaitingContact, ...]:
    contacts = []
    for i in range(n):
        channel = rng.choices(["chat", "email", "call"], [6, 3, 1])[0]
        reqs = [SkillRequirement(rng.choice(SKILLS), rng.randint(1, 4))]
        if rng.random() < 0.3:
            reqs.append(SkillRequirement(rng.choice(SKILLS), rng.randint(1, 3)))
        enqueued = NOW - rng.uniform(0, 600)
        contacts.append(
            WaitingContact(
                f"contact-{i}",
                channel,
                tuple(reqs),
                enqueued,
                priority=int(rng.random() < 0.05),
                value=rng.choice([0.0, 50.0, 500.0, 5000.0]),
                due_at=enqueued + 120,
            )
        )
    return tuple(contacts)


def time_pass(snapshot: Snapshot, fn: Any = route, repeat: int = 5) -> tuple[float, int]:
    """Median seconds of one routing pass, and the offers it made."""
    times, offers = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        offers = len(fn(snapshot, POLICY))
        times.append(time.perf_counter() - start)
    return statistics.median(times), offers


def run(quick: bool = False) -> dict[str, Any]:
    rng = random.Random(7)
    agents = make_agents(1000, rng)
    contacts = make_contacts(100_000, rng)
    main = Snapshot(contacts[:10_000], agents, NOW)
    seconds, offers = time_pass(main)
    tracemalloc.start()
    route(main, POLICY)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    base_seconds, base_offers = time_pass(main, route_by_scan, repeat=1)
    assert base_offers == offers, "the baseline must decide the same offers"
    scaling = []
    sizes = [100, 1_000, 10_000] if quick else [100, 1_000, 10_000, 30_000, 100_000]
    for n in tqdm(sizes, desc="router scaling", unit="size"):
        s, o = time_pass(Snapshot(contacts[:n], agents, NOW), repeat=3)
        scaling.append({"waiting": n, "pass_ms": s * 1000, "offers": o, "us_per_waiting": s / n * 1e6})
    return {
        "waiting": 10_000,
        "agents": 1_000,
        "skills": 20,
        "offers": offers,
        "pass_ms": seconds * 1000,
        "offers_per_s": offers / seconds,
        "baseline_pass_ms": base_seconds * 1000,
        "baseline_offers_per_s": base_offers / base_seconds,
        "speedup_vs_scan": base_seconds / seconds,
        "peak_alloc_mib": peak / 2**20,
        "scaling": scaling,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
