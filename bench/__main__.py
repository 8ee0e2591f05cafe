"""Run every benchmark, keep the figures in bench/results/latest.json, draw the router chart,
and rewrite BENCHMARKS.md from them.

    python -m bench            # all, about two minutes
    python -m bench router     # one of: router, e2e, relay, memory, cluster, email, logins, delivery, desk, replies,
                               # proofreading, callbacks, calls, supervisors, soak, dashboard
    SOAK_MINUTES=60 python -m bench soak   # the soak for an hour (default: 4 minutes; SOAK_RATE visitors/s, 5)
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import (
    callbacks,
    calls,
    cluster,
    dashboard_reading,
    delivery,
    desk_render,
    e2e,
    email,
    logins,
    memory,
    proofreading,
    relay,
    replies,
    router,
    soak,
    supervisors,
)
from bench.report import write_chart, write_cluster_chart, write_markdown

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str]) -> int:
    wanted = argv or [
        "router", "e2e", "relay", "memory", "cluster", "email", "logins", "delivery", "desk", "replies", "proofreading",
        "callbacks", "calls", "supervisors", "soak", "dashboard",
    ]  # fmt: skip
    latest = RESULTS / "latest.json"
    results: dict[str, Any] = json.loads(latest.read_text()) if latest.exists() else {}
    runners = {
        "router": router.run,
        "e2e": lambda: asyncio.run(e2e.rounds()),
        "relay": lambda: asyncio.run(relay.run()),
        "memory": lambda: asyncio.run(memory.run()),
        "cluster": lambda: asyncio.run(cluster.run()),
        "email": lambda: asyncio.run(email.run()),
        "logins": lambda: asyncio.run(logins.run()),
        "delivery": lambda: asyncio.run(delivery.run()),
        "desk": lambda: asyncio.run(desk_render.run()),
        "replies": replies.run,
        "proofreading": proofreading.run,
        "callbacks": callbacks.run,
        "calls": lambda: asyncio.run(calls.run()),
        "supervisors": supervisors.run,
        "soak": lambda: asyncio.run(soak.run()),
        "dashboard": lambda: asyncio.run(dashboard_reading.run()),
    }
    for name in wanted:
        print(f"== {name}", file=sys.stderr)
        if name not in runners:
            print(f"unknown benchmark {name!r}", file=sys.stderr)
            return 2
        results[name] = runners[name]()
    results["machine"] = {"python": platform.python_version(), "cpus": _cpus(), "when": time.strftime("%Y-%m-%d")}
    RESULTS.mkdir(exist_ok=True)
    latest.write_text(json.dumps(results, indent=2) + "\n")
    docs = Path(__file__).parents[1] / "docs"
    if "router" in results:
        write_chart(results["router"], docs / "router-scaling.png")
    if "cluster" in results:
        write_cluster_chart(results["cluster"], docs / "cluster-scaling.png")
    if "soak" in wanted:
        soak.write_chart(results["soak"], docs / "soak.png")
    write_markdown(results, Path(__file__).parents[1] / "BENCHMARKS.md")
    print(json.dumps(results, indent=2))
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
