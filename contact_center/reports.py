"""Reports of the SLA clock: how many emails were answered within the promise, per period.

The store gives each email contact's arrival and first response for a span of time
(:meth:`~contact_center.store.base.Store.first_responses`); :func:`contact_center.sla.attainment_of_many`
counts them per day, week, month, quarter, half year or year in the office's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from contact_center.sla import BusinessCalendar, Period, PeriodStat, Promise, attainment_of_many
from contact_center.store import Store

__all__ = ["EmailReport", "email_attainment"]


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


async def email_attainment(
    store: Store, calendar: BusinessCalendar, promise: Promise, now: float, period: Period, first: date, last: date
) -> EmailReport:
    """Emails that arrived from ``first`` to ``last`` (local days, both included), per ``period``."""
    zone = calendar.zone
    since = datetime.combine(first, time(), zone).timestamp()
    until = datetime.combine(last + timedelta(days=1), time(), zone).timestamp()
    arrived, answered = await store.first_responses(since, until)
    rows = attainment_of_many(arrived, answered, calendar, promise, now, period)
    return EmailReport(period, first, last, promise.target, rows)
