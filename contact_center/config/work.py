"""The sections of the work itself: ``[desk]``, ``[routing]`` and ``[sla]`` (the business calendar)."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from contact_center.config.checks import CHANNELS, Table, integer, number, text, text_list
from contact_center.exceptions import ConfigError
from contact_center.sla import DAY_NAMES, BusinessCalendar, Span, parse_span
from routing import RoutingPolicy, WideningStep

__all__ = ["DeskConfig", "RoutingConfig", "SlaConfig", "read_desk", "read_routing", "read_sla"]


@dataclass(frozen=True, slots=True)
class DeskConfig:
    reconnect_grace_s: float = 30.0
    default_capacity: Mapping[str, int] = field(
        default_factory=lambda: {"chat": 3, "email": 5, "callback": 1, "call": 1}
    )
    default_wrap_up_s: float = 30.0
    dispositions: tuple[str, ...] = ("resolved", "follow_up", "no_response", "spam")
    # An agent reads the history of customers whose contact it holds or is offered; true: also of
    # customers it handled before. Supervisors read every history.
    history_of_handled: bool = False
    # What agents call each band of customer value ([routing] value_bands: one name more than thresholds).
    value_band_names: tuple[Mapping[str, str], ...] = (
        {"en": "Standard", "id": "Standar"},
        {"en": "Priority", "id": "Prioritas"},
        {"en": "VIP", "id": "VIP"},
    )
    # The folder of the pre-written replies (one file each); None: the starter library shipped with the engine.
    replies_dir: Path | None = None
    # Drafts are checked for spelling with hunspell's dictionaries in this folder (Debian's), for
    # grammar by LanguageTool too when a server is named (it has no Indonesian); names never flagged.
    spelling_dir: Path = Path("/usr/share/hunspell")
    product_names: tuple[str, ...] = ()
    languagetool_url: str = ""
    languagetool_timeout_s: float = 2.0
    company: str = ""  # the company's name, for {{company}} in replies


# The product's routing defaults (the pure router's own defaults are neutral: no widening, one value band).
_DEFAULT_POLICY = RoutingPolicy(
    widening=(
        WideningStep(after_s=30.0, relax_levels=1),
        WideningStep(after_s=60.0, relax_levels=4, drop_secondary=True),
    ),
    value_bands=(100.0, 1000.0),
)


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    offer_timeout_s: float = 20.0
    leader: bool = True  # nodes sharing Redis: one routes for all (False: every node routes, racing)
    policy: RoutingPolicy = field(default_factory=lambda: _DEFAULT_POLICY)


@dataclass(frozen=True)
class SlaConfig:
    """The business calendar of the SLA clock (see :mod:`contact_center.sla`)."""

    time_zone: str = "Asia/Jakarta"
    holidays: str = "ID"  # country whose public holidays close the office ("" for none)
    holiday_subdivision: str = ""
    week: tuple[tuple[Span, ...], ...] = field(default_factory=lambda: BusinessCalendar().week)
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)

    @cached_property
    def calendar(self) -> BusinessCalendar:
        closed: Container[date] = frozenset()
        if self.holidays:
            closed = holidays.country_holidays(self.holidays, subdiv=self.holiday_subdivision or None)
        return BusinessCalendar(self.time_zone, self.week, closed, self.exceptions)


def _capacity(t: Table, name: str, default: Mapping[str, int]) -> dict[str, int]:
    raw: dict[str, Any] = t.get(name, dict(default), lambda v: isinstance(v, Mapping), "a table")
    for channel, n in raw.items():
        if channel not in CHANNELS:
            raise ConfigError(f"{t.key(name)}.{channel}: unknown channel (one of {', '.join(CHANNELS)})")
        if not integer(0)(n):
            raise ConfigError(f"{t.key(name)}.{channel}: must be an integer >= 0, got {n!r}")
    return dict(raw)


def _folder(path: str) -> Path | None:
    return Path(path) if path else None


def read_desk(t: Table) -> DeskConfig:
    default = DeskConfig()
    cfg = DeskConfig(
        reconnect_grace_s=float(t.get("reconnect_grace_s", default.reconnect_grace_s, number(-1), "a number >= 0")),
        default_capacity=_capacity(t, "default_capacity", default.default_capacity),
        default_wrap_up_s=float(t.get("default_wrap_up_s", default.default_wrap_up_s, number(-1), "a number >= 0")),
        dispositions=tuple(
            t.get("dispositions", list(default.dispositions), lambda v: text_list(v) and bool(v), "a non-empty list")
        ),
        history_of_handled=t.get(
            "history_of_handled", default.history_of_handled, lambda v: isinstance(v, bool), "true or false"
        ),
        value_band_names=tuple(
            dict(names)
            for names in t.get(
                "value_band_names",
                [dict(n) for n in default.value_band_names],
                _band_names,
                'a list of names in both languages, like [{ en = "Standard", id = "Standar" }]',
            )
        ),
        replies_dir=_folder(t.get("replies_dir", "", lambda v: isinstance(v, str), "a folder path")),
        spelling_dir=Path(t.get("spelling_dir", str(default.spelling_dir), text, "a folder path")),
        product_names=tuple(t.get("product_names", [], text_list, "a list of words")),
        languagetool_url=t.get("languagetool_url", "", _url_or_empty, "an http(s) URL, or empty"),
        languagetool_timeout_s=float(t.get("languagetool_timeout_s", 2.0, number(0), "a number > 0")),
        company=t.get("company", "", lambda v: isinstance(v, str), "a name"),
    )
    t.done()
    return cfg


def _url_or_empty(value: Any) -> bool:
    return isinstance(value, str) and (value == "" or value.startswith(("http://", "https://")))


def _band_names(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(n, dict) and set(n) == {"en", "id"} and all(isinstance(s, str) and s.strip() for s in n.values())
            for n in value
        )
    )


def _widening(t: Table, default: tuple[WideningStep, ...]) -> tuple[WideningStep, ...]:
    if "widening" not in t.data:
        t.seen.add("widening")
        return default
    raw: list[Any] = t.get("widening", [], lambda v: isinstance(v, list), "an array of tables")
    steps = []
    for i, item in enumerate(raw):
        sub = Table(item, f"{t.key('widening')}[{i}]")
        steps.append(
            WideningStep(
                after_s=float(sub.get("after_s", 0.0, number(-1), "a number >= 0")),
                relax_levels=sub.get("relax_levels", 0, lambda v: integer(0)(v) and v <= 4, "0-4"),
                drop_secondary=sub.get("drop_secondary", False, lambda v: isinstance(v, bool), "true or false"),
            )
        )
        sub.done()
    if [s.after_s for s in steps] != sorted(s.after_s for s in steps):
        raise ConfigError(f"{t.key('widening')}: steps must be in increasing after_s")
    return tuple(steps)


def read_routing(t: Table) -> RoutingConfig:
    d = RoutingConfig()
    bands = t.get(
        "value_bands",
        list(d.policy.value_bands),
        lambda v: isinstance(v, list) and all(number(-1e18)(x) for x in v),
        "a list of numbers",
    )
    if bands != sorted(bands):
        raise ConfigError(f"{t.key('value_bands')}: must be ascending")
    exclusive = t.get("exclusive_channels", sorted(d.policy.exclusive_channels), text_list, "a list of channels")
    for channel in exclusive:
        if channel not in CHANNELS:
            raise ConfigError(f"{t.key('exclusive_channels')}: unknown channel {channel!r}")
    cfg = RoutingConfig(
        offer_timeout_s=float(t.get("offer_timeout_s", d.offer_timeout_s, number(0), "a number > 0")),
        leader=t.get("leader", d.leader, lambda v: isinstance(v, bool), "true or false"),
        policy=RoutingPolicy(
            widening=_widening(t, d.policy.widening),
            value_bands=tuple(float(b) for b in bands),
            exclusive_channels=frozenset(exclusive),
        ),
    )
    t.done()
    return cfg


def _spans(t: Table, name: str, raw: Any) -> tuple[Span, ...]:
    if not text_list(raw) and raw != []:
        raise ConfigError(f'{t.key(name)}: must be a list of spans like "08:00-17:00", got {raw!r}')
    try:
        return tuple(parse_span(span) for span in raw)
    except ValueError as exc:
        raise ConfigError(f"{t.key(name)}: {exc}") from None


def _week(t: Table) -> tuple[tuple[Span, ...], ...]:
    for name in t.data:
        if name not in DAY_NAMES:
            raise ConfigError(f"{t.key(name)}: unknown day (one of {', '.join(DAY_NAMES)})")
    return tuple(_spans(t, name, t.data.get(name, [])) for name in DAY_NAMES)


def _exceptions(t: Table) -> dict[date, tuple[Span, ...]]:
    found = {}
    for name, raw in t.data.items():
        try:
            day = date.fromisoformat(name)
        except ValueError:
            raise ConfigError(f"{t.key(name)}: not a date like 2026-12-24") from None
        found[day] = _spans(t, name, raw)
    return found


def read_sla(t: Table) -> SlaConfig:
    default = SlaConfig()
    zone = t.get("time_zone", default.time_zone, text, "an IANA time zone like Asia/Jakarta")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{t.key('time_zone')}: unknown time zone {zone!r}") from None
    country = t.get("holidays", default.holidays, lambda v: isinstance(v, str), 'a country code or ""')
    if country and country not in holidays.list_supported_countries():
        raise ConfigError(f"{t.key('holidays')}: no public holidays known for {country!r} (a code like ID)")
    subdivision = t.get(
        "holiday_subdivision", default.holiday_subdivision, lambda v: isinstance(v, str), "a subdivision code"
    )
    if subdivision and subdivision not in holidays.list_supported_countries()[country]:
        raise ConfigError(f"{t.key('holiday_subdivision')}: {country} has no subdivision {subdivision!r}")
    cfg = SlaConfig(
        time_zone=zone,
        holidays=country,
        holiday_subdivision=subdivision,
        week=_week(t.table("hours")) if "hours" in t.data else default.week,
        exceptions=_exceptions(t.table("exceptions")) if "exceptions" in t.data else {},
    )
    t.done()
    return cfg
