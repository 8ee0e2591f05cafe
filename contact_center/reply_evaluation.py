"""How well the suggester finds the right reply: top-1 and top-3 accuracy and latency on labelled messages.

Used by ``contact-center replies evaluate`` (a library folder and a CSV of ``text,category``, as in
BANKING77, in any language) and by the benchmark (``bench/replies.py``). A message's category is the
id of the reply that answers it (``card_arrival`` and ``card-arrival`` are the same).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from templates_responses.replies import Reply
from templates_responses.suggest import Suggester

__all__ = ["Evaluation", "evaluate", "labelled", "reply_id"]


def reply_id(category: str) -> str:
    return category.strip().lower().replace("_", "-").replace(" ", "-")


@dataclass(frozen=True, slots=True)
class Evaluation:
    messages: int
    top1: float
    top3: float
    p50_ms: float
    p95_ms: float

    def lines(self) -> list[str]:
        return [
            f"messages: {self.messages:,}",
            f"top-1: {self.top1:.1%}   top-3: {self.top3:.1%}",
            f"latency per suggestion: p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms",
        ]


def labelled(path: Path) -> list[tuple[str, str]]:
    """``(text, category)`` rows of a CSV with those columns."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"text", "category"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: the columns must include text and category")
        return [(row["text"], row["category"]) for row in reader]


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else 0.0


def evaluate(
    suggester: Suggester, rows: Iterable[tuple[str, str]], usable: Callable[[Reply], bool] = lambda r: True,
    progress: Callable[[int], None] = lambda n: None,
) -> Evaluation:  # fmt: skip
    """Ask for three suggestions for each message; how often the right reply was first, and among the three."""
    top1 = top3 = 0
    latencies: list[float] = []
    for n, (text, category) in enumerate(rows, 1):
        start = time.perf_counter()
        found = [s.reply.id for s in suggester.suggest(text, usable, 3)]
        latencies.append((time.perf_counter() - start) * 1000)
        want = reply_id(category)
        top1 += bool(found) and found[0] == want
        top3 += want in found
        progress(n)
    count = len(latencies)
    return Evaluation(count, top1 / max(count, 1), top3 / max(count, 1), _percentile(latencies, 50),
                      _percentile(latencies, 95))  # fmt: skip
