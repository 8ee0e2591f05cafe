"""REST: the reply library exported and imported (CSV, or a zip of its files), and how often each reply is used.

For supervisors. ``GET /api/replies?format=csv|zip`` is the team's library (personal replies are
their owners'); ``POST /api/replies`` takes a CSV table (``text/csv``) or a zip of reply files
(``application/zip``), checked whole with the rest of the library: any problem is a 422 naming
each file and line, and nothing is imported; a zip's ``attachments/`` folder brings the files its
replies name. ``GET /api/reports/replies`` counts uses per period.

The library's attachments: ``GET /api/replies/files`` lists them and ``GET /api/replies/files/{name}``
gives one, to any agent; ``PUT`` (the bytes as the body, their type as ``Content-Type``) adds or
replaces one and ``DELETE`` removes one no reply names, for supervisors.
"""

from __future__ import annotations

import io
import zipfile

from aiohttp import web

from contact_center.exceptions import BadMessage, ClientError
from contact_center.model import Role
from contact_center.reply_editing import InvalidReply
from contact_center.reply_files import ATTACHMENTS as FOLDER
from contact_center.reply_library import ReplyLibrary
from contact_center.reports import reply_usage
from contact_center.web.keys import ATTACHMENTS, CONFIG, EDITOR, ENGINE, LIBRARY, STORE
from contact_center.web.rest import customer_bytes, user
from contact_center.web.rest_files import body_within
from contact_center.web.rest_mail import period_span
from templates_responses.library_csv import from_csv, to_csv
from templates_responses.library_format import LibraryError, Problem, write_reply

__all__ = [
    "export_replies",
    "import_replies",
    "library_file",
    "library_files",
    "put_library_file",
    "remove_library_file",
    "replies_report",
]

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
        for name in sorted(library.files):
            archive.writestr(f"{FOLDER}/{name}", (await request.app[ATTACHMENTS].read(name)).data or b"")
    return web.Response(body=out.getvalue(), content_type="application/zip",
                        headers={"Content-Disposition": 'attachment; filename="replies.zip"'})  # fmt: skip


def _unzipped(data: bytes) -> tuple[list[tuple[str, str]], dict[str, bytes]]:
    """The reply files of a zip, and the files in its ``attachments/`` folder by name."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
        replies = [m for m in members if m.filename.endswith(".toml")]
        files = [m for m in members if m.filename.split("/")[-2:-1] == [FOLDER]]
        if len(members) > _MAX_FILES or sum(m.file_size for m in [*replies, *files]) > _MAX_UNZIPPED:
            raise ClientError(f"a zip of at most {_MAX_FILES} files and {_MAX_UNZIPPED >> 20} MB unpacked",
                              "too_large")  # fmt: skip
        texts = [(m.filename.rsplit("/", 1)[-1], archive.read(m).decode("utf-8")) for m in replies]
        return texts, {m.filename.rsplit("/", 1)[-1]: archive.read(m) for m in files}
    except (zipfile.BadZipFile, UnicodeDecodeError, EOFError) as exc:
        raise ClientError(f"not a zip of UTF-8 reply files: {exc}", "invalid_body") from None


def _checked_files(library: ReplyLibrary, files: dict[str, bytes]) -> None:
    """Every file an import brings may be sent, or the import is refused naming each one."""
    problems = []
    for name, data in files.items():
        try:
            library.file_type(name, data)
        except ClientError as exc:
            problems.append(Problem(f"{FOLDER}/{name}", 0, str(exc)))
    if problems:
        raise InvalidReply(LibraryError(problems))


async def import_replies(request: web.Request) -> web.Response:
    user_id = await user(request, Role.SUPERVISOR)
    library, editor = request.app[LIBRARY], request.app[EDITOR]
    data = await request.read()
    kind = request.content_type
    attachments: dict[str, bytes] = {}
    try:
        if kind == "text/csv":
            rows = from_csv("replies.csv", data.decode("utf-8"), library.languages)
            files = [(f"{r.id}.toml", write_reply(r)) for r in rows]
        elif kind == "application/zip":
            files, attachments = _unzipped(data)
            _checked_files(library, attachments)
        else:
            raise ClientError(f"Content-Type: text/csv or application/zip, got {kind!r}", "invalid_body")
    except UnicodeDecodeError as exc:
        raise ClientError(f"not UTF-8 text: {exc}", "invalid_body") from None
    except LibraryError as exc:
        raise InvalidReply(exc) from None
    agent = request.app[ENGINE].agent(user_id)

    async def take_files() -> None:  # once the replies are known good: the files they name first
        for name, content in sorted(attachments.items()):
            await request.app[ATTACHMENTS].upload(agent, name, content)

    saved = await editor.import_replies(agent, files, adding=attachments, before=take_files)
    return web.json_response({"imported": len(files), "files": len(attachments),
                              "saved": [{"id": v.reply_id, "version": v.n} for v in saved]})  # fmt: skip


async def library_files(request: web.Request) -> web.Response:
    """The library's attachments: name, type, size."""
    await user(request)
    files = request.app[LIBRARY].files
    return web.json_response({"files": [files[n].described() | {"name": n} for n in sorted(files)]})


def _name(request: web.Request) -> str:
    return request.match_info["name"][:200]


async def library_file(request: web.Request) -> web.StreamResponse:
    """One of the library's attachments, for any agent (an image shown, anything else a download)."""
    await user(request)
    found = await request.app[ATTACHMENTS].read(_name(request))
    assert found.data is not None
    return customer_bytes(found.data, found.filename, found.content_type)


async def put_library_file(request: web.Request) -> web.Response:
    """A supervisor adds or replaces an attachment: ``201 {name, type, size, version}``."""
    user_id = await user(request, Role.SUPERVISOR)
    library = request.app[LIBRARY]
    data = await body_within(request, library.max_file_bytes, library.too_large)
    agent = request.app[ENGINE].agent(user_id)
    version = await request.app[ATTACHMENTS].upload(
        agent, _name(request), data, request.headers.get("Content-Type", "")
    )
    file = library.files[_name(request)]
    return web.json_response(file.described() | {"name": file.filename, "version": version.n}, status=201)


async def remove_library_file(request: web.Request) -> web.Response:
    user_id = await user(request, Role.SUPERVISOR)
    version = await request.app[ATTACHMENTS].remove(request.app[ENGINE].agent(user_id), _name(request))
    return web.json_response({"name": _name(request), "version": version.n, "removed": True})


async def replies_report(request: web.Request) -> web.Response:
    """``?period=month&from=...&to=...``: each reply's uses, the most used first, and per period."""
    await user(request, Role.SUPERVISOR)
    period, first, last = period_span(request)
    titles = {r.id: r.title for r in request.app[LIBRARY].replies}
    report = await reply_usage(request.app[STORE], request.app[CONFIG].sla.calendar, period, first, last, titles)
    return web.json_response(report.to_json())
