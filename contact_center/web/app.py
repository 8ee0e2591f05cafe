"""The one aiohttp application: REST API, websockets, pages.

Every long-lived resource is a ``cleanup_ctx`` entry under a typed ``AppKey``: the store,
then the engine with its channels on top. Errors from the engine become JSON bodies
``{"error": code, "message": text}`` with a fitting status.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import web

from channels.email import EmailChannel
from channels.webchat import WebchatChannel
from contact_center.auth import Accounts
from contact_center.bus import Bus
from contact_center.clock import Clock, SystemClock
from contact_center.config import Config
from contact_center.demo import seed_demo
from contact_center.engine import Engine
from contact_center.exceptions import (
    AuthError,
    BadMessage,
    ClientError,
    Conflict,
    ContactCenterError,
    Forbidden,
    InvalidTransition,
    NotFound,
    StoreUnavailable,
)
from contact_center.leases import Leases
from contact_center.metrics import Metrics
from contact_center.model import Role
from contact_center.redis_bus import RedisBus
from contact_center.reports import email_attainment
from contact_center.sla import Period
from contact_center.store import Store, open_store
from contact_center.web.desk import DeskEndpoint
from contact_center.wsjson import JsonSocket

__all__ = ["ACCOUNTS", "BUS", "CONFIG", "ENGINE", "METRICS", "STORE", "WEBCHAT", "build_app"]

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Store)
BUS = web.AppKey("bus", Bus)
ENGINE = web.AppKey("engine", Engine)
ACCOUNTS = web.AppKey("accounts", Accounts)
WEBCHAT = web.AppKey("webchat", WebchatChannel)
DESK = web.AppKey("desk", DeskEndpoint)
EMAIL = web.AppKey("email", EmailChannel)
METRICS = web.AppKey("metrics", Metrics)
SOCKETS: web.AppKey[set[JsonSocket]] = web.AppKey("sockets")
CLOSING: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("closing")

STATIC = Path(__file__).parent / "static"
DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

log = structlog.get_logger("contact_center.web")
_STATUS = [
    (Forbidden, 403),
    (AuthError, 401),
    (NotFound, 404),
    (InvalidTransition, 409),
    (Conflict, 409),
    (ClientError, 400),
    (StoreUnavailable, 503),
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    structlog.contextvars.clear_contextvars()
    try:
        return await handler(request)
    except ContactCenterError as exc:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        return web.json_response({"error": exc.code, "message": str(exc)}, status=status)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage(f"body is not valid JSON: {exc}", "bad_json") from None
    if not isinstance(body, dict):
        raise BadMessage("body must be a JSON object", "bad_message")
    return body


async def _user(request: web.Request, role: Role | None = None) -> str:
    return await request.app[ACCOUNTS].user_id(_bearer(request), role)


# ---------------------------------------------------------------------- REST handlers


async def login(request: web.Request) -> web.Response:
    body = await _json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadMessage("username and password: both are required strings", "invalid_field")
    token, agent, expires = await request.app[ACCOUNTS].login(username, password)
    log.info("user.login", agent_id=agent.id, username=agent.username)
    return web.json_response(
        {
            "token": token,
            "expires_at": expires,
            "agent_id": agent.id,
            "role": agent.role.value,
            "name": agent.display_name,
        }
    )


async def logout(request: web.Request) -> web.Response:
    await _user(request)
    await request.app[ACCOUNTS].logout(_bearer(request) or "")
    return web.json_response({"ok": True})


async def me(request: web.Request) -> web.Response:
    agent = request.app[ENGINE].agent(await _user(request))
    return web.json_response(
        {
            "id": agent.id,
            "username": agent.username,
            "name": agent.display_name,
            "role": agent.role.value,
            "status": agent.status.value,
            "skills": agent.skills,
            "capacity": agent.capacity,
        }
    )


async def customer(request: web.Request) -> web.Response:
    await _user(request)
    found = await request.app[STORE].get_customer(request.match_info["customer_id"])
    if found is None:
        raise NotFound(f"customer {request.match_info['customer_id']} does not exist")
    return web.json_response(
        {
            "id": found.id,
            "name": found.name,
            "value": found.value,
            "created_at": found.created_at,
            "identities": [[k.value, v] for k, v in found.identities],
        }
    )


async def update_customer(request: web.Request) -> web.Response:
    await _user(request, Role.SUPERVISOR)
    body = await _json_body(request)
    value = body.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadMessage("value: must be a number", "invalid_field")
    await request.app[ENGINE].set_customer_value(request.match_info["customer_id"], float(value))
    return await customer(request)


def _int_query(request: web.Request, name: str, default: int | None, maximum: int) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadMessage(f"{name}: must be an integer 1-{maximum}", "invalid_field")
    return int(raw)


async def history(request: web.Request) -> web.Response:
    await _user(request)
    limit = _int_query(request, "limit", 500, 5000) or 500
    before = _int_query(request, "before", None, 2**62)
    events = await request.app[ENGINE].history(request.match_info["customer_id"], limit, before)
    return web.json_response(
        {"customer_id": request.match_info["customer_id"], "events": [e.to_json() for e in events]}
    )


async def queue(request: web.Request) -> web.Response:
    await _user(request)
    engine = request.app[ENGINE]
    contacts = [engine.contact_json(c) for cid in engine.waiting() if (c := engine.contact(cid)) is not None]
    return web.json_response({"waiting": contacts})


async def email_report(request: web.Request) -> web.Response:
    """The email promise per period, for supervisors: ``?period=month&from=2026-01-01&to=2026-12-31``."""
    await _user(request, Role.SUPERVISOR)
    config, engine = request.app[CONFIG], request.app[ENGINE]
    raw = request.query.get("period", "month")
    try:
        period = Period(raw)
    except ValueError:
        choices = ", ".join(p.value for p in Period)
        raise BadMessage(f"period: must be one of {choices}, got {raw!r}", "invalid_field") from None
    today = config.sla.calendar.local_date(engine.clock.now())
    last = _date_query(request, "to", today)
    first = _date_query(request, "from", last.replace(month=1, day=1))
    if first > last or (last - first).days > 3660:
        raise BadMessage("from/to: from must not be after to, and at most ten years apart", "invalid_field")
    calendar, promise = config.sla.calendar, config.email.promise
    report = await email_attainment(engine.store, calendar, promise, engine.clock.now(), period, first, last)
    return web.json_response(report.to_json())


def _date_query(request: web.Request, name: str, default: date) -> date:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadMessage(f"{name}: not a date like 2026-11-30, got {raw!r}", "invalid_field") from None


_INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


async def attachment(request: web.Request) -> web.StreamResponse:
    """An attachment's bytes, for the agent holding its contact or a supervisor.

    What a customer sent never runs in the desk's origin: anything but a plain image is a
    download, and every answer forbids sniffing and sandboxes itself.
    """
    user_id = await _user(request)
    engine = request.app[ENGINE]
    mail = await engine.store.mail(request.match_info["mail_id"])
    n = _int_path(request, "n")
    if mail is None or n >= len(mail.attachments):
        raise NotFound(f"no attachment {n} of mail {request.match_info['mail_id']!r}")
    await _may_read_mail(request, user_id, mail.contact_id)
    item = mail.attachments[n]
    if item.data is None:
        raise NotFound(f"attachment {n} was not kept: {item.refused}")
    inline = item.content_type in _INLINE_IMAGES
    headers = {
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(item.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=3600",
    }
    content_type = item.content_type if inline else "application/octet-stream"
    return web.Response(body=item.data, content_type=content_type, headers=headers)


async def raw_mail(request: web.Request) -> web.StreamResponse:
    """A mail's bytes as received or sent (``message/rfc822``), for supervisors."""
    await _user(request, Role.SUPERVISOR)
    mail = await request.app[ENGINE].store.mail(request.match_info["mail_id"])
    if mail is None:
        raise NotFound(f"no mail {request.match_info['mail_id']!r}")
    headers = {"Content-Disposition": f"attachment; filename={mail.id}.eml", "X-Content-Type-Options": "nosniff"}
    return web.Response(body=mail.raw, content_type="message/rfc822", headers=headers)


async def quarantine(request: web.Request) -> web.Response:
    """Fetched mails that could not be read or filed, newest first, with the reason: for supervisors."""
    await _user(request, Role.SUPERVISOR)
    limit = _int_query(request, "limit", 100, 1000) or 100
    mails = await request.app[ENGINE].store.quarantined(limit)
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
    await _user(request, Role.SUPERVISOR)


def _int_path(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 6:
        raise BadMessage(f"{name}: must be a whole number", "invalid_field")
    return int(raw)


async def add_user(request: web.Request) -> web.Response:
    await _user(request, Role.SUPERVISOR)
    body = await _json_body(request)
    config = request.app[CONFIG]
    try:
        role = Role(body.get("role", "agent"))
    except ValueError:
        raise BadMessage("role: must be agent or supervisor", "invalid_field") from None
    agent = await request.app[ACCOUNTS].add_user(
        str(body.get("username", "")),
        str(body.get("password", "")),
        role=role,
        display_name=str(body.get("name", "")),
        skills=_levels(body.get("skills", {})),
        capacity=_levels(body.get("capacity", dict(config.desk.default_capacity)), 0, 100),
        wrap_up_s=config.desk.default_wrap_up_s,
    )
    request.app[ENGINE].add_agent(agent)
    return web.json_response({"id": agent.id, "username": agent.username}, status=201)


def _levels(raw: Any, low: int = 1, high: int = 5) -> dict[str, int]:
    if not isinstance(raw, dict) or not all(isinstance(v, int) and low <= v <= high for v in raw.values()):
        raise BadMessage(f"skills and capacity: objects of names to integers {low}-{high}", "invalid_field")
    return dict(raw)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def metrics(request: web.Request) -> web.Response:
    """Counters and gauges in Prometheus's text format (no personal data: counts only)."""
    return web.Response(text=request.app[METRICS].render(), content_type="text/plain", charset="utf-8")


# ---------------------------------------------------------------------- pages


def _page(name: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(STATIC / name)
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return handler


async def openapi(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(DOCS / "openapi.json")


async def widget_js(request: web.Request) -> web.StreamResponse:
    response = web.FileResponse(STATIC / "widget.js")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


async def chat_ws(request: web.Request) -> web.StreamResponse:
    return await request.app[WEBCHAT].handle(request)


async def desk_ws(request: web.Request) -> web.StreamResponse:
    return await request.app[DESK].handle(request)


# ---------------------------------------------------------------------- wiring


def _resume_clients(app: web.Application) -> None:
    """This node missed events (its bus was cut off) and has read every record again: each of its
    clients reconnects and resumes from what is recorded, as after a node's death."""
    sockets: set[JsonSocket] = app[SOCKETS]
    log.warning("sockets.resume", sockets=len(sockets))
    closing: set[asyncio.Task[None]] = app[CLOSING]
    for sock in list(sockets):
        task = asyncio.get_running_loop().create_task(sock.resume_please())
        closing.add(task)
        task.add_done_callback(closing.discard)


def _lead(engine: Engine, mail: EmailChannel) -> None:
    engine.route_soon()
    mail.wake()


def build_app(config: Config, *, clock: Clock | None = None, demo: bool = False) -> web.Application:
    """Build the application; nothing starts until its runner does."""
    app = web.Application(middlewares=[_errors], client_max_size=1024 * 1024)
    app[CONFIG] = config
    the_clock = clock or SystemClock()
    app[METRICS] = meter = Metrics()

    node_id = config.store.node_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        store = await open_store(
            config.store, node_id, count=meter.counter("cc_redis_round_trips_total", client="store")
        )
        app[STORE] = store
        yield
        await store.close()

    async def bus_ctx(app: web.Application) -> AsyncIterator[None]:
        # Nodes sharing a Redis store share their events too; alone, the bus is in-process.
        if config.store.backend != "redis":
            app[BUS] = Bus()
            yield
            return
        count = meter.counter("cc_redis_round_trips_total", client="bus")
        bus = RedisBus(config.store.redis_url, config.store.redis_prefix, node_id, count=count)
        await bus.start()
        app[BUS] = bus
        yield
        await bus.close()

    async def engine_ctx(app: web.Application) -> AsyncIterator[None]:
        leases = None
        if config.store.backend == "redis":
            count = meter.counter("cc_redis_round_trips_total", client="leases")
            store, lead = config.store, config.routing.leader
            leases = Leases(store.redis_url, store.redis_prefix, node_id, store.lease_s, lead=lead, count=count)
            await leases.start()
        engine = Engine(app[STORE], the_clock, config, app[BUS], node_id=node_id, liveness=leases, metrics=meter)
        if leases is not None:
            leases.on_lapsed = engine.resync_soon
            leases.on_lead = engine.route_soon
        bus = app[BUS]
        if isinstance(bus, RedisBus):  # events published while it was cut off never reached this node
            bus.on_reconnect = partial(engine.resync_soon, then=partial(_resume_clients, app))
        accounts = Accounts(app[STORE], the_clock, config.auth)
        if demo:
            await seed_demo(app[STORE], accounts, config)
        await engine.start()
        app[ENGINE], app[ACCOUNTS] = engine, accounts
        app[WEBCHAT] = WebchatChannel(engine, accounts, config.webchat, app[SOCKETS])
        app[DESK] = DeskEndpoint(engine, accounts, config, app[SOCKETS])
        app[EMAIL] = mail = EmailChannel(engine, config.email, config.sla, the_clock)
        if leases is not None:  # the new leader reads the mailboxes and sends the outbox at once
            leases.on_lead = partial(_lead, engine, mail)
        mail.start()
        yield
        await mail.stop()
        engine.stop()
        if leases is not None:
            await leases.close()

    sockets: set[JsonSocket] = set()
    app[SOCKETS] = sockets
    app[CLOSING] = set()
    meter.gauge("cc_sockets_open", lambda: len(sockets))

    async def close_sockets(app: web.Application) -> None:
        open_sockets: set[JsonSocket] = app[SOCKETS]
        for sock in list(open_sockets):
            await sock.going_away()

    app.cleanup_ctx.extend([store_ctx, bus_ctx, engine_ctx])
    app.on_shutdown.append(close_sockets)
    r = app.router
    r.add_post("/api/login", login)
    r.add_post("/api/logout", logout)
    r.add_get("/api/me", me)
    r.add_get("/api/queue", queue)
    r.add_get("/api/reports/email", email_report)
    r.add_get("/api/quarantine", quarantine)
    r.add_get("/api/mails/{mail_id}/raw", raw_mail)
    r.add_get("/api/mails/{mail_id}/attachments/{n}", attachment)
    r.add_post("/api/users", add_user)
    r.add_get("/api/customers/{customer_id}", customer)
    r.add_patch("/api/customers/{customer_id}", update_customer)
    r.add_get("/api/customers/{customer_id}/history", history)
    r.add_get("/api/health", health)
    r.add_get("/api/openapi.json", openapi)
    r.add_get("/metrics", metrics)
    r.add_get("/ws/chat", chat_ws)
    r.add_get("/ws/desk", desk_ws)
    r.add_get("/", _page("demo.html"))
    r.add_get("/desk", _page("desk.html"))
    r.add_static("/static", STATIC)
    r.add_get("/widget.js", widget_js)
    return app
