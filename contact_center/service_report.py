"""The service report: the figures of :mod:`contact_center.service_figures` read from the store, as JSON or CSV.

One read of the contacts that arrived from the first day to ``fcr_days`` after the last (the
later ones only decide first-contact resolution), then array passes; a year of a quarter of a
million contacts takes well under a second ([BENCHMARKS.md]).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from contact_center.config import Config
from contact_center.contact_facts import ContactFacts
from contact_center.occupancy import AgentTime, agent_times
from contact_center.quality import Review
from contact_center.service_figures import (
    ANSWER_EDGES_S,
    HANDLE_EDGES_S,
    ChannelStat,
    Rules,
    ServiceFigures,
    figures_of,
)
from contact_center.sla import BusinessCalendar, Period
from contact_center.store.base import ReportStore

__all__ = ["CSV_COLUMNS", "ServiceReport", "read_facts", "rules_of", "service_report"]

_EARLIER_S = 14 * 86_400

CSV_COLUMNS = (
    "period_start", "channel", "arrived", "offered", "answered", "answered_in_time", "pending", "service_level",
    "target_s", "asa_s", "handled", "aht_s", "abandoned", "abandon_rate", "short_abandoned", "to_callback",
    "fcr",
)  # fmt: skip


def rules_of(config: Config) -> Rules:
    """The counting rules from the config: each channel's threshold, the email promise, the ``[reports]`` choices."""
    r = config.reports
    return Rules(
        thresholds={
            "chat": config.webchat.service_level_s,
            "call": config.call.service_level_s,
            "callback": config.callback.service_level_s,
            "email": config.email.promise.within_s,
        },
        promise=config.email.promise,
        short_abandon_s=r.short_abandon_s,
        count_short_abandons=r.count_short_abandons,
        callback_instead_s=r.callback_instead_s,
        fcr_days=r.fcr_days,
    )


@dataclass(frozen=True, slots=True)
class ServiceReport:
    period: Period
    first: date
    last: date
    rules: Rules
    figures: ServiceFigures
    times: list[AgentTime]
    reviews: list[Review] = field(default_factory=list)

    def _channel_json(self, s: ChannelStat) -> dict[str, object]:
        return {
            "start": s.start.isoformat(), "channel": s.channel, "arrived": s.arrived, "offered": s.offered,
            "answered": s.answered, "answered_in_time": s.in_time, "pending": s.pending,
            "service_level": _round(s.service_level), "target_s": self.rules.thresholds.get(s.channel),
            "asa_s": _round(s.asa_s, 2), "handled": s.handled, "aht_s": _round(s.aht_s, 2),
            "abandoned": s.abandoned, "abandon_rate": _round(s.abandon_rate), "short_abandoned": s.short_abandoned,
            "to_callback": s.to_callback, "fcr": _round(s.fcr), "resolvable": s.resolvable,
            "answer_times": dict(zip(map(str, ANSWER_EDGES_S), s.answer_counts, strict=True)),
            "handle_times": dict(zip(map(str, HANDLE_EDGES_S), s.handle_counts, strict=True)),
        }  # fmt: skip

    def _agents_json(self) -> list[dict[str, object]]:
        """Every agent who handled a contact or was signed in, most handled first."""
        times = {t.agent_id: t for t in self.times}
        stats = {a.agent_id: a for a in self.figures.agents}
        order = [a.agent_id for a in self.figures.agents] + sorted(set(times) - set(stats))
        out = []
        for agent_id in order:
            a, t = stats.get(agent_id), times.get(agent_id)
            out.append({
                "agent_id": agent_id, "handled": a.handled if a else 0, "aht_s": _round(a.aht_s, 2) if a else None,
                "rated": a.rated if a else 0, "mean_rating": _round(a.mean_rating, 3) if a else None,
                "fcr": _round(a.fcr) if a else None,
                "staffed_s": round(t.staffed_s, 1) if t else 0.0, "away_s": round(t.away_s, 1) if t else 0.0,
                "handling_s": round(t.handling_s, 1) if t else 0.0, "occupancy": _round(t.occupancy) if t else None,
            })  # fmt: skip
        return out

    def _quality_json(self) -> dict[str, object]:
        """The reviews made in the span: how many, their mean score (0-100), per agent (most reviewed first)."""
        by_agent: dict[str, list[float]] = {}
        for r in self.reviews:
            by_agent.setdefault(r.agent_id, []).append(r.score)
        scores = [r.score for r in self.reviews]
        agents = sorted(by_agent.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return {
            "reviews": len(scores), "mean_score": _round(sum(scores) / len(scores), 1) if scores else None,
            "agents": [{"agent_id": a, "reviews": len(s), "mean_score": round(sum(s) / len(s), 1)} for a, s in agents],
        }  # fmt: skip

    @property
    def occupancy(self) -> float | None:
        """All agents' handling time over all their staffed time."""
        staffed = sum(t.staffed_s for t in self.times)
        return sum(t.handling_s for t in self.times) / staffed if staffed else None

    def to_json(self) -> dict[str, object]:
        r = self.rules
        return {
            "period": self.period.value, "from": self.first.isoformat(), "to": self.last.isoformat(),
            "rules": {
                "thresholds_s": dict(r.thresholds), "email_target": r.promise.target,
                "short_abandon_s": r.short_abandon_s, "count_short_abandons": r.count_short_abandons,
                "callback_instead_s": r.callback_instead_s, "fcr_days": r.fcr_days,
            },
            "answer_edges_s": list(ANSWER_EDGES_S), "handle_edges_s": list(HANDLE_EDGES_S),
            "periods": [self._channel_json(s) for s in self.figures.channels],
            "totals": [self._channel_json(s) for s in self.figures.totals],
            "agents": self._agents_json(),
            "occupancy": _round(self.occupancy),
            "quality": self._quality_json(),
            "callback_outcomes": self.figures.callback_outcomes,
        }  # fmt: skip

    def to_csv(self) -> str:
        """One row per period and channel, the columns of :data:`CSV_COLUMNS` (shares 0-1, times in seconds)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for s in self.figures.channels:
            j = self._channel_json(s)
            writer.writerow(["" if j.get(_json_name(c)) is None else j[_json_name(c)] for c in CSV_COLUMNS])
        return out.getvalue()


def _json_name(column: str) -> str:
    return "start" if column == "period_start" else column


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


Progress = Callable[[int, int], None]  # (parts read, parts in all)


async def read_facts(store: ReportStore, since: float, until: float, progress: Progress | None = None) -> ContactFacts:
    """The contacts that arrived in [since, until), read a calendar month (UTC) at a time, ``progress`` told after
    each: the Redis store keeps them in monthly buckets, so each is read once."""
    edges = [since, *_month_starts(since, until), until]
    parts = [await _told(store.contact_facts(a, b), progress, i + 1, len(edges) - 1) for i, (a, b) in
             enumerate(itertools.pairwise(edges))]  # fmt: skip
    return ContactFacts.joined(parts)


def _month_starts(since: float, until: float) -> list[float]:
    """The starts of the UTC months after ``since`` and before ``until``."""
    day = datetime.fromtimestamp(since, UTC).date().replace(day=1)
    out: list[float] = []
    while True:
        day = (day + timedelta(days=32)).replace(day=1)
        at = datetime.combine(day, time(), UTC).timestamp()
        if at >= until:
            return out
        out.append(at)


async def _told(read: Awaitable[ContactFacts], progress: Progress | None, done: int, total: int) -> ContactFacts:
    facts = await read
    if progress is not None:
        progress(done, total)
    return facts


async def service_report(
    store: ReportStore, calendar: BusinessCalendar, rules: Rules, now: float, period: Period, first: date, last: date,
    progress: Progress | None = None,
) -> ServiceReport:  # fmt: skip
    """The service figures of the contacts that arrived from ``first`` to ``last`` (local days, both included)."""
    zone = calendar.zone
    since = datetime.combine(first, time(), zone).timestamp()
    until = datetime.combine(last + timedelta(days=1), time(), zone).timestamp()
    # Contacts that arrived some days before the span may be handled in it (occupancy); those after it
    # decide whether one in it was resolved at first contact.
    facts = await read_facts(store, since - _EARLIER_S, until + rules.fcr_days * 86_400, progress)
    figures = figures_of(facts, calendar, rules, now, period, first, last, since, until)
    times = agent_times(await store.status_changes(since, until), facts, since, until, now)
    return ServiceReport(period, first, last, rules, figures, times, await store.reviews(since, until))
