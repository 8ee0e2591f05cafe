"""REST: the reply library exported and imported (CSV, or a zip of its files), and how often each reply is used.

For supervisors. ``GET /api/replies?format=csv|zip`` is the team's library (personal replies are
their owners'); ``POST /api/replies`` takes a CSV table (``text/csv``) or a zip of reply files
(``application/zip``), checked whole with the rest of the library: any problem is a 422 naming
each file and line, and nothing is imported. ``GET /api/reports/replies`` counts uses per period.
"""

from __future__ import annotations

import io
import zipfile

from aiohttp import web

from contact_center.exceptions import BadMessage, ClientError
from contact_center.model import Role
from contact_center.reply_editing import InvalidReply
from contact_center.reports import reply_usage
from contact_center.web.keys import CONFIG, EDITOR, ENGINE, LIBRARY, STORE
from contact_center.web.rest import user
from contact_center.web.rest_mail import period_span
from templates_responses.library_csv import from_csv, to_csv
from templates_responses.library_format import LibraryError, write_reply

__all__ = ["export_replies", "import_replies", "replies_report"]

_MAX_FILES = 2000  # in an imported zip
_MAX_UNZIPPED = 20 * 1024 * 1024  # bytes of them all, unpacked


async def export_replies(request: web.Request) -> web.Response:
    await user(request, Role.SUPERVISOR)
    library = request.app[LIBRARY]
    team = [r for r in library.replies if r.owner is None]
    kind = request.query.get("format", "csv")
    if kind == "csv":
        return web.Response(text=to_csv(team, library.languages), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": 'attachment; filename="replies.csv"'})  # fmt: skip
    if kind != "zip":
        raise BadMessage(f"format: csv or zip, got {kind!r}", "invalid_field", field="format")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for reply in team:
            archive.writestr(f"{reply.id}.toml", library.sources.get(reply.id) or write_reply(reply))
    return web.Response(body=out.getvalue(), content_type="application/zip",
                        headers={"Content-Disposition": 'attachment; filename="replies.zip"'})  # fmt: skip


def _unzipped(data: bytes) -> list[tuple[str, str]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.endswith(".toml")]
        if len(members) > _MAX_FILES or sum(m.file_size for m in members) > _MAX_UNZIPPED:
            raise ClientError(f"a zip of at most {_MAX_FILES} reply files and {_MAX_UNZIPPED >> 20} MB unpacked",
                              "too_large")  # fmt: skip
        return [(m.filename.rsplit("/", 1)[-1], archive.read(m).decode("utf-8")) for m in members]
    except (zipfile.BadZipFile, UnicodeDecodeError, EOFError) as exc:
        raise ClientError(f"not a zip of UTF-8 reply files: {exc}", "invalid_body") from None


async def import_replies(request: web.Request) -> web.Response:
    user_id = await user(request, Role.SUPERVISOR)
    library, editor = request.app[LIBRARY], request.app[EDITOR]
    data = await request.read()
    kind = request.content_type
    try:
        if kind == "text/csv":
            rows = from_csv("replies.csv", data.decode("utf-8"), library.languages)
            files = [(f"{r.id}.toml", write_reply(r)) for r in rows]
        elif kind == "application/zip":
            files = _unzipped(data)
        else:
            raise ClientError(f"Content-Type: text/csv or application/zip, got {kind!r}", "invalid_body")
    except UnicodeDecodeError as exc:
        raise ClientError(f"not UTF-8 text: {exc}", "invalid_body") from None
    except LibraryError as exc:
        raise InvalidReply(exc) from None
    saved = await editor.import_replies(request.app[ENGINE].agent(user_id), files)
    return web.json_response({"imported": len(files), "saved": [{"id": v.reply_id, "version": v.n} for v in saved]})


async def replies_report(request: web.Request) -> web.Response:
    """``?period=month&from=...&to=...``: each reply's uses, the most used first, and per period."""
    await user(request, Role.SUPERVISOR)
    period, first, last = period_span(request)
    titles = {r.id: r.title for r in request.app[LIBRARY].replies}
    report = await reply_usage(request.app[STORE], request.app[CONFIG].sla.calendar, period, first, last, titles)
    return web.json_response(report.to_json())
