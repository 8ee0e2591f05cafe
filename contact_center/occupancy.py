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

from contact_center.contact_facts import ContactFacts, factorize

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
    A year of contacts is sorted once and each agent's stretches of work joined with array passes.
    """
    end = min(until, now)
    work = _Work(facts, since, end, now)
    out = []
    for agent, mine in groupby(changes, key=lambda c: c[0]):
        spans = _status_spans(list(mine), since, end)
        staffed = merged(s for status in STAFFED for s in spans.get(status, []))
        away = sum(b - a for a, b in spans.get("away", []))
        out.append(AgentTime(agent, sum(b - a for a, b in staffed), away, work.within(agent, staffed)))
    return out


class _Work:
    """Every agent's stretches of work in a span: the union of its contacts from accept to close, as arrays."""

    def __init__(self, facts: ContactFacts, since: float, end: float, now: float) -> None:
        accepted = ~np.isnan(facts.accepted)
        starts = np.maximum(facts.accepted[accepted], since)
        stops = np.minimum(np.where(np.isnan(facts.closed), now, facts.closed)[accepted], end)
        agents = facts.agent[accepted]
        keep = (stops > starts) & (agents != "")
        names, codes = factorize(agents[keep])
        order = np.lexsort((starts[keep], codes))
        self._codes, self._starts, self._stops = codes[order], starts[keep][order], stops[keep][order]
        self._of = {str(name): k for k, name in enumerate(names)}

    def within(self, agent: str, staffed: Spans) -> float:
        """The time ``agent`` handled at least one contact inside the ``staffed`` spans (ordered, disjoint)."""
        k = self._of.get(agent)
        if k is None or not staffed:
            return 0.0
        lo, hi = np.searchsorted(self._codes, [k, k + 1])
        starts, stops = self._starts[lo:hi], self._stops[lo:hi]
        reach = np.maximum.accumulate(stops)  # how far the work so far reaches
        new = np.ones(len(starts), dtype=bool)
        new[1:] = starts[1:] > reach[:-1]  # a stretch starts where nothing before reaches it
        first = np.flatnonzero(new)
        last = np.concatenate((first[1:] - 1, [len(starts) - 1]))
        us, ue = starts[first], reach[last]
        edges = np.array(staffed, dtype=np.float64)
        return float((_covered(us, ue, edges[:, 1]) - _covered(us, ue, edges[:, 0])).sum())


def _covered(us: np.ndarray, ue: np.ndarray, x: np.ndarray) -> np.ndarray:
    """For each instant of ``x``, the length of the stretches [us, ue) (ordered, disjoint) before it."""
    lengths = ue - us
    before = np.concatenate(([0.0], np.cumsum(lengths)))
    j = np.searchsorted(ue, x, side="left")  # the first stretch that ends at or after x
    inside = np.clip(x - us[np.minimum(j, len(us) - 1)], 0.0, lengths[np.minimum(j, len(us) - 1)])
    return before[j] + np.where(j < len(us), inside, 0.0)


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
