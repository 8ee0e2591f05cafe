"""The hours a customer may book a callback for: the office's open hours cut into slots, each with room for as
many callbacks as the agents on callbacks then can make.

The office's hours are the SLA calendar's (``[sla]``: working hours, public holidays, exceptions);
each open span of a day is cut into slots of ``callback.slot_minutes`` from its start, and only
whole slots count. A slot holds ``calls_per_agent`` callbacks for each agent the staffing puts on
callbacks at its start (``callback.staffing``, else ``callback.agents``). A slot may be booked
while it still has room, lies within ``callback.horizon_days`` of today, and starts at least
``callback.lead_s`` from now (its callback is offered that long before). Times are instants
(seconds since the epoch): the customer's page shows them in the customer's own time zone.
No I/O here: what is booked comes in as counts per slot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from contact_center.config import CallbackConfig
from contact_center.exceptions import ClientError
from contact_center.sla import BusinessCalendar

__all__ = ["Slot", "Slots"]


@dataclass(frozen=True, slots=True)
class Slot:
    start: float
    end: float
    capacity: int
    booked: int = 0

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


def _refused(message: str, problem: str) -> ClientError:
    return ClientError(f"at: {message}", "invalid_field", field="at", problem=problem)


class Slots:
    """The slots of ``calendar``'s open hours, as ``config`` staffs them."""

    def __init__(self, calendar: BusinessCalendar, config: CallbackConfig) -> None:
        self._calendar = calendar
        self._config = config
        self.slot_s = config.slot_minutes * 60

    def _agents(self, start: float) -> int:
        local = datetime.fromtimestamp(start, self._calendar.zone)
        second = local.hour * 3600 + local.minute * 60 + local.second
        covering = [s.agents for s in self._config.staffing if local.weekday() in s.days and s.start <= second < s.end]
        return sum(covering) if covering else self._config.agents

    def of_day(self, day: date) -> list[Slot]:
        """Every whole slot of the office's ``day`` (a date in its time zone), with its capacity."""
        found = []
        for begin, end in self._calendar.spans(day):
            at = begin
            while at + self.slot_s <= end:
                found.append(Slot(at, at + self.slot_s, self._agents(at) * self._config.calls_per_agent))
                at += self.slot_s
        return found

    def open(self, now: float, booked: Mapping[float, int]) -> list[Slot]:
        """The slots that may be booked now: each with room left (``booked``: callbacks per slot start)."""
        today = datetime.fromtimestamp(now, self._calendar.zone).date()
        earliest = now + self._config.lead_s
        found = []
        for n in range(self._config.horizon_days + 1):
            for slot in self.of_day(today + timedelta(days=n)):
                taken = Slot(slot.start, slot.end, slot.capacity, booked.get(slot.start, 0))
                if slot.start >= earliest and taken.free > 0:
                    found.append(taken)
        return found

    def bookable(self, start: object, now: float, booked: Mapping[float, int]) -> Slot:
        """The slot starting at ``start``, if a callback may be booked in it now; else :class:`ClientError` on
        ``at`` with ``problem`` ``not_a_slot``, ``too_soon`` (past, or inside the lead), ``beyond_horizon``,
        ``closed`` (the office is closed then) or ``full``."""
        if not isinstance(start, int | float) or isinstance(start, bool) or not math.isfinite(start):
            raise _refused("the start of a slot, in seconds since the epoch", "not_a_slot")
        if start < now + self._config.lead_s:
            raise _refused("that time has passed, or is too soon to be called then", "too_soon")
        office = datetime.fromtimestamp(start, self._calendar.zone)
        today = datetime.fromtimestamp(now, self._calendar.zone).date()
        if (office.date() - today).days > self._config.horizon_days:
            raise _refused(f"callbacks are booked at most {self._config.horizon_days} days ahead", "beyond_horizon")
        day = self.of_day(office.date())
        if not day:
            raise _refused(f"the office is closed on {office.date().isoformat()}", "closed")
        slot = next((s for s in day if s.start == start), None)
        if slot is None:
            inside = any(s.start <= start < s.end for s in day)
            raise _refused("not the start of a slot" if inside else "the office is closed then",
                           "not_a_slot" if inside else "closed")  # fmt: skip
        taken = Slot(slot.start, slot.end, slot.capacity, booked.get(slot.start, 0))
        if taken.free <= 0:
            raise _refused("that slot is full: choose another", "full")
        return taken
