"""Figures kept for BENCHMARKS.md from runs measured once by hand for issue 18 (runs for weeks), beside the soak.

- What each change did to the soak's memory: 10- and 12-minute soaks (``SOAK_MINUTES=10``) at 5 new visitors a
  second, one after another on one machine (2026-12-07), each on the code up to that commit.
- The collector's settings: the same soak on the same code with ``serve``'s settings and with CPython's own (the
  engine started with ``gc.freeze`` and ``gc.set_threshold`` made no-ops).
- The relay and end-to-end benchmarks, alternating runs of the code before issue 18 (35ca02c, from a worktree) and
  after it.

Kept here, not in the results file, so a fresh run of the benchmarks keeps them.
"""

from __future__ import annotations

from typing import Any

from bench.figures import each as _each
from bench.figures import median as _median

__all__ = ["COLLECTOR", "ISSUE18_AB", "STEPS", "section"]

# (commit, what it changed, RSS growth after settling in MiB an hour, objects freed by the collector per visitor)
STEPS: list[tuple[str, str, float, str]] = [
    (
        "89af7c6",
        "sockets' own cycles broken, aiohttp's heartbeat still on (the session before's 12 minutes)",
        36.3,
        "not counted",
    ),
    ("a9b6cee", "our own heartbeat: aiohttp's cycle gone too", 36.5, "0"),
    ("59febea", "a desk's finished conversations forgotten", 27.0, "0"),
    ("e35997c", "the day's figures kept as records apply, not read whole each time", 19.3, "0"),
]

# settings -> (longest pause ms, collections in 10 minutes, RSS growth MiB an hour, objects found in cycles)
COLLECTOR: dict[str, tuple[float, int, float, int]] = {
    "serve's: gc.freeze() after start, generation 2 at 1,000": (0.71, 34, 19.3, 0),
    "CPython's own: no freeze, generation 2 at 10": (3.78, 35, 19.5, 0),
}

# relay: (engine CPU µs per message, ratio to the echo); e2e: (p50 ms, p99 ms, engine CPU share)
ISSUE18_AB: dict[str, dict[str, list[tuple[float, ...]]]] = {"relay": {"before": [], "after": []},
                                                            "e2e": {"before": [], "after": []}}  # fmt: skip


def _cells(runs: list[tuple[float, ...]], fmts: tuple[str, ...]) -> str:
    return " | ".join(f"{_median(runs, i):{fmt}} ({_each(runs, i, fmt)})" for i, fmt in enumerate(fmts))


def section(_: dict[str, Any]) -> list[str]:
    parts = [
        "What each change of issue 18 did to the soak's memory (10-12 minute runs, the growth after settling as a",
        "rate; the objects the cyclic collector found, per visitor):",
        "",
        "| commit | change | RSS growth (MiB an hour) | objects in cycles a visitor |",
        "| --- | --- | --- | --- |",
        *(f"| {c} | {what} | {growth:.1f} | {cycles} |" for c, what, growth, cycles in STEPS),
        "",
        "The collector's settings, measured under the same soak: once closed sockets leave no cycles, rare full",
        "passes cost no memory, and freezing what startup made keeps each pass short.",
        "",
        "| settings | longest pause | collections | RSS growth (MiB an hour) | objects in cycles |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {k} | {v[0]:.2f} ms | {v[1]} | {v[2]:.1f} | {v[3]} |" for k, v in COLLECTOR.items()),
        "",
    ]
    ab = ISSUE18_AB
    if ab["relay"]["after"] and ab["e2e"]["after"]:
        e2e, relay = (".2f", ".2f", ".3f"), (".1f", ".3f")
        parts += [
            "The hot paths before issue 18 (35ca02c, from a worktree) and after it, alternating runs; medians, each",
            "run in brackets.",
            "",
            "| end to end (200 chats per second) | p50 (ms) | p99 (ms) | engine CPU (cores) |",
            "| --- | --- | --- | --- |",
            f"| before | {_cells(ab['e2e']['before'], e2e)} |",
            f"| after | {_cells(ab['e2e']['after'], e2e)} |",
            "",
            "| relay (100 customers x 500 messages) | engine CPU per message (µs) | ratio to the echo |",
            "| --- | --- | --- |",
            f"| before | {_cells(ab['relay']['before'], relay)} |",
            f"| after | {_cells(ab['relay']['after'], relay)} |",
            "",
        ]
    return parts
