"""The supervisors' live dashboard: every ``every_s`` each supervisor's desk gets a ``dashboard`` message.

The whole center is in every node's replica (records reach all nodes through the bus), so each
node builds the live part for its own supervisors: per channel the line and its longest wait,
agents by status with what they hold, the emails at risk of breaking the promise and those past
it, callbacks due within the hour. The day's and week's figures (:mod:`contact_center.dashboard_figures`)
are read from the store at most every ``figures_every_s``. Protocol in docs/protocol.md.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.dashboard_figures import DashboardFigures, DayFigures
from contact_center.engine import Engine
from contact_center.engine.views import LiveView
from contact_center.model import Contact, Customer
from contact_center.periodic import Periodic
from contact_center.service_figures import ChannelStat
from contact_center.service_report import rules_of
from contact_center.store.base import ReportStore

__all__ = ["DashboardNews", "ServiceGauges", "Supervisor"]

CHANNELS = ("chat", "call", "callback", "email")


class Supervisor(Protocol):
    @property
    def supervisor(self) -> bool | None: ...

    def tell_dashboard(self, message: dict[str, Any]) -> None: ...


class Customers(Protocol):
    async def get_customer(self, customer_id: str) -> Customer | None: ...


def _stat(s: ChannelStat | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "arrived": s.arrived, "offered": s.offered, "answered": s.answered, "in_time": s.in_time,
        "pending": s.pending, "service_level": s.service_level, "abandoned": s.abandoned,
        "abandon_rate": s.abandon_rate, "asa_s": s.asa_s, "aht_s": s.aht_s,
    }  # fmt: skip


class DashboardNews:
    """Keeps every supervisor's dashboard up to date (see the module's docstring)."""

    def __init__(
        self, engine: Engine, store: ReportStore, customers: Customers, config: Config, clock: Clock,
        sessions: set[Any], every_s: float = 0.5, figures_every_s: float = 1.0,
    ) -> None:  # fmt: skip
        rules = rules_of(config)
        self._engine, self._customers, self._config, self._clock = engine, customers, config, clock
        self._sessions = sessions
        self._targets = {**config.reports.targets, "email": config.email.target}
        self._thresholds = dict(rules.thresholds)
        self.figures = DashboardFigures(store, config.sla.calendar, rules, self._targets)  # the gauges read it too
        engine.follow_records(self.figures.heard, self.figures.reread)  # today's contacts kept as they change
        self._day: DayFigures | None = None
        self._figured_at = float("-inf")
        self._figures_every_s = figures_every_s
        self._names: dict[str, str] = {}
        self._loop = Periodic("dashboard_news", every_s, self.tell)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def tell(self) -> None:
        """One round: every supervisor's desk on this node gets the dashboard as it is now."""
        watching = [s for s in self._sessions if s.supervisor]
        if not watching:
            return
        now = self._clock.now()
        live = self._engine.live()
        beat = time.monotonic()  # how often the store is read is real time, whatever the engine's clock says
        if beat - self._figured_at >= self._figures_every_s or self._day is None:
            self._day = await self.figures.read(now, email_backlog=self._backlog(live))
            self._figured_at = beat
        await self._learn_names(live)
        message = self.message(live, self._day, now)
        for session in watching:
            session.tell_dashboard(message)

    @staticmethod
    def _backlog(live: LiveView) -> int:
        return next((q.waiting for q in live.queues if q.channel == "email"), 0)

    async def _learn_names(self, live: LiveView) -> None:
        wanted = {c.customer_id for c, *_ in live.promise} | {c.customer_id for c, _ in live.callbacks_due}
        wanted |= {c.customer_id for _, _, held in live.agents for c in held}
        for customer_id in wanted - set(self._names):
            customer = await self._customers.get_customer(customer_id)
            self._names[customer_id] = "" if customer is None else customer.name
        for gone in set(self._names) - wanted:
            del self._names[gone]

    def _contact(self, c: Contact) -> dict[str, Any]:
        return {"id": c.id, "channel": c.channel.value, "state": c.state.value, "subject": c.subject,
                "customer_id": c.customer_id, "customer_name": self._names.get(c.customer_id, ""),
                "ticket": c.ticket}  # fmt: skip

    def message(self, live: LiveView, day: DayFigures, now: float) -> dict[str, Any]:
        return {
            "type": "dashboard",
            "now": now,
            "day": day.day.isoformat(),
            "office": {"time_zone": self._config.sla.time_zone},
            "channels": [self._channel(live, day, ch) for ch in CHANNELS],
            "email": self._email(live, day, now),
            "agents": self._agents(live, day),
            "callbacks_due": [{**self._contact(c), "due_at": at, "phone": c.details.get("phone", ""),
                               "queue_number": c.details.get("queue_number")} for c, at in live.callbacks_due],
            "scheduled": live.scheduled,
            "staffed": [round(n, 2) for n in day.staffed],
        }  # fmt: skip

    def _channel(self, live: LiveView, day: DayFigures, channel: str) -> dict[str, Any]:
        q = next(q for q in live.queues if q.channel == channel)
        hours = day.hourly.get(channel, [])
        return {
            "channel": channel, "waiting": q.waiting, "oldest_at": q.oldest_at, "at_risk": q.at_risk,
            "breached": q.breached, "threshold_s": self._thresholds.get(channel), "target": self._targets.get(channel),
            "today": _stat(day.today.get(channel)), "week": _stat(day.week.get(channel)),
            "hours": [r.service_level for r in hours], "hour_arrivals": [r.arrived for r in hours],
            "staffing": [{"hour": h.hour, "arrivals": h.arrivals, "handle_s": h.handle_s, "needed": h.needed}
                         for h in day.staffing.get(channel, [])],
        }  # fmt: skip

    def _email(self, live: LiveView, day: DayFigures, now: float) -> dict[str, Any]:
        at_risk = [{**self._contact(c), "due_at": due} for c, due, _ in live.promise if now < due]
        breached = [{**self._contact(c), "due_at": due} for c, due, _ in live.promise if now >= due]
        return {"target": self._config.email.target, "within_h": self._config.email.first_response_h,
                "today": _stat(day.today.get("email")), "week": _stat(day.week.get("email")),
                "at_risk": at_risk, "breached": breached}  # fmt: skip

    def _agents(self, live: LiveView, day: DayFigures) -> list[dict[str, Any]]:
        out = []
        for agent, presence, held in live.agents:
            times = day.agents.get(agent.id)
            out.append({
                "id": agent.id, "name": agent.display_name, "username": agent.username, "role": agent.role.value,
                "status": presence.status.value, "status_reason": presence.status_reason,
                "status_since": presence.status_since or None, "connected": presence.connected > 0,
                "load": dict(presence.load), "capacity": dict(agent.capacity),
                "contacts": [self._contact(c) for c in held],
                "occupancy": None if times is None else times.occupancy,
                "handled_today": day.handled.get(agent.id, 0),
            })  # fmt: skip
        return out


class ServiceGauges:
    """Today's service level per channel for ``/metrics`` (``cc_service_level``), read every ``every_s`` from the
    dashboard's figures (one reader for both: what it read within the last second is not read again)."""

    def __init__(self, figures: DashboardFigures, clock: Clock, every_s: float = 15.0) -> None:
        self._figures = figures
        self._clock = clock
        self.levels: dict[str, float] = {}
        self._loop = Periodic("service_gauges", every_s, self.read)

    async def read(self) -> None:
        day = await self._figures.read(self._clock.now())
        self.levels = {ch: s.service_level for ch, s in day.today.items() if s.service_level is not None}

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
