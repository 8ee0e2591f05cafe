"""Small helpers the sections of BENCHMARKS.md share."""

from __future__ import annotations

__all__ = ["E2E", "RELAY", "ab_table", "cells", "each", "median"]


def median(runs: list[tuple[float, float]], i: int) -> float:
    values = sorted(run[i] for run in runs)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def each(runs: list[tuple[float, float]], i: int, fmt: str) -> str:
    return ", ".join(format(run[i], fmt) for run in runs)


def cells(runs: list[tuple[float, ...]], fmts: tuple[str, ...]) -> str:
    """Table cells, one per figure: the runs' median, then each run in brackets."""
    return " | ".join(f"{median(runs, i):{fmt}} ({each(runs, i, fmt)})" for i, fmt in enumerate(fmts))


# The A/B tables' heads and their figures' formats: end to end (p50, p99, engine CPU), the relay (CPU, ratio).
E2E = ("| end to end (200 chats per second) | p50 (ms) | p99 (ms) | engine CPU (cores) |", (".2f", ".2f", ".3f"))
RELAY = ("| relay (100 customers x 500 messages) | engine CPU per message (µs) | ratio to the echo |", (".1f", ".3f"))


def ab_table(kind: tuple[str, tuple[str, ...]], rows: list[tuple[str, list[tuple[float, ...]]]]) -> list[str]:
    """A table of alternating runs: ``kind`` (:data:`E2E`, :data:`RELAY` or alike), then a row per label."""
    head, fmts = kind
    return [head, "| --- " * (len(fmts) + 1) + "|", *(f"| {label} | {cells(runs, fmts)} |" for label, runs in rows), ""]
