"""The SLA clock: working time and deadlines by tables (overnight, weekends, holidays, time zones), attainment."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contact_center.sla import (
    BusinessCalendar,
    FirstResponse,
    Period,
    PeriodStat,
    Promise,
    Timeline,
    attainment,
    attainment_of_many,
    parse_span,
    period_start,
    week_of,
)

JAKARTA = BusinessCalendar("Asia/Jakarta", holidays=holidays.country_holidays("ID"))
H = 3600


def at(text: str, zone: str = "Asia/Jakarta") -> float:
    """A wall-clock time in ``zone`` as an instant."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def local(instant: float, zone: str = "Asia/Jakarta") -> str:
    return datetime.fromtimestamp(instant, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


# 2026-11-23 is a Monday; 2026-12-25 (Friday) is Christmas, a public holiday in Indonesia.
@pytest.mark.parametrize(
    ("arrived", "due"),
    [
        ("2026-11-23 09:00", "2026-11-23 11:00"),  # within the day
        ("2026-11-23 16:00", "2026-11-24 09:00"),  # one hour today, one tomorrow
        ("2026-11-23 17:00", "2026-11-24 10:00"),  # at closing: all of it tomorrow
        ("2026-11-23 22:30", "2026-11-24 10:00"),  # overnight
        ("2026-11-24 06:00", "2026-11-24 10:00"),  # before opening
        ("2026-11-27 16:30", "2026-11-30 09:30"),  # Friday afternoon: Monday morning
        ("2026-11-28 11:00", "2026-11-30 10:00"),  # Saturday: Monday
        ("2026-12-24 16:00", "2026-12-28 09:00"),  # Thursday, then Christmas Friday, then the weekend
        ("2026-08-17 10:00", "2026-08-18 10:00"),  # Independence Day, a Monday
        ("2026-11-23 15:00", "2026-11-23 17:00"),  # due exactly at closing
    ],
)
def test_first_response_deadline_is_two_working_hours(arrived: str, due: str):
    """Arrival plus two working hours, on Jakarta's office hours and Indonesia's public holidays."""
    assert local(Promise().due(JAKARTA, at(arrived))) == due


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-11-23 09:00", "2026-11-23 10:30", 1.5),
        ("2026-11-23 07:00", "2026-11-23 18:00", 9),
        ("2026-11-23 16:00", "2026-11-24 09:00", 2),
        ("2026-11-27 12:00", "2026-11-30 12:00", 9),  # Friday noon to Monday noon
        ("2026-11-23 00:00", "2026-11-30 00:00", 45),  # a whole week
        ("2026-12-21 00:00", "2026-12-28 00:00", 36),  # a week with Christmas
        ("2026-11-23 10:00", "2026-11-23 09:00", 0),  # backwards: none
    ],
)
def test_working_time_between_two_instants(start: str, end: str, hours: float):
    """Only the hours the office is open count."""
    assert JAKARTA.working_seconds(at(start), at(end)) == hours * H


def test_exceptions_replace_the_day_and_overrule_holidays():
    """A half day, a closed day and an opened holiday, as config.toml may list them."""
    calendar = BusinessCalendar(
        "Asia/Jakarta",
        holidays=holidays.country_holidays("ID"),
        exceptions={
            date(2026, 11, 24): (parse_span("08:00-12:00"),),
            date(2026, 11, 25): (),
            date(2026, 12, 25): (parse_span("09:00-13:00"),),
        },
    )
    assert local(calendar.add(at("2026-11-24 11:00"), 2 * H)) == "2026-11-26 09:00"
    assert local(calendar.add(at("2026-12-25 08:00"), 2 * H)) == "2026-12-25 11:00"
    assert not calendar.is_open(at("2026-11-25 10:00")) and calendar.is_open(at("2026-12-25 10:00"))


def test_split_shifts_and_weekends_worked():
    """A lunch break and a Saturday morning are part of the week."""
    week = week_of(
        {d: ["08:00-12:00", "13:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["09:00-12:00"]}
    )
    calendar = BusinessCalendar("Asia/Jakarta", week=week)
    assert local(calendar.add(at("2026-11-23 11:00"), 2 * H)) == "2026-11-23 14:00"
    assert local(calendar.add(at("2026-11-27 16:00"), 2 * H)) == "2026-11-28 10:00"
    assert local(calendar.add(at("2026-11-28 11:30"), 2 * H)) == "2026-11-30 09:30"


@pytest.mark.parametrize(
    ("zone", "arrived", "due"),
    [
        # Amsterdam leaves summer time on Sunday 2026-10-25: office hours stay 08:00-17:00 wall time.
        ("Europe/Amsterdam", "2026-10-23 16:30", "2026-10-26 09:30"),
        ("Europe/Amsterdam", "2026-03-27 16:00", "2026-03-30 09:00"),  # and enters it on 2026-03-29
        ("America/New_York", "2026-11-23 16:00", "2026-11-24 09:00"),
        ("Asia/Jayapura", "2026-11-23 16:00", "2026-11-24 09:00"),  # Indonesia's eastern time, UTC+9
    ],
)
def test_office_hours_are_wall_clock_hours_of_the_calendars_time_zone(zone: str, arrived: str, due: str):
    """Deadlines are kept in the calendar's own zone, across its changes to and from summer time."""
    calendar = BusinessCalendar(zone)
    assert local(Promise().due(calendar, at(arrived, zone)), zone) == due
    # Two wall-clock hours of work across the change are still 7,200 seconds of working time.
    assert calendar.working_seconds(at(arrived, zone), Promise().due(calendar, at(arrived, zone))) == 2 * H


def test_at_risk_is_thirty_working_minutes_before_the_deadline():
    """An email that arrived at 16:00 is at risk at 08:30 next day, due at 09:00 (not at 08:30 the evening)."""
    arrived = at("2026-11-23 16:00")
    assert local(Promise().at_risk(JAKARTA, arrived)) == "2026-11-24 08:30"
    assert local(Promise().due(JAKARTA, arrived)) == "2026-11-24 09:00"


@pytest.mark.parametrize(
    "bad",
    ["8-17", "08:00", "17:00-08:00", "08:00-25:00", "08:60-09:00", "ab:cd-ef:gh", "08:00-08:00"],
)
def test_a_bad_span_is_refused_with_its_text(bad: str):
    """Opening hours that cannot be read name what was given."""
    with pytest.raises(ValueError, match=bad.replace("-", ".")):
        parse_span(bad)


def test_a_calendar_that_never_opens_or_overlaps_or_has_no_zone_is_refused():
    """Mistakes in the calendar fail when it is made, not at the first deadline (except a never-open week)."""
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar(week=week_of({"mon": ["08:00-12:00", "11:00-13:00"]}))
    with pytest.raises(Exception, match="Mars/Olympus"):
        BusinessCalendar("Mars/Olympus")
    with pytest.raises(ValueError, match="no working time"):
        BusinessCalendar(week=week_of({})).add(at("2026-11-23 09:00"), H)


@pytest.mark.parametrize(
    ("period", "start"),
    [
        (Period.DAY, date(2026, 11, 26)),
        (Period.WEEK, date(2026, 11, 23)),
        (Period.MONTH, date(2026, 11, 1)),
        (Period.QUARTER, date(2026, 10, 1)),
        (Period.HALF, date(2026, 7, 1)),
        (Period.YEAR, date(2026, 1, 1)),
    ],
)
def test_periods_start_where_reports_start_them(period: Period, start: date):
    """Weeks on Monday; months, quarters, half years and years on their first day."""
    assert period_start(date(2026, 11, 26), period) == start


def test_attainment_per_period_counts_met_breached_and_pending():
    """Met by the deadline, late or unanswered past it (breached), not yet due (pending: outside the share)."""
    now = at("2026-11-24 09:30")
    contacts = [
        FirstResponse(at("2026-11-23 09:00"), at("2026-11-23 10:59")),  # met
        FirstResponse(at("2026-11-23 09:00"), at("2026-11-23 11:00")),  # met, at the deadline
        FirstResponse(at("2026-11-23 09:00"), at("2026-11-23 11:01")),  # late
        FirstResponse(at("2026-11-23 16:00"), None),  # due 09:00 today, unanswered: breached
        FirstResponse(at("2026-11-24 08:30"), None),  # due 10:30: pending
        FirstResponse(at("2026-11-24 08:00"), at("2026-11-24 08:05")),  # met
    ]
    days = attainment(contacts, JAKARTA, Promise(), now, Period.DAY)
    assert days == [
        PeriodStat(date(2026, 11, 23), arrived=4, met=2, breached=2, pending=0),
        PeriodStat(date(2026, 11, 24), arrived=2, met=1, breached=0, pending=1),
    ]
    assert days[0].share == 0.5 and days[1].share == 1.0
    (week,) = attainment(contacts, JAKARTA, Promise(), now, Period.WEEK)
    assert (week.start, week.met, week.breached, week.pending) == (date(2026, 11, 23), 3, 2, 1)
    assert week.share == pytest.approx(0.6)
    assert attainment([], JAKARTA, Promise(), now, Period.MONTH) == []
    assert PeriodStat(date(2026, 11, 1), 1, 0, 0, 1).share is None


CALENDARS = {
    "jakarta": JAKARTA,
    "amsterdam, split shifts": BusinessCalendar(
        "Europe/Amsterdam",
        week=week_of({d: ["08:30-12:00", "13:00-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")}),
        holidays=holidays.country_holidays("NL"),
        exceptions={date(2026, 10, 26): (), date(2026, 10, 24): (parse_span("10:00-14:00"),)},
    ),
    "round the clock on weekdays": BusinessCalendar(
        "America/New_York", week=week_of({d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
    ),
}


@pytest.mark.parametrize("name", list(CALENDARS))
@settings(max_examples=60, deadline=None)
@given(
    starts=st.lists(st.floats(min_value=0, max_value=60 * 86400), min_size=1, max_size=40),
    lengths=st.lists(st.floats(min_value=0, max_value=20 * 86400), min_size=40, max_size=40),
    add=st.sampled_from([0.0, 1.0, 1800.0, 7200.0, 5.5 * 3600, 40 * 3600]),
)
def test_the_array_timeline_agrees_with_the_calendar_instant_by_instant(name, starts, lengths, add):
    """Working time and deadlines for whole arrays equal the calendar's own answers (summer time included)."""
    calendar = CALENDARS[name]
    origin = at("2026-09-28 00:00", calendar.time_zone)  # a Monday; the range crosses the end of summer time
    timeline = Timeline(calendar, date(2026, 9, 27), date(2027, 3, 31))
    a = np.array([origin + s for s in starts])
    b = a + np.array(lengths[: len(starts)])
    assert timeline.working_seconds(a, b) == pytest.approx(
        [calendar.working_seconds(x, y) for x, y in zip(a, b, strict=True)]
    )
    assert timeline.add(a, add) == pytest.approx([calendar.add(x, add) for x in a])


def test_attainment_of_arrays_is_the_attainment_of_records():
    """The array form gives the same periods and counts as the record form, per day and per month."""
    now = at("2026-11-24 09:30")
    arrived = [at("2026-11-23 09:00")] * 3 + [at("2026-11-23 16:00"), at("2026-11-24 08:30"), at("2026-11-24 08:00")]
    answered = [
        at("2026-11-23 10:59"),
        at("2026-11-23 11:00"),
        at("2026-11-23 11:01"),
        None,
        None,
        at("2026-11-24 08:05"),
    ]
    records = [FirstResponse(a, b) for a, b in zip(arrived, answered, strict=True)]
    for period in (Period.DAY, Period.MONTH):
        arrays = attainment_of_many(
            arrived, [np.nan if x is None else x for x in answered], JAKARTA, Promise(), now, period
        )
        assert arrays == attainment(records, JAKARTA, Promise(), now, period)
    assert attainment_of_many([], [], JAKARTA, Promise(), now, Period.DAY) == []


def test_a_timeline_refuses_instants_outside_its_days():
    """Asking about a moment it was not built for is an error, not a silent wrong answer."""
    timeline = Timeline(JAKARTA, date(2026, 11, 23), date(2026, 11, 27))
    with pytest.raises(ValueError, match="outside"):
        timeline.position([at("2026-12-01 09:00")])
    with pytest.raises(ValueError, match="after the timeline"):
        timeline.add([at("2026-11-27 16:00")], 2 * H)
