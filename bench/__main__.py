"""Run every benchmark, keep the figures in bench/results/latest.json, draw the router chart,
and rewrite BENCHMARKS.md from them.

    python -m bench            # all, about two minutes
    python -m bench router     # one of: router, e2e, relay, memory, cluster, email, logins, delivery, desk
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import cluster, delivery, desk_render, e2e, email, logins, memory, relay, router
from bench.report import write_chart, write_cluster_chart, write_markdown

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str]) -> int:
    wanted = argv or ["router", "e2e", "relay", "memory", "cluster", "email", "logins", "delivery", "desk"]
    latest = RESULTS / "latest.json"
    results: dict[str, Any] = json.loads(latest.read_text()) if latest.exists() else {}
    for name in wanted:
        print(f"== {name}", file=sys.stderr)
        if name == "router":
            results["router"] = router.run()
        elif name == "e2e":
            results["e2e"] = asyncio.run(e2e.rounds())
        elif name == "relay":
            results["relay"] = asyncio.run(relay.run())
        elif name == "memory":
            results["memory"] = asyncio.run(memory.run())
        elif name == "cluster":
            results["cluster"] = asyncio.run(cluster.run())
        elif name == "email":
            results["email"] = asyncio.run(email.run())
        elif name == "logins":
            results["logins"] = asyncio.run(logins.run())
        elif name == "delivery":
            results["delivery"] = asyncio.run(delivery.run())
        elif name == "desk":
            results["desk"] = asyncio.run(desk_render.run())
        else:
            print(f"unknown benchmark {name!r}", file=sys.stderr)
            return 2
    results["machine"] = {"python": platform.python_version(), "cpus": _cpus(), "when": time.strftime("%Y-%m-%d")}
    RESULTS.mkdir(exist_ok=True)
    latest.write_text(json.dumps(results, indent=2) + "\n")
    docs = Path(__file__).parents[1] / "docs"
    if "router" in results:
        write_chart(results["router"], docs / "router-scaling.png")
    if "cluster" in results:
        write_cluster_chart(results["cluster"], docs / "cluster-scaling.png")
    write_markdown(results, Path(__file__).parents[1] / "BENCHMARKS.md")
    print(json.dumps(results, indent=2))
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
