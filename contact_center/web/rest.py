"""What every REST handler shares: errors as JSON with a fitting status, the caller, the body, query values.

Every error the engine raises on purpose becomes ``{"error": code, "message": text}`` with a
status that fits it; a throttled request (``429``) and a busy engine (``503``) say in
``Retry-After`` when to try again. A body that is not JSON, or nested deeper than the parser
allows, is a ``400 bad_json``: no JSON entry point answers a malformed body with a 500.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import quote

import orjson
import structlog
from aiohttp import web

from contact_center.exceptions import (
    AuthError,
    BadMessage,
    Busy,
    ClientError,
    Conflict,
    ContactCenterError,
    Forbidden,
    InvalidTransition,
    NotFound,
    Stale,
    StoreUnavailable,
    Throttled,
)
from contact_center.model import Role
from contact_center.web.keys import ACCOUNTS, CLIENTS, CONFIG

__all__ = [
    "Handler",
    "bearer",
    "client_of",
    "customer_bytes",
    "date_query",
    "error_response",
    "errors",
    "int_path",
    "int_query",
    "json_body",
    "user",
]

log = structlog.get_logger("contact_center.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STATUS = [
    (Forbidden, 403),
    (AuthError, 401),
    (NotFound, 404),
    (InvalidTransition, 409),
    (Conflict, 409),
    (Stale, 409),
    (Throttled, 429),
    (ClientError, 400),
    (StoreUnavailable, 503),
    (Busy, 503),
]
MAX_BODY_DEPTH = 64  # objects and arrays nested in a request body, at most


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    structlog.contextvars.clear_contextvars()
    try:
        return await handler(request)
    except ContactCenterError as exc:
        return error_response(exc)


def error_response(exc: ContactCenterError, headers: dict[str, str] | None = None) -> web.Response:
    """``{"error": code, "message": text}`` (and a client error's ``field``, ``problem``, ``limit``) with its status."""
    status = getattr(exc, "http_status", None) or next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
    headers = dict(headers or {})
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    elif isinstance(exc, Busy | StoreUnavailable):
        headers["Retry-After"] = "1"
    detail = exc.detail if isinstance(exc, ClientError) else {}
    return web.json_response({"error": exc.code, "message": str(exc), **detail}, status=status, headers=headers)


_INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def customer_bytes(data: bytes, filename: str, content_type: str) -> web.Response:
    """Bytes a customer sent (a mail's attachment, a chat's file), so they never run in the desk's origin.

    A plain image inline with its type; anything else as a download of ``application/octet-stream``;
    always ``nosniff`` and a sandboxing Content-Security-Policy.
    """
    inline = content_type in _INLINE_IMAGES
    headers = {
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=3600",
    }
    return web.Response(body=data, content_type=content_type if inline else "application/octet-stream", headers=headers)


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def widget_cors(request: web.Request) -> dict[str, str]:
    """The CORS headers for a page of an origin the widget may run on (``webchat.allowed_origins``); none else."""
    origin = request.headers.get("Origin")
    if origin is None or origin not in request.app[CONFIG].webchat.allowed_origins:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def client_of(request: web.Request) -> str:
    """The client's address (behind a trusted load balancer, the one it names)."""
    return request.app[CLIENTS].of(request)


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` objects or arrays deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            if level > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return True


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's body as a JSON object.

    Raises:
        BadMessage: not JSON (``bad_json``, deep nesting included), or not an object (``bad_message``).
    """
    raw = await request.read()
    try:
        body = orjson.loads(raw)  # orjson refuses nesting past 1024 levels itself, without recursing in Python
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"body is not valid JSON: {exc}", "bad_json") from None
    if not isinstance(body, dict):
        raise BadMessage("body must be a JSON object", "bad_message")
    if not _depth(body, MAX_BODY_DEPTH):
        raise BadMessage(f"body nests objects or arrays deeper than {MAX_BODY_DEPTH} levels", "bad_json")
    return body


async def user(request: web.Request, role: Role | None = None) -> str:
    """The id of the user the bearer token stands for (with ``role``, if one is asked)."""
    return await request.app[ACCOUNTS].user_id(bearer(request), role)


def int_query(request: web.Request, name: str, default: int | None, maximum: int) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadMessage(f"{name}: must be an integer 1-{maximum}", "invalid_field")
    return int(raw)


def date_query(request: web.Request, name: str, default: date) -> date:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadMessage(f"{name}: not a date like 2026-11-30, got {raw!r}", "invalid_field") from None


def int_path(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 6:
        raise BadMessage(f"{name}: must be a whole number", "invalid_field")
    return int(raw)
