"""Pages and plain endpoints: the desk and demo pages, the widget's script, health, metrics, the OpenAPI document.

Every HTML response the engine sends (a page, or a file under ``/static``) carries the same
Content-Security-Policy, with ``frame-ancestors 'none'``: no page of the engine may be framed by
another site; a page connects to this engine only, and to the SIP gateway's WebSocket when one is
configured (the desk's softphone dials through it). The widget needs no frame: it is a script the
host page loads (``/widget.js``), which builds its box in the host page itself. Every response says ``nosniff``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from contact_center.exceptions import ConfigError, Forbidden
from contact_center.metrics import CONTENT_TYPE
from contact_center.web.keys import CLIENTS, CONFIG, DESK, METRICS, WEBCHAT
from contact_center.web.rest import Handler

__all__ = [
    "BUILD",
    "DOCS",
    "PAGE_CSP",
    "STATIC",
    "chat_ws",
    "desk_ws",
    "health",
    "metrics",
    "openapi",
    "page",
    "page_policy",
    "require_built",
    "secure",
    "widget_js",
]

STATIC = Path(__file__).parent / "static"
# What scripts/build-ui.mjs makes from contact_center/web/ui/ (the Makefile runs it; not in git).
BUILD = STATIC / "build"
BUILT = ("widget.js", "desk.js", "callback.js", "desk-charts.css")
DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


def page_policy(gateway_ws_url: str = "") -> str:
    """The pages' Content-Security-Policy: connections to this engine, and to the SIP gateway's WebSocket."""
    if not gateway_ws_url:
        return PAGE_CSP
    return PAGE_CSP.replace("connect-src 'self'", f"connect-src 'self' {gateway_ws_url}")


def secure(policy: str) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """Before any response goes out: the page ``policy`` on HTML, ``nosniff`` on everything."""

    async def prepare(request: web.Request, response: web.StreamResponse) -> None:
        _secure(policy, response)

    return prepare


def _secure(policy: str, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.content_type == "text/html" or str(response.headers.get("Content-Type", "")).startswith("text/html"):
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"


def page(name: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / name)

    return handler


async def openapi(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(DOCS / "openapi.json")


def require_built() -> None:
    """Raise ConfigError naming what is missing when the pages were not built."""
    missing = [name for name in BUILT if not (BUILD / name).is_file()]
    if missing:
        raise ConfigError(
            f"the web pages are not built ({', '.join(missing)} missing in {BUILD}): "
            "run `make ui` (npm ci, then node scripts/build-ui.mjs)"
        )


async def widget_js(request: web.Request) -> web.StreamResponse:
    name = "widget.js.map" if request.path.endswith(".map") else "widget.js"
    response = web.FileResponse(BUILD / name)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def metrics(request: web.Request) -> web.Response:
    """Counters, gauges and histograms in Prometheus's text format (no personal data: counts only), to the
    addresses in ``server.metrics_from`` alone."""
    client = request.app[CLIENTS].of(request)
    address = ipaddress.ip_address(client) if _is_address(client) else None
    allowed = request.app[CONFIG].server.metrics_from
    if address is None or not any(address in ipaddress.ip_network(n, strict=False) for n in allowed):
        raise Forbidden(f"/metrics is not served to {client}; add it to server.metrics_from")
    return web.Response(body=request.app[METRICS].render().encode(), headers={"Content-Type": CONTENT_TYPE})


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


async def chat_ws(request: web.Request) -> web.StreamResponse:
    return await request.app[WEBCHAT].handle(request)


async def desk_ws(request: web.Request) -> web.StreamResponse:
    return await request.app[DESK].handle(request)
