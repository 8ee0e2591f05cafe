"""Small helpers the sections of BENCHMARKS.md share."""

from __future__ import annotations

__all__ = ["each", "median"]


def median(runs: list[tuple[float, float]], i: int) -> float:
    values = sorted(run[i] for run in runs)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def each(runs: list[tuple[float, float]], i: int, fmt: str) -> str:
    return ", ".join(format(run[i], fmt) for run in runs)
