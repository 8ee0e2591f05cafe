"""The supervisors' commands: ``contact-center staffing`` (Erlang C and Erlang A advice) and ``report``.

contact-center staffing --arrivals-per-hour 100 --handle-s 180 --target 0.8 --within-s 20
                        [--patience-s 90] [--max-occupancy 0.85] [--shrinkage 0.3] [--format text|json]
contact-center report --period quarter [--from 2026-01-01] [--to 2026-12-31] [--format csv|json|png]
                      [--out FILE] [--language en|id]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date
from pathlib import Path
from typing import Any

from contact_center.clock import SystemClock
from contact_center.config import Config
from contact_center.service_report import ServiceReport, rules_of, service_report
from contact_center.sla import Period
from contact_center.staffing import Advice, Demand, advise
from contact_center.store import open_store

__all__ = ["add_report_parser", "add_staffing_parser", "report", "staffing"]


def add_staffing_parser(sub: Any) -> None:
    p = sub.add_parser(
        "staffing",
        help="agents needed to meet a service level (Erlang C; Erlang A with --patience-s)",
        description="The fewest agents that answer --target of arrivals within --within-s, with the service "
        "level, probability of waiting, average speed of answer and occupancy they give.",
    )
    p.add_argument("--arrivals-per-hour", type=float, required=True, help="contacts arriving an hour")
    p.add_argument("--handle-s", type=float, required=True, help="mean handle time in seconds (talk and wrap-up)")
    p.add_argument("--target", type=float, required=True, help="service level to reach, as a share (0.8 for 80 %%)")
    p.add_argument("--within-s", type=float, required=True, help="the answer threshold in seconds")
    p.add_argument("--patience-s", type=float, help="mean time before a waiting customer gives up (Erlang A)")
    p.add_argument("--max-occupancy", type=float, default=1.0, help="most occupancy allowed (default: no limit)")
    p.add_argument("--shrinkage", type=float, default=0.0, help="share of paid time off the phones (breaks, training)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def staffing(args: argparse.Namespace) -> None:
    """Print the advice; a figure out of range is said by name and nothing else is printed."""
    try:
        advice = advise(
            Demand(args.arrivals_per_hour, args.handle_s, args.patience_s), args.target, args.within_s,
            args.max_occupancy, args.shrinkage,
        )  # fmt: skip
    except ValueError as exc:
        raise SystemExit(f"staffing: {exc}") from None
    if args.format == "json":
        print(json.dumps(advice.to_json()))
        return
    for line in _text(advice, args):
        print(line)


def _text(advice: Advice, args: argparse.Namespace) -> list[str]:
    demand, needed = advice.demand, advice.needed
    model = "Erlang C" if demand.patience_s is None else f"Erlang A, mean patience {demand.patience_s:g} s"
    lines = [
        f"traffic: {demand.traffic:.2f} Erlangs ({demand.arrivals_per_hour:g} arrivals an hour, "
        f"{demand.handle_s:g} s each; {model})",
        f"agents needed: {needed.agents} for {args.target:.0%} answered within {args.within_s:g} s",
        f"  service level:           {needed.service_level:.1%}",
        f"  probability of waiting:  {needed.waiting:.1%}",
        f"  average speed of answer: {_seconds(needed.asa_s)}",
        f"  occupancy:               {needed.occupancy:.1%}",
    ]
    if demand.patience_s is not None:
        lines.append(f"  abandoned:               {needed.abandoned:.1%}")
    if advice.shrinkage:
        lines.append(f"agents to schedule with {advice.shrinkage:.0%} shrinkage: {advice.scheduled}")
    head = f"{'agents':>6}  {'service level':>13}  {'waiting':>7}  {'speed of answer':>15}  {'occupancy':>9}"
    lines += ["", head + ("  abandoned" if demand.patience_s is not None else "")]
    for row in advice.table:
        mark = ">" if row.agents == needed.agents else " "
        line = (
            f"{mark}{row.agents:>5}  {row.service_level:>13.1%}  {row.waiting:>7.1%}  "
            f"{_seconds(row.asa_s):>15}  {row.occupancy:>9.1%}"
        )
        lines.append(line + (f"  {row.abandoned:>9.1%}" if demand.patience_s is not None else ""))
    return lines


def _seconds(value: float) -> str:
    return "no end" if math.isinf(value) else f"{value:.1f} s"


def add_report_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="the service report for a span, per day, week, month, quarter, half year or year (CSV, JSON, PNG)",
        description="Volumes, service level (the email promise in working time), speed of answer, handle time, "
        "abandonment, first-contact resolution and occupancy per period and channel, from the configured store.",
    )
    p.add_argument("--period", choices=[x.value for x in Period], default="month")
    p.add_argument("--from", dest="first", type=date.fromisoformat, help="first local day (default: 1 January)")
    p.add_argument("--to", dest="last", type=date.fromisoformat, help="last local day (default: today)")
    p.add_argument("--format", choices=("csv", "json", "png"), default="csv")
    p.add_argument("--out", type=Path, help="write here (default: standard output; a PNG: report-PERIOD-FROM-TO.png)")
    p.add_argument("--language", choices=("en", "id"), default="en", help="the chart's words")


async def report(config: Config, args: argparse.Namespace) -> None:
    """Read the span a month at a time with a progress bar on standard error, then write the report."""
    from tqdm import tqdm

    calendar = config.sla.calendar
    now = SystemClock().now()
    last = args.last or calendar.local_date(now)
    first = args.first or last.replace(month=1, day=1)
    if first > last:
        raise SystemExit(f"report: --from {first} is after --to {last}")
    store = await open_store(config.store)
    try:
        with tqdm(desc="reading contacts", unit="month", file=sys.stderr, disable=None) as bar:

            def told(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            made = await service_report(store, calendar, rules_of(config), now, Period(args.period), first, last, told)
    finally:
        await store.close()
    _write(made, config, args)


def _write(made: ServiceReport, config: Config, args: argparse.Namespace) -> None:
    if args.format == "png":
        from contact_center.report_chart import report_png

        targets = {**config.reports.targets, "email": config.email.target}
        out = args.out or Path(f"report-{made.period.value}-{made.first}-{made.last}.png")
        out.write_bytes(report_png(made, targets, args.language))
        print(f"{out}: {len(made.figures.channels)} rows charted", file=sys.stderr)
        return
    text = made.to_csv() if args.format == "csv" else json.dumps(made.to_json(), ensure_ascii=False, indent=1)
    if args.out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"{args.out}: {len(made.figures.channels)} rows", file=sys.stderr)
