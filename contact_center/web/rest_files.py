"""REST: files a customer sends in a chat, uploaded from the widget, and shown to agents.

``POST /api/chat/files`` takes the file's bytes as the body, its type as ``Content-Type`` and
its name in ``X-File-Name`` (percent-encoded), with the customer's widget token as the bearer.
The widget runs on the shop's pages, so the upload answers CORS for ``webchat.allowed_origins``
only, as the chat socket does. ``GET /api/files/{id}`` gives it to an agent who may read the
customer (:meth:`~contact_center.engine.Engine.may_read`), as the mail attachments are given:
a plain image inline, anything else a download, never sniffed, in a sandbox. The customer gets
back their own files, those they sent and those an agent gave them (a pre-written reply's), at
``GET /api/chat/files/{id}`` with their widget token: anyone else's is "not found", as a file
that does not exist is, so nobody learns which ids are in use.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from aiohttp import web

from contact_center.exceptions import AuthError, ClientError, ContactCenterError, Forbidden, NotFound
from contact_center.web.keys import ACCOUNTS, ENGINE, STORE
from contact_center.web.rest import bearer, customer_bytes, error_response, user, widget_cors

__all__ = ["body_within", "chat_file", "customer_file", "upload", "upload_preflight"]

_CHUNK = 64 * 1024


async def upload_preflight(request: web.Request) -> web.StreamResponse:
    """The browser asks whether the widget's page may upload: only an allowed origin may."""
    cors = widget_cors(request)
    if not cors:
        return web.Response(status=403)
    allowed = {
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, X-File-Name",
        "Access-Control-Max-Age": "600",
    }
    return web.Response(status=204, headers=cors | allowed)


async def _customer(request: web.Request, cors: dict[str, str]) -> str:
    """The customer whose widget token this is, from a page of an allowed origin (or no page at all)."""
    if request.headers.get("Origin") is not None and not cors:
        raise Forbidden(f"Origin {request.headers.get('Origin')!r} may not send or fetch files")
    token = bearer(request)
    if not token:
        raise AuthError("the widget's token is needed (Authorization: Bearer)")
    return await request.app[ACCOUNTS].customer_id(token)


async def upload(request: web.Request) -> web.StreamResponse:
    """Keep a file the customer sends; ``201 {id, name, type, size}``, which a chat message then names."""
    cors = widget_cors(request)
    try:
        customer_id = await _customer(request, cors)
        files = request.app[ENGINE].files
        data = await body_within(request, files.max_bytes, files.too_large)
        name = unquote(request.headers.get("X-File-Name", ""))
        kept = await request.app[ENGINE].receive_file(customer_id, name, request.headers.get("Content-Type"), data)
    except ContactCenterError as exc:
        return error_response(exc, cors)
    return web.json_response(kept.described(), status=201, headers=cors)


async def body_within(request: web.Request, limit: int, too_large: Callable[[int], ClientError]) -> bytes:
    """The body, read no further than ``limit`` bytes: a larger one is refused before it is all sent."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(request.content_length)
    chunks, size = [], 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(size)
        chunks.append(chunk)
    return b"".join(chunks)


async def chat_file(request: web.Request) -> web.StreamResponse:
    """A file a customer sent, for an agent who may read the customer (or a supervisor)."""
    user_id = await user(request)
    found = await request.app[STORE].chat_file(request.match_info["file_id"][:64], whole=True)
    if found is None or found.data is None:
        raise NotFound(f"no file {request.match_info['file_id'][:64]!r}")
    await request.app[ENGINE].may_read(user_id, found.customer_id)
    return customer_bytes(found.data, found.filename, found.content_type)


async def customer_file(request: web.Request) -> web.StreamResponse:
    """One of the customer's own files (sent, or given by an agent), to the widget with their token."""
    cors = widget_cors(request)
    try:
        customer_id = await _customer(request, cors)
        file_id = request.match_info["file_id"][:64]
        found = await request.app[STORE].chat_file(file_id, whole=True)
        if found is None or found.data is None or found.customer_id != customer_id:
            raise NotFound(f"no file {file_id!r} of yours")
    except ContactCenterError as exc:
        return error_response(exc, cors)
    sent = customer_bytes(found.data, found.filename, found.content_type)
    sent.headers.update(cors | {"Access-Control-Expose-Headers": "Content-Disposition"})
    return sent
