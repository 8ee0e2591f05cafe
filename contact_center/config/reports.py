"""The ``[reports]`` section: the choices behind the service figures (see the README's definitions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contact_center.config.checks import Table, number

__all__ = ["ReportsConfig", "read_reports"]


@dataclass(frozen=True, slots=True)
class ReportsConfig:
    """A contact abandoned within ``short_abandon_s`` of arriving is a short abandon: left out of the offered
    and the abandoned unless ``count_short_abandons``. A chat or call abandoned by a customer who asked for a
    callback while waiting, or within ``callback_instead_s`` of leaving, is not abandoned (the callback counts
    on its own channel). A contact is resolved at first contact if its customer opened no other contact on
    any channel within ``fcr_days`` of its close. ``targets``: the share of each channel's contacts to answer
    within its threshold (the line on the dashboard and in reports; email's is ``email.target``)."""

    short_abandon_s: float = 5.0
    count_short_abandons: bool = False
    callback_instead_s: float = 600.0
    fcr_days: float = 7.0
    targets: dict[str, float] = field(default_factory=lambda: {"chat": 0.8, "call": 0.8, "callback": 0.9})


def _targets(value: Any) -> bool:
    return isinstance(value, dict) and all(
        k in ("chat", "call", "callback") and isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < 1
        for k, v in value.items()
    )


def read_reports(t: Table) -> ReportsConfig:
    d = ReportsConfig()
    targets: dict[str, Any] = t.get("targets", {}, _targets, "a table of chat, call, callback to shares like 0.8")
    cfg = ReportsConfig(
        short_abandon_s=float(t.get("short_abandon_s", d.short_abandon_s, number(-1e-9), "seconds >= 0")),
        count_short_abandons=t.get(
            "count_short_abandons", d.count_short_abandons, lambda v: isinstance(v, bool), "true or false"
        ),
        callback_instead_s=float(t.get("callback_instead_s", d.callback_instead_s, number(-1e-9), "seconds >= 0")),
        fcr_days=float(t.get("fcr_days", d.fcr_days, number(0), "days > 0")),
        targets=d.targets | {k: float(v) for k, v in targets.items()},
    )
    t.done()
    return cfg
