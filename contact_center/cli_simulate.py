"""``contact-center simulate``: a day through the real queue and router under each routing policy, side by side.

contact-center simulate --arrivals-per-hour chat=120 --handle-s chat=240 [--patience-s chat=90]
                        --agents 12 [--skill general=3] [--capacity chat=2] [--policy all] [--chart FILE]
contact-center simulate --history 2026-11-30 --agents 12 ...     (the day as it happened, from the store)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from contact_center.config import Config
from contact_center.service_report import read_facts, rules_of
from contact_center.simulation import POLICIES, Arrival, SimAgent, SimResult, simulate
from contact_center.simulation_traffic import generated
from contact_center.store import open_store

__all__ = ["add_simulate_parser", "simulate_day"]


def _pairs(values: list[str], what: str, number: type = float) -> dict[str, Any]:
    out = {}
    for item in values:
        name, sep, text = item.partition("=")
        try:
            value: Any = [number(v) for v in text.split(",")] if "," in text else number(text)
        except ValueError:
            value = None
        if not sep or not name or value is None:
            raise SystemExit(f"simulate: --{what} {item!r}: write NAME=NUMBER (or 24 numbers, one per hour)")
        out[name] = value
    return out


def add_simulate_parser(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="replay a day through the real queue and router, faster than real time, and compare policies",
        description="Service level per channel for a day of traffic (generated, or from the history) with the "
        "agents given, under each routing policy: " + ", ".join(POLICIES) + ".",
    )
    p.add_argument("--history", type=date.fromisoformat, help="replay this local day from the store")
    p.add_argument(
        "--arrivals-per-hour", action="append", default=[], metavar="CHANNEL=RATE",
        help="generated arrivals: a rate for the day, or 24 comma-separated (repeat per channel)",
    )  # fmt: skip
    p.add_argument("--handle-s", action="append", default=[], metavar="CHANNEL=SECONDS", help="mean handle time")
    p.add_argument("--patience-s", action="append", default=[], metavar="CHANNEL=SECONDS", help="mean patience")
    p.add_argument("--agents", type=int, required=True, help="agents on all day")
    p.add_argument(
        "--skill", action="append", default=[], metavar="NAME=LEVEL", help="their skills (default general=3)"
    )
    p.add_argument("--capacity", action="append", default=[], metavar="CHANNEL=N", help="contacts at once per channel")
    p.add_argument("--policy", choices=[*POLICIES, "all"], default="all")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chart", type=Path, help="write the comparison as a PNG chart here")
    p.add_argument("--format", choices=("text", "json"), default="text")


async def _day(config: Config, args: argparse.Namespace) -> list[Arrival]:
    calendar = config.sla.calendar
    if args.history is not None:
        from contact_center.simulation_traffic import from_history

        since = datetime.combine(args.history, clock_time(), calendar.zone).timestamp()
        until = datetime.combine(args.history + timedelta(days=1), clock_time(), calendar.zone).timestamp()
        store = await open_store(config.store)
        try:
            return from_history(await read_facts(store, since, until))
        finally:
            await store.close()
    rates = _pairs(args.arrivals_per_hour, "arrivals-per-hour")
    if not rates:
        raise SystemExit("simulate: say --history DAY, or --arrivals-per-hour CHANNEL=RATE for each channel")
    today = calendar.local_date(time.time())
    start = datetime.combine(today, clock_time(), calendar.zone).timestamp()
    handle = _pairs(args.handle_s, "handle-s")
    try:
        return generated(rates, handle, start, args.seed, _pairs(args.patience_s, "patience-s"))
    except ValueError as exc:
        raise SystemExit(f"simulate: {exc}") from None


def simulate_day(config: Config, args: argparse.Namespace) -> None:
    """Run the day under the policies asked for; a table (or JSON), and the chart if asked."""
    from channels.registry import channel_kinds

    if args.agents < 1:
        raise SystemExit("simulate: --agents must be 1 or more")
    arrivals = asyncio.run(_day(config, args))
    skills = _pairs(args.skill, "skill", int) or {"general": 3}
    capacity = dict(config.desk.default_capacity) | _pairs(args.capacity, "capacity", int)
    agents = [SimAgent(f"agent-{n + 1}", skills, capacity) for n in range(args.agents)]
    thresholds = {ch: t for ch, t in rules_of(config).thresholds.items() if any(a.channel == ch for a in arrivals)}
    kinds, policy = channel_kinds(config), config.routing.policy
    names = POLICIES if args.policy == "all" else (args.policy,)
    started = time.perf_counter()
    results = [simulate(arrivals, agents, kinds, policy, thresholds, name) for name in names]
    took = time.perf_counter() - started
    if args.chart is not None:
        from contact_center.report_chart import simulation_png

        args.chart.write_bytes(simulation_png(results, {**config.reports.targets, "email": config.email.target}))
    if args.format == "json":
        print(json.dumps({"contacts": len(arrivals), "agents": args.agents, "seconds": round(took, 3),
                          "results": [r.to_json() for r in results]}))  # fmt: skip
        return
    _table(results, len(arrivals), args.agents, took)


def _table(results: list[SimResult], contacts: int, agents: int, took: float) -> None:
    print(
        f"{contacts:,} contacts, {agents} agents; {len(results)} run{'s' if len(results) > 1 else ''} in {took:.1f} s"
    )
    print(f"{'policy':<14} {'channel':<9} {'offered':>8} {'in time':>8} {'service':>8} {'speed':>9} {'abandoned':>9}")
    for r in results:
        for c in r.channels.values():
            sl = "-" if c.service_level is None else f"{c.service_level:.1%}"
            asa = "-" if c.asa_s is None else f"{c.asa_s:.1f} s"
            print(f"{r.policy:<14} {c.channel:<9} {c.offered:>8,} {c.in_time:>8,} {sl:>8} {asa:>9} {c.abandoned:>9,}")
    sys.stdout.flush()
