"""Reports, per day, week, month, quarter, half year or year in the office's time zone.

- The email promise: how many emails were answered within it. The store gives each email
  contact's arrival and first response for a span of time
  (:meth:`~contact_center.store.base.Store.first_responses`); :func:`contact_center.sla.attainment_of_many`
  counts them.
- The customers' ratings of their chats (1 to 5): how many, their mean, how many of each
  score, and the satisfaction score (CSAT: the share of 4s and 5s), by when the chat started.
- The pre-written replies agents used: how many times each, per period.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from contact_center.sla import BusinessCalendar, Period, PeriodStat, Promise, attainment_of_many, period_start
from contact_center.store import Store

__all__ = [
    "EmailReport", "RatingReport", "RatingStat", "ReplyUsage", "email_attainment", "rating_report", "reply_usage",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class EmailReport:
    period: Period
    first: date
    last: date
    target: float
    rows: list[PeriodStat]

    def to_json(self) -> dict[str, object]:
        return {
            "period": self.period.value,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "target": self.target,
            "periods": [
                {
                    "start": r.start.isoformat(),
                    "arrived": r.arrived,
                    "met": r.met,
                    "breached": r.breached,
                    "pending": r.pending,
                    "share": r.share,
                    "on_target": None if r.share is None else r.share >= self.target,
                }
                for r in self.rows
            ],
        }


def _span(calendar: BusinessCalendar, first: date, last: date) -> tuple[float, float]:
    """The local days ``first`` to ``last`` (both included) as [since, until) in seconds."""
    zone = calendar.zone
    since = datetime.combine(first, time(), zone).timestamp()
    return since, datetime.combine(last + timedelta(days=1), time(), zone).timestamp()


async def email_attainment(
    store: Store, calendar: BusinessCalendar, promise: Promise, now: float, period: Period, first: date, last: date
) -> EmailReport:
    """Emails that arrived from ``first`` to ``last`` (local days, both included), per ``period``."""
    since, until = _span(calendar, first, last)
    arrived, answered = await store.first_responses(since, until)
    rows = attainment_of_many(arrived, answered, calendar, promise, now, period)
    return EmailReport(period, first, last, promise.target, rows)


@dataclass(frozen=True, slots=True)
class RatingStat:
    """One period's ratings: how many of each score (``scores[0]`` is the count of 1s)."""

    start: date
    scores: tuple[int, int, int, int, int]

    @property
    def rated(self) -> int:
        return sum(self.scores)

    @property
    def mean(self) -> float | None:
        return sum(n * (i + 1) for i, n in enumerate(self.scores)) / self.rated if self.rated else None

    @property
    def satisfied(self) -> float | None:
        """CSAT: the share of ratings that are 4 or 5."""
        return (self.scores[3] + self.scores[4]) / self.rated if self.rated else None


@dataclass(frozen=True, slots=True)
class RatingReport:
    period: Period
    first: date
    last: date
    rows: list[RatingStat]

    def to_json(self) -> dict[str, object]:
        return {
            "period": self.period.value,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "periods": [
                {
                    "start": r.start.isoformat(),
                    "rated": r.rated,
                    "mean": None if r.mean is None else round(r.mean, 3),
                    "satisfied": None if r.satisfied is None else round(r.satisfied, 4),
                    "scores": {str(n + 1): count for n, count in enumerate(r.scores)},
                }
                for r in self.rows
            ],
        }


async def rating_report(
    store: Store, calendar: BusinessCalendar, period: Period, first: date, last: date
) -> RatingReport:
    """The ratings of contacts that started from ``first`` to ``last`` (local days, both included), per ``period``.

    Only periods with a rating are listed, in order.
    """
    since, until = _span(calendar, first, last)
    started, scores = await store.ratings(since, until)
    counts: Counter[tuple[date, int]] = Counter()
    for at, score in zip(started.tolist(), scores.tolist(), strict=True):
        counts[period_start(calendar.local_date(at), period), int(score)] += 1
    starts = sorted({start for start, _ in counts})
    rows = [RatingStat(start, tuple(counts[start, n] for n in range(1, 6))) for start in starts]  # type: ignore[arg-type]
    return RatingReport(period, first, last, rows)


def _next_start(start: date, period: Period) -> date:
    if period == Period.DAY:
        return start + timedelta(days=1)
    if period == Period.WEEK:
        return start + timedelta(days=7)
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.HALF: 6, Period.YEAR: 12}[period]
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class ReplyUsage:
    period: Period
    first: date
    last: date
    rows: list[tuple[date, dict[str, int]]]  # each period's start, and the uses of each reply in it
    titles: dict[str, str]

    def to_json(self) -> dict[str, object]:
        totals: Counter[str] = Counter()
        for _, uses in self.rows:
            totals.update(uses)
        return {
            "period": self.period.value, "from": self.first.isoformat(), "to": self.last.isoformat(),
            "replies": [{"id": rid, "title": self.titles.get(rid, ""), "uses": n} for rid, n in totals.most_common()],
            "periods": [{"start": start.isoformat(), "uses": sum(uses.values()), "replies": dict(sorted(uses.items()))}
                        for start, uses in self.rows],
        }  # fmt: skip


async def reply_usage(
    store: Store, calendar: BusinessCalendar, period: Period, first: date, last: date, titles: dict[str, str]
) -> ReplyUsage:
    """How often agents used each reply from ``first`` to ``last`` (local days, both included), per ``period``.

    Only periods with a use are listed; the replies most used first (``titles``: as the library has them).
    """
    rows = []
    start = period_start(first, period)
    while start <= last:
        since, until = _span(calendar, max(start, first), min(_next_start(start, period) - timedelta(days=1), last))
        uses = await store.reply_uses(since, until)
        if uses:
            rows.append((start, uses))
        start = _next_start(start, period)
    return ReplyUsage(period, first, last, rows, titles)
