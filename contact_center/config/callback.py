"""The ``[callback]`` section: the call-me button's numbers, its booked slots and how often a callback is tried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers

from contact_center.config.checks import Table, integer, number, text, text_list
from contact_center.exceptions import ConfigError
from contact_center.sla import parse_span

__all__ = ["CallbackConfig", "Staffing", "read_callback"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Staffing:
    """``agents`` make callbacks on ``days`` (0 is Monday) from ``start`` to ``end`` (seconds of the office's day)."""

    days: tuple[int, ...]
    start: int
    end: int
    agents: int


@dataclass(frozen=True, slots=True)
class CallbackConfig:
    """A number without a country code is of ``default_region``; only numbers of ``countries`` are called (none:
    any). A customer books a slot of ``slot_minutes`` inside the office's hours (``[sla]``), up to ``horizon_days``
    ahead; a slot holds ``calls_per_agent`` callbacks for each agent ``staffing`` puts on callbacks then (``agents``
    where it names none). A booked callback is offered ``lead_s`` before its time; one not reached (no answer,
    busy) is tried ``attempts`` times in all, ``retry_delay_s`` apart. The expected wait of an "as soon as
    possible" callback comes from the callbacks answered in the last ``wait_window_s``; it is due
    ``service_level_s`` after it was asked for (a booked one at its slot's start), at risk from
    ``at_risk_fraction`` of that. A customer has at most ``per_customer`` callbacks open at once. The
    confirmation's links lead to ``page_url`` (none: the engine's own ``/callback`` page at ``[server]``)."""

    default_region: str = "ID"
    countries: tuple[str, ...] = ("ID",)
    slot_minutes: int = 30
    calls_per_agent: int = 2
    agents: int = 1
    staffing: tuple[Staffing, ...] = ()
    horizon_days: int = 14
    lead_s: float = 120.0
    attempts: int = 3
    retry_delay_s: float = 900.0
    wait_window_s: float = 3600.0
    service_level_s: float = 900.0
    at_risk_fraction: float = 0.8
    per_customer: int = 2
    page_url: str = ""


def _region(value: Any) -> bool:
    return isinstance(value, str) and value.upper() in phonenumbers.SUPPORTED_REGIONS


def _web_address(value: Any) -> bool:
    return isinstance(value, str) and (value == "" or value.startswith(("https://", "http://")))


def _fraction(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(e, dict) for e in value)


def read_callback(t: Table) -> CallbackConfig:
    d = CallbackConfig()
    countries = t.get("countries", list(d.countries), text_list, "a list of country codes like ID")
    for code in countries:
        if not _region(code):
            raise ConfigError(f"{t.key('countries')}: {code!r} is not a country whose numbers are known")
    slot = t.get("slot_minutes", d.slot_minutes, integer(5), "a whole number of minutes >= 5")
    if (24 * 60) % slot:
        raise ConfigError(f"{t.key('slot_minutes')}: {slot} does not divide a day into whole slots")
    cfg = CallbackConfig(
        default_region=t.get("default_region", d.default_region, _region, "a country code like ID").upper(),
        countries=tuple(c.upper() for c in countries),
        slot_minutes=slot,
        calls_per_agent=t.get("calls_per_agent", d.calls_per_agent, integer(1), "a whole number >= 1"),
        agents=t.get("agents", d.agents, integer(0), "a whole number >= 0"),
        staffing=_staffing(t),
        horizon_days=t.get("horizon_days", d.horizon_days, integer(0), "a whole number of days >= 0"),
        lead_s=float(t.get("lead_s", d.lead_s, number(-1), "a number of seconds >= 0")),
        attempts=t.get("attempts", d.attempts, integer(1), "a whole number >= 1"),
        retry_delay_s=float(t.get("retry_delay_s", d.retry_delay_s, number(0), "a number of seconds > 0")),
        wait_window_s=float(t.get("wait_window_s", d.wait_window_s, number(0), "a number of seconds > 0")),
        service_level_s=float(t.get("service_level_s", d.service_level_s, number(0), "a number of seconds > 0")),
        at_risk_fraction=float(t.get("at_risk_fraction", d.at_risk_fraction, _fraction, "a number from 0 to 1")),
        per_customer=t.get("per_customer", d.per_customer, integer(1), "a whole number >= 1"),
        page_url=t.get(
            "page_url", d.page_url, _web_address, "an http(s) address like https://help.example.com/callback"
        ),
    )
    t.done()
    return cfg


def _staffing(t: Table) -> tuple[Staffing, ...]:
    """``[[callback.staffing]]`` entries: ``days = ["mon", ...]``, ``hours = "09:00-12:00"``, ``agents = 3``."""
    tables: list[dict[str, Any]] = []
    found = t.get("staffing", tables, _tables, "a list of tables ([[callback.staffing]])")
    entries = []
    for n, raw in enumerate(found):
        entry = Table(raw, f"{t.key('staffing')}[{n}]")
        days = entry.get("days", list(DAYS[:5]), lambda v: text_list(v) and set(v) <= set(DAYS),
                         f"a list of days ({', '.join(DAYS)})")  # fmt: skip
        hours = entry.get("hours", "", text, 'a span of the day like "09:00-12:00"')
        try:
            start, end = parse_span(hours)
        except ValueError as exc:
            raise ConfigError(f"{entry.key('hours')}: {exc}") from None
        agents = entry.get("agents", 1, integer(0), "a whole number >= 0")
        entry.done()
        entries.append(Staffing(tuple(sorted(DAYS.index(day) for day in set(days))), start, end, agents))
    return tuple(entries)
