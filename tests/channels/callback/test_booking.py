"""Booking a callback, as tables on a fixed clock: the office's hours cut into slots, holidays closed, each slot's
room from the agents on callbacks then, the horizon and the lead; the numbers a customer may be called at; and
what each outcome of a try does (retries in working time, the last failure closing it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays
import pytest

from channels.callback.attempts import Next, Outcome, after, outcome_of
from channels.callback.numbers import callable_number
from channels.callback.slots import Slots
from contact_center.config import CallbackConfig, Staffing, parse_config
from contact_center.exceptions import ClientError, ConfigError
from contact_center.sla import BusinessCalendar, week_of

JAKARTA = ZoneInfo("Asia/Jakarta")
CALENDAR = BusinessCalendar("Asia/Jakarta", holidays=holidays.country_holidays("ID", years=range(2026, 2028)))
MORNINGS = Staffing(days=(0, 1, 2, 3, 4), start=9 * 3600, end=12 * 3600, agents=3)


def at(day: str, clock: str, zone: ZoneInfo = JAKARTA) -> float:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=zone).timestamp()


def slots(**config: object) -> Slots:
    return Slots(CALENDAR, replace(CallbackConfig(), **config))  # type: ignore[arg-type]


def refused(book: Slots, start: object, now: float, booked: dict[float, int] | None = None) -> str:
    with pytest.raises(ClientError) as raised:
        book.bookable(start, now, booked or {})
    assert raised.value.detail["field"] == "at"
    return str(raised.value.detail["problem"])


def test_a_working_day_is_cut_into_slots_with_room_for_the_agents_on_callbacks_then():
    day = slots(staffing=(MORNINGS,)).of_day(date(2026, 12, 4))  # a Friday, 08:00-17:00
    assert len(day) == 18 and day[0].start == at("2026-12-04", "08:00") and day[-1].end == at("2026-12-04", "17:00")
    assert [s.capacity for s in day[:8]] == [2, 2, 6, 6, 6, 6, 6, 6] and {s.capacity for s in day[8:]} == {2}
    assert day[0].start == datetime(2026, 12, 4, 1, 0, tzinfo=ZoneInfo("UTC")).timestamp()  # one instant for all
    assert [s.capacity for s in slots(agents=0).of_day(date(2026, 12, 4))] == [0] * 18  # nobody on callbacks


def test_weekends_and_public_holidays_have_no_slots_and_cannot_be_booked():
    book, now = slots(), at("2026-12-28", "10:00")
    assert book.of_day(date(2027, 1, 1)) == [] and book.of_day(date(2027, 1, 2)) == []  # New Year, a Saturday
    assert refused(book, at("2027-01-01", "09:00"), now) == "closed"
    assert refused(book, at("2026-12-28", "18:00"), now) == "closed"  # after hours
    assert refused(book, at("2026-12-28", "11:10"), now) == "not_a_slot"  # inside a slot, not its start
    assert {datetime.fromtimestamp(s.start, JAKARTA).date() for s in book.open(now, {})} >= {date(2026, 12, 31)}
    assert date(2027, 1, 1) not in {datetime.fromtimestamp(s.start, JAKARTA).date() for s in book.open(now, {})}


def test_a_slot_is_booked_only_ahead_of_the_lead_within_the_horizon_and_while_it_has_room():
    book, now = slots(horizon_days=14, lead_s=120), at("2026-12-01", "09:59")
    assert refused(book, at("2026-12-01", "09:30"), now) == "too_soon"  # passed
    assert refused(book, at("2026-12-01", "10:00"), now) == "too_soon"  # inside the lead: no agent would be free
    assert book.bookable(at("2026-12-01", "10:30"), now, {}).free == 2
    assert refused(book, at("2026-12-01", "10:30"), now, {at("2026-12-01", "10:30"): 2}) == "full"
    assert book.bookable(at("2026-12-15", "16:30"), now, {}).start == at("2026-12-15", "16:30")  # the 14th day
    assert refused(book, at("2026-12-16", "08:00"), now) == "beyond_horizon"
    for bad in ("tomorrow", None, True, float("nan"), float("inf"), [1]):
        assert refused(book, bad, now) == "not_a_slot"
    found = book.open(now, {at("2026-12-01", "10:30"): 2, at("2026-12-01", "11:00"): 1})
    assert found[0].start == at("2026-12-01", "11:00") and found[0].free == 1  # 10:00 too soon, 10:30 full
    assert datetime.fromtimestamp(found[-1].start, JAKARTA).date() == date(2026, 12, 15)


def test_slots_keep_the_offices_wall_clock_on_the_day_its_clocks_change():
    berlin = BusinessCalendar("Europe/Berlin", week=week_of({"sun": ["09:00-11:00"], "mon": ["09:00-11:00"]}))
    book = Slots(berlin, CallbackConfig(slot_minutes=60))
    change = book.of_day(date(2027, 3, 28))  # summer time starts at 02:00
    assert [datetime.fromtimestamp(s.start, ZoneInfo("Europe/Berlin")).hour for s in change] == [9, 10]
    assert change[1].start - change[0].start == 3600


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("(021) 5794 5000", "+622157945000"),
    ],
)
def test_a_number_is_kept_in_e164_however_it_is_written(written: str, e164: str):
    assert callable_number(written, "ID", ["ID"]) == e164


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("call me", "not_a_number"),
        ("", "not_a_number"),
        ("0812", "invalid_number"),
        ("+1 650 253 0000", "country_not_served"),
        ("0809 1234 567", "not_callable"),  # a premium-rate number
        ("0812345678901234567890123456789012345678901", "not_a_number"),
    ],
)
def test_a_number_that_cannot_be_called_back_is_refused_with_the_reason(written: str, problem: str):
    with pytest.raises(ClientError) as raised:
        callable_number(written, "ID", ["ID"])
    assert raised.value.detail == {"field": "phone", "problem": problem}


def test_the_callback_section_is_read_and_a_wrong_key_is_named():
    cfg = parse_config({"callback": {"countries": ["id", "SG"], "staffing": [{"days": ["sat"], "hours": "09:00-12:00",
                                                                              "agents": 2}]}})  # fmt: skip
    assert cfg.callback.countries == ("ID", "SG") and cfg.callback.staffing == (Staffing((5,), 32400, 43200, 2),)
    for bad, says in [
        ({"countries": ["XX"]}, "callback.countries: 'XX' is not a country"),
        ({"slot_minutes": 7}, "callback.slot_minutes: 7 does not divide a day"),
        ({"staffing": [{"hours": "12:00-09:00"}]}, "callback.staffing[0].hours:"),
        ({"staffing": [{"days": ["someday"]}]}, "callback.staffing[0].days: must be a list of days"),
        ({"attempts": 0}, "callback.attempts: must be a whole number >= 1"),
    ]:
        with pytest.raises(ConfigError) as raised:
            parse_config({"callback": bad})
        assert str(raised.value).startswith(says), raised.value


def test_a_callback_not_reached_is_tried_again_in_working_time_and_closed_after_the_last_try():
    config = CallbackConfig(attempts=3, retry_delay_s=900)
    friday = at("2026-12-04", "16:50")
    first = after(Outcome.NO_ANSWER, 0, friday, config, CALENDAR.add)
    assert first == Next("no_answer", at("2026-12-07", "08:05"), 1)  # 10 min on Friday, 5 on Monday morning
    second = after(Outcome.BUSY, first.attempts, at("2026-12-07", "08:05"), config, CALENDAR.add)
    assert second == Next("busy", at("2026-12-07", "08:20"), 2)
    assert after(Outcome.NO_ANSWER, 2, at("2026-12-07", "08:20"), config, CALENDAR.add) == Next(
        "no_answer (3 of 3 tries)", None, 3
    )
    assert after(Outcome.REACHED, 2, friday, config, CALENDAR.add) == Next("reached", None, 2)
    assert after(Outcome.WRONG_NUMBER, 0, friday, config, CALENDAR.add).due_at is None
    later = after(Outcome.CALL_BACK_LATER, 1, friday, config, CALENDAR.add, later_at=at("2026-12-08", "10:00"))
    assert later == Next("call_back_later", at("2026-12-08", "10:00"), 0)  # they were reached: the count starts again
    with pytest.raises(ClientError):
        after(Outcome.CALL_BACK_LATER, 0, friday, config, CALENDAR.add)
    with pytest.raises(ClientError) as raised:
        outcome_of("hung up")
    assert raised.value.detail == {"field": "outcome"} and "one of reached, no_answer" in str(raised.value)
