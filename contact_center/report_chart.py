"""The service report as a PNG: service level per period and channel against each target, and volumes.

Drawn with matplotlib's object interface (a ``Figure`` of its own, no pyplot state: safe in a worker
thread beside other requests), imported only when a chart is asked for.
Labels in English or Indonesian; dates as the period's first day (ISO), which reads the same in both.
"""

from __future__ import annotations

import io
from typing import Any

from contact_center.service_report import ServiceReport

__all__ = ["report_png", "simulation_png"]

COLOURS = {"chat": "#1f6feb", "call": "#8250df", "callback": "#bf8700", "email": "#1a7f37"}
WORDS = {
    "en": {"title": "Service level by {period}", "sl": "answered within the threshold (%)", "volume": "arrivals",
           "target": "{channel} target", "volumes": "Arrivals by {period}", "email": "email promise"},
    "id": {"title": "Tingkat layanan per {period}", "sl": "dijawab dalam batas waktu (%)", "volume": "kedatangan",
           "target": "target {channel}", "volumes": "Kedatangan per {period}", "email": "janji email"},
}  # fmt: skip
PERIODS = {
    "en": {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "half": "half year", "year": "year"},
    "id": {
        "day": "hari",
        "week": "minggu",
        "month": "bulan",
        "quarter": "kuartal",
        "half": "semester",
        "year": "tahun",
    },
}


def report_png(report: ServiceReport, targets: dict[str, float], language: str = "en") -> bytes:
    """Two panels: each channel's service level per period with its target as a dashed line; arrivals per period."""
    from matplotlib.figure import Figure

    words, period = WORDS.get(language, WORDS["en"]), PERIODS.get(language, PERIODS["en"])[report.period.value]
    starts = sorted({s.start for s in report.figures.channels})
    labels = [d.isoformat() for d in starts]
    fig = Figure(figsize=(9, 6.4), dpi=110)
    top, bottom = fig.subplots(2, 1, sharex=True)
    channels = sorted({s.channel for s in report.figures.channels})
    for channel in channels:
        by_start = {s.start: s for s in report.figures.channels if s.channel == channel}
        levels: list[Any] = [_pct(by_start[d].service_level) if d in by_start else None for d in starts]
        name = words["email"] if channel == "email" else channel
        top.plot(labels, levels, marker="o", color=COLOURS.get(channel), label=name)
        if channel in targets:
            top.axhline(targets[channel] * 100, color=COLOURS.get(channel), linestyle="--", linewidth=1,
                        label=words["target"].format(channel=name))  # fmt: skip
        bottom.bar(labels, [by_start[d].arrived if d in by_start else 0 for d in starts], color=COLOURS.get(channel),
                   alpha=0.6, label=name, bottom=_stacked(report, channels, channel, starts))  # fmt: skip
    top.set_ylim(0, 105)
    top.set_ylabel(words["sl"])
    top.set_title(words["title"].format(period=period), fontsize=11)
    top.legend(fontsize=7, ncol=2, loc="lower left")
    bottom.set_ylabel(words["volume"])
    bottom.set_title(words["volumes"].format(period=period), fontsize=10)
    for ax in (top, bottom):
        ax.grid(True, axis="y", alpha=0.3)
    bottom.tick_params(axis="x", rotation=45, labelsize=7)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _pct(share: float | None) -> float | None:
    return None if share is None else share * 100


def _stacked(report: ServiceReport, channels: list[str], channel: str, starts: list[Any]) -> list[int]:
    """Where ``channel``'s bar starts: the arrivals of the channels drawn before it."""
    before = channels[: channels.index(channel)]
    return [sum(s.arrived for s in report.figures.channels if s.start == d and s.channel in before) for d in starts]


def simulation_png(results: list[Any], targets: dict[str, float]) -> bytes:
    """The simulator's comparison: each channel's service level under each policy, bars side by side, targets dashed."""
    from matplotlib.figure import Figure

    channels = sorted({ch for r in results for ch in r.channels})
    fig = Figure(figsize=(8, 4.2), dpi=110)
    ax = fig.subplots()
    width = 0.8 / max(1, len(results))
    for i, r in enumerate(results):
        xs = [n + i * width for n in range(len(channels))]
        levels = [_pct(r.channels[ch].service_level) if ch in r.channels else None for ch in channels]
        ax.bar(xs, [v or 0 for v in levels], width, label=r.policy)
    for n, ch in enumerate(channels):
        if ch in targets:
            ax.hlines(targets[ch] * 100, n - width / 2, n + 0.8 - width / 2, colors="#cf222e", linestyles="--")
    ax.set_xticks([n + 0.4 - width / 2 for n in range(len(channels))], channels)
    ax.set_ylim(0, 105)
    ax.set_ylabel("answered within the threshold (%)")
    ax.set_title("Simulated day: service level by routing policy (dashed: target)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
