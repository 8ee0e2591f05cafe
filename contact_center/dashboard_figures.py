"""The figures behind the supervisors' dashboard: today and this week per channel, today by hour, agents' day.

Read at most once a second while a supervisor watches, and every few seconds for the gauges: the
contacts that arrived before today (this week, and a few days before it for what was handled today)
are read from the store once every few minutes and kept; today's are kept as the node applies their
records (:mod:`contact_center.today_facts`), not read again each time. From
them come the service figures (:mod:`contact_center.service_figures`), each agent's occupancy
(:mod:`contact_center.occupancy`) and, per hour, the agents each channel needed (Erlang C for
chat, call and callback; email's workload) beside the agents staffed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

from contact_center.contact_facts import ContactFacts
from contact_center.model import Contact
from contact_center.occupancy import AgentTime, agent_times, staffed_by_hour
from contact_center.service_figures import ChannelStat, Rules, figures_of, hourly_of, measured_of
from contact_center.sla import BusinessCalendar, Period, period_start
from contact_center.staffing import Demand, agents_needed, email_workload
from contact_center.store.base import ReportStore
from contact_center.today_facts import TodayFacts

__all__ = ["DashboardFigures", "DayFigures", "HourStaffing"]

_KEEP_EARLIER_S = 300.0
_FRESH_S = 1.0
_DAY_S = 86_400
_DEFAULT_HANDLE_S = 300.0  # before anything was handled today


@dataclass(frozen=True, slots=True)
class HourStaffing:
    """One hour of one channel today: arrivals, the handle time measured, the agents needed for its target."""

    hour: int
    arrivals: int
    handle_s: float
    needed: int


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: date
    today: dict[str, ChannelStat]
    week: dict[str, ChannelStat]
    hourly: dict[str, list[ChannelStat]]
    agents: dict[str, AgentTime]
    handled: dict[str, int]  # contacts each agent closed today
    staffed: list[float]  # mean agents staffed in each hour of today
    staffing: dict[str, list[HourStaffing]]  # per channel, the hours so far


def _midnight(calendar: BusinessCalendar, day: date) -> float:
    return datetime.combine(day, time(), calendar.zone).timestamp()


class DashboardFigures:
    """Today's and this week's figures, read from ``store`` (see the module's docstring)."""

    def __init__(self, store: ReportStore, calendar: BusinessCalendar, rules: Rules, targets: dict[str, float]):
        self._store = store
        self._calendar = calendar
        self._rules = rules
        self._targets = targets
        self._earlier: ContactFacts | None = None
        self._earlier_key: tuple[date, float] = (date.min, 0.0)
        self._today = TodayFacts()
        self._last: tuple[float, float, int, DayFigures] | None = None  # (real time, now, backlog, figures)

    def heard(self, contact: Contact) -> None:
        """A contact record as the node applied it (see :meth:`contact_center.engine.Engine.follow_records`)."""
        self._today.heard(contact)

    def reread(self) -> None:
        """Records changed without the node applying them: today's are read whole at the next reading."""
        self._today.reread()

    async def read(self, now: float, email_backlog: int = 0) -> DayFigures:
        """The figures at ``now``; the same reading again within a second (the dashboard and the gauges share it)."""
        beat = monotonic()
        last = self._last
        if last is not None and beat - last[0] < _FRESH_S and last[1] == now and last[2] == email_backlog:
            return last[3]
        day = await self._read(now, email_backlog)
        self._last = (beat, now, email_backlog, day)
        return day

    async def _read(self, now: float, email_backlog: int) -> DayFigures:
        cal = self._calendar
        today = cal.local_date(now)
        first = period_start(today, Period.WEEK)
        midnight, week_since = _midnight(cal, today), _midnight(cal, first)
        if self._earlier is None or self._earlier_key[0] != today or now - self._earlier_key[1] > _KEEP_EARLIER_S:
            self._earlier = await self._store.contact_facts(week_since - 3 * _DAY_S, midnight)
            self._earlier_key = (today, now)
        today_on = await self._today.facts(self._store, midnight, midnight + 2 * _DAY_S, monotonic())
        facts = ContactFacts.joined((self._earlier, today_on))
        tomorrow = _midnight(cal, today + timedelta(days=1))
        measured = measured_of(facts, cal, self._rules, now)  # once for the day, the week and the hours
        day = figures_of(facts, cal, self._rules, now, Period.DAY, today, today, midnight, tomorrow, measured)
        week = figures_of(facts, cal, self._rules, now, Period.WEEK, first, today, week_since, tomorrow, measured)
        hourly = hourly_of(facts, cal, self._rules, now, today, measured)
        changes = await self._store.status_changes(midnight, tomorrow)
        times = agent_times(changes, facts, midnight, tomorrow, now)
        return DayFigures(
            today, {s.channel: s for s in day.totals}, {s.channel: s for s in week.totals}, hourly,
            {t.agent_id: t for t in times}, {a.agent_id: a.handled for a in day.agents},
            staffed_by_hour(changes, midnight, now), self._staffing(hourly, now - midnight, email_backlog),
        )  # fmt: skip

    def _staffing(
        self, hourly: dict[str, list[ChannelStat]], since_midnight: float, backlog: int
    ) -> dict[str, list[HourStaffing]]:
        hours = min(24, int(since_midnight // 3600) + 1)
        out: dict[str, list[HourStaffing]] = {}
        for channel, rows in hourly.items():
            handled = sum(r.handled for r in rows)
            handle_s = sum(r.handle_s for r in rows) / handled if handled else _DEFAULT_HANDLE_S
            out[channel] = [self._hour(channel, h, rows[h].arrived, handle_s, backlog) for h in range(hours)]
        return out

    def _hour(self, channel: str, hour: int, arrivals: int, handle_s: float, backlog: int) -> HourStaffing:
        if channel == "email":
            needed = email_workload(arrivals, handle_s, backlog).agents
        elif arrivals == 0:
            needed = 0
        else:
            threshold = self._rules.thresholds.get(channel, 30.0)
            target = self._targets.get(channel, 0.8)
            needed = agents_needed(Demand(arrivals, handle_s), target, threshold).agents
        return HourStaffing(hour, arrivals, round(handle_s, 1), needed)
