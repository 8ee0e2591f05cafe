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

import numpy as np
import numpy.typing as npt

__all__ = [
    "DAY_NAMES",
    "BusinessCalendar",
    "FirstResponse",
    "Period",
    "PeriodStat",
    "Promise",
    "Span",
    "Timeline",
    "attainment",
    "attainment_of_many",
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


class Timeline:
    """The calendar's working time over a stretch of days, laid out once, for many instants at a time.

    Reports over millions of contacts cannot walk the calendar once per contact; this holds every
    working span from ``first`` to ``last`` (local dates) in arrays, with the working time before
    each, and answers :meth:`position`, :meth:`working_seconds` and :meth:`add` for whole arrays
    with ``numpy.searchsorted``. Within its days it agrees with :class:`BusinessCalendar` exactly;
    instants outside them are refused.
    """

    def __init__(self, calendar: BusinessCalendar, first: date, last: date) -> None:
        opens, closes, midnights, days = [], [], [], []
        day = first
        while day <= last:
            days.append(day)
            midnights.append(datetime(day.year, day.month, day.day, tzinfo=calendar.zone).timestamp())
            for open_at, close_at in calendar.spans(day):
                opens.append(open_at)
                closes.append(close_at)
            day += timedelta(days=1)
        nxt = last + timedelta(days=1)
        self.first, self.last = first, last
        self.begins = midnights[0]
        self.ends = datetime(nxt.year, nxt.month, nxt.day, tzinfo=calendar.zone).timestamp()
        self.days = days
        self._midnights = np.array(midnights, dtype=np.float64)
        self._opens = np.array(opens, dtype=np.float64)
        self._closes = np.array(closes, dtype=np.float64)
        lengths = self._closes - self._opens
        self._done_before = np.concatenate(([0.0], np.cumsum(lengths)[:-1])) if len(lengths) else np.zeros(0)
        self._done_after = self._done_before + lengths

    def _check(self, at: npt.NDArray[np.float64]) -> None:
        if at.size and (at.min() < self.begins or at.max() >= self.ends):
            raise ValueError(f"instants outside the timeline's days {self.first} to {self.last}")

    def position(self, at: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Working seconds from the timeline's first midnight to each instant."""
        t = np.asarray(at, dtype=np.float64)
        self._check(t)
        i = np.searchsorted(self._opens, t, side="right") - 1
        safe = np.clip(i, 0, None)
        inside = np.clip(t - self._opens[safe], 0.0, self._closes[safe] - self._opens[safe])
        return np.where(i >= 0, self._done_before[safe] + inside, 0.0)

    def working_seconds(self, start: npt.ArrayLike, end: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Working time between each pair of instants (0 where ``end`` is not after ``start``)."""
        return np.maximum(self.position(end) - self.position(start), 0.0)

    def add(self, start: npt.ArrayLike, seconds: float) -> npt.NDArray[np.float64]:
        """For each start, the instant ``seconds`` of working time later (see :meth:`BusinessCalendar.add`).

        Raises:
            ValueError: a result would fall after the timeline's last day.
        """
        t = np.asarray(start, dtype=np.float64)
        target = self.position(t) + seconds
        j = np.searchsorted(self._done_after, target, side="left")
        if j.size and j.max() >= len(self._opens):
            raise ValueError(f"a deadline falls after the timeline's last day {self.last}")
        found = self._opens[j] + (target - self._done_before[j])
        # Adding nothing from a closed moment: the next opening, as the calendar says.
        early = found < t
        if early.any():
            later = np.minimum(j + 1, len(self._opens) - 1)
            found = np.where(early, self._opens[later] + (target - self._done_before[later]), found)
        return found

    def local_days(self, at: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """For each instant, the index in :attr:`days` of its local date."""
        t = np.asarray(at, dtype=np.float64)
        self._check(t)
        return np.searchsorted(self._midnights, t, side="right") - 1


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


def attainment_of_many(
    arrived: npt.ArrayLike,
    answered: npt.ArrayLike,
    calendar: BusinessCalendar,
    promise: Promise,
    now: float,
    period: Period,
) -> list[PeriodStat]:
    """:func:`attainment` for arrays: ``answered`` holds NaN where a contact is not answered yet.

    One :class:`Timeline` covers the arrivals' days and the deadlines after them, so a million
    contacts cost a few array passes, not a million walks of the calendar.
    """
    arrive = np.asarray(arrived, dtype=np.float64)
    answer = np.asarray(answered, dtype=np.float64)
    if arrive.size == 0:
        return []
    first = calendar.local_date(float(arrive.min()))
    last = calendar.local_date(float(arrive.max())) + timedelta(days=_SEARCH_DAYS // 4)
    timeline = Timeline(calendar, first, last)
    due = timeline.add(arrive, promise.within_s)
    unanswered = np.isnan(answer)
    outcome = np.where(unanswered, np.where(now > due, 1, 2), np.where(answer <= due, 0, 1))
    starts = np.array([period_start(d, period).toordinal() for d in timeline.days], dtype=np.int64)
    periods, which = np.unique(starts[timeline.local_days(arrive)], return_inverse=True)
    counts = np.bincount(which * 3 + outcome, minlength=3 * len(periods)).reshape(-1, 3)
    return [
        PeriodStat(date.fromordinal(int(key)), int(row.sum()), int(row[0]), int(row[1]), int(row[2]))
        for key, row in zip(periods, counts, strict=True)
    ]


def week_of(spans: Mapping[str, Sequence[str]]) -> tuple[tuple[Span, ...], ...]:
    """Opening hours by day name (``{"mon": ["08:00-17:00"], ...}``); days not named are closed."""
    return tuple(tuple(parse_span(s) for s in spans.get(name, ())) for name in DAY_NAMES)
