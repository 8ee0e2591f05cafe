"""BENCHMARKS.md and the router chart, written from bench/results/latest.json (sections: bench/sections.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bench.sections import SECTIONS, yardstick

__all__ = ["write_chart", "write_cluster_chart", "write_markdown"]


def write_chart(router: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = router["scaling"]
    waiting = [r["waiting"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    ax.plot(waiting, [r["pass_ms"] for r in rows], marker="o", label="one routing pass (ms)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("waiting contacts (1,000 agents, 20 skills)")
    ax.set_ylabel("milliseconds per pass")
    ax.grid(True, which="both", alpha=0.3)
    for r in rows:
        ax.annotate(
            f"{r['offers']} offers",
            (r["waiting"], r["pass_ms"]),
            textcoords="offset points",
            xytext=(4, -12),
            fontsize=7,
        )
    ax.set_title("Router cost as the queue grows")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_cluster_chart(cluster: dict[str, Any], path: Path) -> None:
    """Routed contacts per second by node count: the whole life of a chat, and a burst of arrivals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, drains = cluster["runs"], cluster.get("drains", [])
    labels = [f"{r['nodes']} node{'s' if r['nodes'] > 1 else ''}" for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4), dpi=110)
    left.bar(labels, [r["routed_per_s"] for r in runs], color="#0b6e4f")
    left.set_title("Chats handled start to end", fontsize=10)
    left.set_ylabel("contacts routed per second")
    for i, r in enumerate(runs):
        cores = sum(r["node_cpu_share"])
        left.annotate(f"{cores:.2f} cores", (i, r["routed_per_s"]), ha="center", va="bottom", fontsize=8)
    if drains:
        right.bar(labels, [d["offers_per_s"] for d in drains], color="#3a7ca5")
        right.set_title(f"Burst of {drains[0]['contacts']:,} arrivals offered", fontsize=10)
        right.set_ylabel("offers per second")
    for ax in (left, right):
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("Engine nodes sharing one Redis (2-core machine, load generator and Redis on it too)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_markdown(results: dict[str, Any], path: Path) -> None:
    m = results.get("machine", {})
    parts = [
        "# Benchmarks",
        "",
        "All figures come from one run of `make bench` (`python -m bench`), which writes",
        "`bench/results/latest.json`, `docs/router-scaling.png` and this file. One benchmark alone:",
        "`.venv/bin/python -m bench router` (or `e2e`, `relay`, `memory`, `cluster`, `email`, `logins`, `delivery`,",
        "`desk`, `replies`, `proofreading`, `callbacks`, `calls`, `supervisors`).",
        f"Machine: {m.get('cpus', '?')} cores, Python {m.get('python', '?')}, run on {m.get('when', '?')}.",
        "The engine runs in its own process; the load generator runs beside it on the same two cores.",
        *yardstick(results),
        "",
    ]
    for key, section in SECTIONS:
        if key in results:
            parts += section(results[key])
    text = "\n".join(parts)
    path.write_text(_merged(path.read_text(), text, m.get("when", "?")) if path.exists() else text)


def _sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text before the first ``## `` heading, and each section as (heading, whole text)."""
    pieces = re.split(r"(?m)^(?=## )", text)
    return pieces[0], [(piece.splitlines()[0], piece) for piece in pieces[1:]]


def _merged(old: str, new: str, when: str) -> str:
    """``new`` where it has a section; the sections only ``old`` has (benchmarks not run this time, whose
    figures are gone with a fresh clone's results file) carried over as they were, in their place.
    A section run alone says so under its heading."""
    old_head, old_parts = _sections(old)
    _, new_parts = _sections(new)
    fresh = dict(new_parts)
    if all(heading in fresh for heading, _ in old_parts):
        return new
    note = f"(This section alone was run on {when}; the others are from the runs they name.)\n"

    def alone(heading: str) -> str:
        body = fresh[heading].split("\n", 1)[1].lstrip("\n")
        return f"{heading}\n\n{note}\n{body}"

    out = [alone(h) if h in fresh else text for h, text in old_parts]
    out += [alone(h) for h, _ in new_parts if h not in dict(old_parts)]
    return old_head + "\n\n".join(piece.rstrip("\n") for piece in out) + "\n"
