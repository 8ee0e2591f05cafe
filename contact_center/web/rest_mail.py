"""REST: the reports (the email promise, the ratings), mails' attachments and raw bytes, and the quarantine.

What a customer sent never runs in the desk's origin: an attachment is served to the agent
holding its contact (or a supervisor) inline only when it is a plain image, otherwise as a
download, always with ``nosniff`` and a sandboxing Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
from datetime import date

from aiohttp import web

from contact_center.exceptions import BadMessage, NotFound
from contact_center.model import Role
from contact_center.report_chart import report_png
from contact_center.reports import email_attainment
from contact_center.reports import rating_report as ratings_of
from contact_center.service_report import rules_of, service_report
from contact_center.sla import Period
from contact_center.web.keys import CLOCK, CONFIG, ENGINE, STORE
from contact_center.web.rest import customer_bytes, date_query, int_path, int_query, user

__all__ = ["attachment", "email_report", "period_span", "quarantine", "rating_report", "raw_mail", "service_report_of"]


def period_span(request: web.Request) -> tuple[Period, date, date]:
    """A report's ``?period=month&from=2026-01-01&to=2026-12-31`` (default: this year so far, by month)."""
    config, now = request.app[CONFIG], request.app[CLOCK].now()
    raw = request.query.get("period", "month")
    try:
        period = Period(raw)
    except ValueError:
        choices = ", ".join(p.value for p in Period)
        raise BadMessage(f"period: must be one of {choices}, got {raw!r}", "invalid_field") from None
    today = config.sla.calendar.local_date(now)
    last = date_query(request, "to", today)
    first = date_query(request, "from", last.replace(month=1, day=1))
    if first > last or (last - first).days > 3660:
        raise BadMessage("from/to: from must not be after to, and at most ten years apart", "invalid_field")
    return period, first, last


async def email_report(request: web.Request) -> web.Response:
    """The email promise per period, for supervisors: ``?period=month&from=2026-01-01&to=2026-12-31``."""
    await user(request, Role.SUPERVISOR)
    config, store, now = request.app[CONFIG], request.app[STORE], request.app[CLOCK].now()
    period, first, last = period_span(request)
    calendar, promise = config.sla.calendar, config.email.promise
    report = await email_attainment(store, calendar, promise, now, period, first, last)
    return web.json_response(report.to_json())


async def rating_report(request: web.Request) -> web.Response:
    """The customers' ratings per period, for supervisors (the same query as :func:`email_report`)."""
    await user(request, Role.SUPERVISOR)
    period, first, last = period_span(request)
    report = await ratings_of(request.app[STORE], request.app[CONFIG].sla.calendar, period, first, last)
    return web.json_response(report.to_json())


async def service_report_of(request: web.Request) -> web.Response:
    """The service figures per period and channel, for supervisors (the same query; ``&format=csv`` for CSV,
    ``&format=png&lang=id`` for the chart)."""
    await user(request, Role.SUPERVISOR)
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv", "png"):
        raise BadMessage(f"format: must be json, csv or png, got {fmt!r}", "invalid_field")
    language = request.query.get("lang", "en")
    if language not in ("en", "id"):
        raise BadMessage(f"lang: must be en or id, got {language!r}", "invalid_field")
    config, now = request.app[CONFIG], request.app[CLOCK].now()
    period, first, last = period_span(request)
    report = await service_report(request.app[STORE], config.sla.calendar, rules_of(config), now, period, first, last)
    name = f"service-{period.value}-{first.isoformat()}-{last.isoformat()}"
    if fmt == "png":
        targets = {**config.reports.targets, "email": config.email.target}
        png = await asyncio.get_running_loop().run_in_executor(None, report_png, report, targets, language)
        return web.Response(body=png, content_type="image/png",
                            headers={"Content-Disposition": f'inline; filename="{name}.png"'})  # fmt: skip
    if fmt == "csv":
        return web.Response(
            text=report.to_csv(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return web.json_response(report.to_json())


async def attachment(request: web.Request) -> web.StreamResponse:
    """An attachment's bytes, for the agent holding its contact or a supervisor.

    What a customer sent never runs in the desk's origin: anything but a plain image is a
    download, and every answer forbids sniffing and sandboxes itself.
    """
    user_id = await user(request)
    mail = await request.app[STORE].mail(request.match_info["mail_id"])
    n = int_path(request, "n")
    if mail is None or n >= len(mail.attachments):
        raise NotFound(f"no attachment {n} of mail {request.match_info['mail_id']!r}")
    await _may_read_mail(request, user_id, mail.contact_id)
    item = mail.attachments[n]
    if item.data is None:
        raise NotFound(f"attachment {n} was not kept: {item.refused}")
    return customer_bytes(item.data, item.filename, item.content_type)


async def raw_mail(request: web.Request) -> web.StreamResponse:
    """A mail's bytes as received or sent (``message/rfc822``), for supervisors."""
    await user(request, Role.SUPERVISOR)
    mail = await request.app[STORE].mail(request.match_info["mail_id"])
    if mail is None:
        raise NotFound(f"no mail {request.match_info['mail_id']!r}")
    headers = {"Content-Disposition": f"attachment; filename={mail.id}.eml", "X-Content-Type-Options": "nosniff"}
    return web.Response(body=mail.raw, content_type="message/rfc822", headers=headers)


async def quarantine(request: web.Request) -> web.Response:
    """Fetched mails that could not be read or filed, newest first, with the reason: for supervisors."""
    await user(request, Role.SUPERVISOR)
    limit = int_query(request, "limit", 100, 1000) or 100
    mails = await request.app[STORE].quarantined(limit)
    return web.json_response(
        {
            "mails": [
                {
                    "id": m.id,
                    "at": m.at,
                    "reason": m.quarantine,
                    "mailbox": m.source.mailbox if m.source else None,
                    "uid": m.source.uid if m.source else None,
                    "bytes": len(m.raw),
                    "start": m.raw[:300].decode("utf-8", "replace"),
                    "raw_url": f"/api/mails/{m.id}/raw",
                }
                for m in mails
            ]
        }
    )


async def _may_read_mail(request: web.Request, user_id: str, contact_id: str | None) -> None:
    engine = request.app[ENGINE]
    contact = engine.contact(contact_id) if contact_id else None
    if contact is not None and contact.agent_id == user_id:
        return
    await user(request, Role.SUPERVISOR)
