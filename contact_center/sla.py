"""The SLA clock: business-hours arithmetic on a time line it is given.

A :class:`BusinessCalendar` knows when the company works: opening hours per weekday in its
time zone, public holidays (any container of dates, such as the ``holidays`` package's
country calendars) and dated exceptions (a shorter day, a day closed, a Saturday opened).
From it come the deadlines of the email promise (arrival plus 2 working hours), the moment a
contact becomes at risk (30 working minutes before that), and the working time between two
instants. Nothing here reads the clock or does I/O: instants are seconds since the epoch,
passed in.

:func:`attainment` turns first responses into the share answered on time per day, week,
month, quarter, half year or year, each contact counted in the period of its arrival.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_NAMES",
    "BusinessCalendar",
    "FirstResponse",
    "Period",
    "PeriodStat",
    "Promise",
    "Span",
    "attainment",
    "parse_span",
    "period_start",
    "week_of",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_S = 86_400
_SEARCH_DAYS = 800  # a calendar with no working time in this many days is refused as never open

Span = tuple[int, int]  # seconds since local midnight: [start, end), 0 <= start < end <= 86,400
_OFFICE_WEEK: tuple[tuple[Span, ...], ...] = (((8 * 3600, 17 * 3600),),) * 5 + ((), ())


def parse_span(text: str) -> Span:
    """``"08:00-17:00"`` as seconds since midnight; ``24:00`` is the end of the day.

    Raises:
        ValueError: the text is not ``HH:MM-HH:MM`` with the start before the end.
    """
    try:
        start, end = text.split("-")
        span = _clock(start), _clock(end)
    except ValueError:
        raise ValueError(f"{text!r} is not a span of the day like 08:00-17:00") from None
    if not span[0] < span[1]:
        raise ValueError(f"{text!r} ends before it starts")
    return span


def _clock(text: str) -> int:
    hours, minutes = text.strip().split(":")
    if len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(text)
    h, m = int(hours), int(minutes)
    if not (0 <= m < 60 and (h < 24 or (h == 24 and m == 0))):
        raise ValueError(text)
    return h * 3600 + m * 60


@dataclass(frozen=True)
class BusinessCalendar:
    """When the company works.

    Args:
        time_zone: an IANA name (``Asia/Jakarta``); opening hours are wall-clock times there.
        week: seven tuples of spans, Monday first; an empty tuple is a closed day.
        holidays: dates closed all day (unless an exception says otherwise).
        exceptions: dates whose spans replace the weekday's (an empty tuple: closed).
    """

    time_zone: str = "Asia/Jakarta"
    week: tuple[tuple[Span, ...], ...] = field(default_factory=lambda: _OFFICE_WEEK)
    holidays: Container[date] = field(default_factory=frozenset)
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError(f"week: seven days of spans, Monday first, got {len(self.week)}")
        for spans in (*self.week, *self.exceptions.values()):
            ordered = sorted(spans)
            if any(a[1] > b[0] for a, b in pairwise(ordered)):
                raise ValueError(f"spans overlap: {ordered}")
        _ = self.zone  # an unknown time zone fails here, not at the first deadline

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_date(self, at: float) -> date:
        return datetime.fromtimestamp(at, self.zone).date()

    def spans(self, day: date) -> list[tuple[float, float]]:
        """The day's working time as instants ``[start, end)``, in order."""
        if day in self.exceptions:
            local = self.exceptions[day]
        elif day in self.holidays:
            local = ()
        else:
            local = self.week[day.weekday()]
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return [(self._instant(midnight, start), self._instant(midnight, end)) for start, end in sorted(local)]

    def _instant(self, midnight: datetime, seconds: int) -> float:
        # Wall-clock time of that day: on a day the clocks change, 08:00 is still 08:00.
        if seconds == _DAY_S:
            nxt = midnight.date() + timedelta(days=1)
            return datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.zone).timestamp()
        clock = time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
        return datetime.combine(midnight.date(), clock, tzinfo=self.zone).timestamp()

    def is_open(self, at: float) -> bool:
        return any(start <= at < end for start, end in self.spans(self.local_date(at)))

    def add(self, start: float, seconds: float) -> float:
        """The instant at which ``seconds`` of working time have passed since ``start``.

        Adding zero from a closed moment gives the next opening (the clock starts then).

        Raises:
            ValueError: the calendar has no working time for years ahead.
        """
        left = seconds
        day = self.local_date(start)
        for _ in range(_SEARCH_DAYS):
            for open_at, close_at in self.spans(day):
                if close_at <= start:
                    continue
                begin = max(open_at, start)
                if left <= close_at - begin:
                    return begin + left
                left -= close_at - begin
            day += timedelta(days=1)
        raise ValueError(f"the calendar has no working time in the {_SEARCH_DAYS} days after {self.local_date(start)}")

    def working_seconds(self, start: float, end: float) -> float:
        """Working time between two instants (0 if ``end`` is not after ``start``)."""
        if end <= start:
            return 0.0
        total = 0.0
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            for open_at, close_at in self.spans(day):
                total += max(0.0, min(close_at, end) - max(open_at, start))
            day += timedelta(days=1)
        return total


@dataclass(frozen=True, slots=True)
class Promise:
    """A first-response promise: answered within ``within_s`` working seconds, for ``target`` of contacts.

    A contact is at risk once ``at_risk_s`` working seconds or fewer are left.
    """

    within_s: float = 2 * 3600
    target: float = 0.9
    at_risk_s: float = 30 * 60

    def due(self, calendar: BusinessCalendar, arrived_at: float) -> float:
        return calendar.add(arrived_at, self.within_s)

    def at_risk(self, calendar: BusinessCalendar, arrived_at: float) -> float:
        return calendar.add(arrived_at, max(0.0, self.within_s - self.at_risk_s))


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


def period_start(day: date, period: Period) -> date:
    """The first day of the period ``day`` falls in (weeks start on Monday)."""
    if period == Period.DAY:
        return day
    if period == Period.WEEK:
        return day - timedelta(days=day.weekday())
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.HALF: 6, Period.YEAR: 12}[period]
    return date(day.year, (day.month - 1) // months * months + 1, 1)


@dataclass(frozen=True, slots=True)
class FirstResponse:
    """A contact under the promise: when it arrived, and when it was first answered (None: not yet)."""

    arrived_at: float
    answered_at: float | None


@dataclass(frozen=True, slots=True)
class PeriodStat:
    """One period's record: contacts that arrived in it, and how they fared by ``now``.

    ``met``: answered by the deadline; ``breached``: answered late, or unanswered past the
    deadline; ``pending``: unanswered and not yet due (left out of the share).
    """

    start: date
    arrived: int
    met: int
    breached: int
    pending: int

    @property
    def share(self) -> float | None:
        """Met over decided (met + breached); None when nothing is decided yet."""
        decided = self.met + self.breached
        return self.met / decided if decided else None


def attainment(
    contacts: Iterable[FirstResponse],
    calendar: BusinessCalendar,
    promise: Promise,
    now: float,
    period: Period,
) -> list[PeriodStat]:
    """Per period of arrival (in the calendar's time zone), the contacts met, breached and pending, in order."""
    counts: dict[date, list[int]] = {}
    for c in contacts:
        due = promise.due(calendar, c.arrived_at)
        if c.answered_at is not None:
            outcome = 0 if c.answered_at <= due else 1
        else:
            outcome = 1 if now > due else 2
        row = counts.setdefault(period_start(calendar.local_date(c.arrived_at), period), [0, 0, 0])
        row[outcome] += 1
    return [PeriodStat(start, sum(row), *row) for start, row in sorted(counts.items())]


def week_of(spans: Mapping[str, Sequence[str]]) -> tuple[tuple[Span, ...], ...]:
    """Opening hours by day name (``{"mon": ["08:00-17:00"], ...}``); days not named are closed."""
    return tuple(tuple(parse_span(s) for s in spans.get(name, ())) for name in DAY_NAMES)
