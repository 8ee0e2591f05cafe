"""How agents spent a span of time: staffed (available or busy), away, and handling contacts; their occupancy.

**Occupancy** is the time an agent was handling at least one contact (from accepting it to its
close, wrap-up included) while staffed, over the time staffed. Several chats at once count once:
occupancy says how much of the staffed time had work in it, never more than all of it.

Pure: the status changes (each store's ``status_changes``), the contacts' facts and ``now`` are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from contact_center.contact_facts import ContactFacts

__all__ = ["STAFFED", "AgentTime", "agent_times", "merged", "staffed_by_hour"]

STAFFED = frozenset({"available", "busy"})

Spans = list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class AgentTime:
    agent_id: str
    staffed_s: float
    away_s: float
    handling_s: float  # handling contacts while staffed

    @property
    def occupancy(self) -> float | None:
        return self.handling_s / self.staffed_s if self.staffed_s else None


def merged(spans: Iterable[tuple[float, float]]) -> Spans:
    """The union of the spans, as ordered spans that neither overlap nor touch."""
    out: Spans = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _overlap(a: Spans, b: Spans) -> float:
    """The time two sets of merged spans share."""
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        total += max(0.0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def _status_spans(changes: Sequence[tuple[str, float, str]], since: float, end: float) -> dict[str, Spans]:
    spans: dict[str, Spans] = {}
    for i, (_, at, status) in enumerate(changes):
        nxt = changes[i + 1][1] if i + 1 < len(changes) else end
        start, stop = max(at, since), min(nxt, end)
        if stop > start:
            spans.setdefault(status, []).append((start, stop))
    return spans


def agent_times(
    changes: Sequence[tuple[str, float, str]], facts: ContactFacts, since: float, until: float, now: float
) -> list[AgentTime]:
    """Each agent's time in [since, min(until, now)), from its status changes and the contacts it accepted.

    ``facts`` should hold every contact accepted in the span (contacts that arrived some days before it too).
    """
    end = min(until, now)
    held: dict[str, list[tuple[float, float]]] = {}
    accepted = ~np.isnan(facts.accepted) & (facts.agent != "")
    closed = np.where(np.isnan(facts.closed), now, facts.closed)
    for agent, start, stop in zip(
        facts.agent[accepted].tolist(), facts.accepted[accepted].tolist(), closed[accepted].tolist(), strict=True
    ):
        if stop > since and start < end:
            held.setdefault(agent, []).append((max(start, since), min(stop, end)))
    out = []
    for agent, mine in groupby(changes, key=lambda c: c[0]):
        spans = _status_spans(list(mine), since, end)
        staffed = merged(s for status in STAFFED for s in spans.get(status, []))
        away = sum(b - a for a, b in spans.get("away", []))
        handling = _overlap(staffed, merged(held.get(agent, [])))
        out.append(AgentTime(agent, sum(b - a for a, b in staffed), away, handling))
    return out


def staffed_by_hour(changes: Sequence[tuple[str, float, str]], midnight: float, now: float) -> list[float]:
    """The mean number of agents staffed in each of the 24 hours from ``midnight`` (hours after ``now``: 0)."""
    out = [0.0] * 24
    for agent, mine in groupby(changes, key=lambda c: c[0]):
        del agent
        spans = _status_spans(list(mine), midnight, min(now, midnight + 24 * 3600))
        for start, end in merged(s for status in STAFFED for s in spans.get(status, [])):
            for h in range(int((start - midnight) // 3600), min(24, int((end - midnight) // 3600) + 1)):
                lo, hi = midnight + h * 3600, midnight + (h + 1) * 3600
                out[h] += max(0.0, min(end, hi) - max(start, lo)) / 3600
    return out
