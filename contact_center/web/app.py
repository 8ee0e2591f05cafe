"""The one aiohttp application: REST API, websockets, pages.

Every long-lived resource is a ``cleanup_ctx`` entry under a typed ``AppKey``
(:mod:`~contact_center.web.keys`): the store, the bus, then the engine with its channels on
top, then the housekeeping that purges lapsed sessions. Handlers live by what they serve:
:mod:`~contact_center.web.rest_accounts`, :mod:`~contact_center.web.rest_customers`,
:mod:`~contact_center.web.rest_mail`, :mod:`~contact_center.web.pages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import socket
import uuid
from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import Any

import structlog
from aiohttp import web

from channels.call.service import Calls
from channels.callback.dialling import Dialling
from channels.callback.service import Callbacks
from channels.email import EmailChannel, MailComposer
from channels.heartbeat import Heartbeat
from channels.left_message import LeftMessages
from channels.registry import channel_kinds
from channels.webchat import WebchatChannel
from channels.wire import Wire
from channels.wsjson import JsonSocket
from contact_center.auth import Accounts
from contact_center.bus import Bus
from contact_center.clock import Clock, SystemClock
from contact_center.collector import CollectorPauses
from contact_center.config import Config
from contact_center.delivery import Watch
from contact_center.demo import seed_demo
from contact_center.engine import Engine
from contact_center.identities import Identities
from contact_center.leases import Leases
from contact_center.metrics import Metrics
from contact_center.ports import ChatPorts, DeskPorts, MailPorts
from contact_center.proofreading import Proofreader
from contact_center.redis_bus import RedisBus
from contact_center.reply_attachments import ReplyAttachments
from contact_center.reply_editing import ReplyEditor
from contact_center.reply_library import ReplyLibrary
from contact_center.store import open_store
from contact_center.web import pages, rest_accounts, rest_callbacks, rest_customers, rest_files, rest_mail, rest_replies
from contact_center.web.dashboard import DashboardNews, ServiceGauges
from contact_center.web.desk import DeskEndpoint
from contact_center.web.desk_quality import DeskQuality
from contact_center.web.desk_replies import Writing
from contact_center.web.keys import (
    ACCOUNTS,
    ATTACHMENTS,
    BUS,
    CALLBACKS,
    CLIENTS,
    CLOCK,
    CLOSING,
    CONFIG,
    DEMO,
    DESK,
    EDITOR,
    EMAIL,
    ENGINE,
    IDENTITIES,
    KINDS,
    LEASES,
    LIBRARY,
    METRICS,
    NODE,
    SOCKETS,
    STORE,
    WATCH,
    WEBCHAT,
    WIRE,
)
from contact_center.web.peers import ClientAddresses
from contact_center.web.rest import errors
from templates_responses.acknowledgement import REPLY_ID
from templates_responses.library_format import LibraryError

__all__ = ["ACCOUNTS", "BUS", "CONFIG", "EMAIL", "ENGINE", "METRICS", "SOCKETS", "STORE", "WEBCHAT", "build_app"]


log = structlog.get_logger("contact_center.web")

PURGE_EVERY_S = 600.0  # lapsed sessions, throttle counts and codes are forgotten this often


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


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    count = app[METRICS].counter("cc_redis_round_trips_total", client="store")
    app[STORE] = store = await open_store(app[CONFIG].store, app[NODE], count=count)
    yield
    await store.close()


async def _bus_ctx(app: web.Application) -> AsyncIterator[None]:
    # Nodes sharing a Redis store share their events too; alone, the bus is in-process.
    config = app[CONFIG].store
    if config.backend != "redis":
        app[BUS] = Bus()
        yield
        return
    count = app[METRICS].counter("cc_redis_round_trips_total", client="bus")
    # Events published while it was cut off never reached this node: once it listens again, read everything again.
    bus = RedisBus(config.redis_url, config.redis_prefix, app[NODE], count=count, on_reconnect=partial(_missed, app))
    await bus.start()
    app[BUS] = bus
    yield
    await bus.close()


async def _leases_ctx(app: web.Application) -> AsyncIterator[None]:
    """This node's lease and, when it leads, the routing lease: nodes sharing a Redis only."""
    config = app[CONFIG]
    if config.store.backend != "redis":
        app[LEASES] = None
        yield
        return
    count = app[METRICS].counter("cc_redis_round_trips_total", client="leases")
    store = config.store
    leases = Leases(
        store.redis_url,
        store.redis_prefix,
        app[NODE],
        store.lease_s,
        lead=config.routing.leader,
        count=count,
        on_lapsed=partial(_resync, app),  # cut off for longer than a lease: read everything again
        on_lead=partial(_lead, app),
    )
    await leases.start()
    app[LEASES] = leases
    yield
    await leases.close()


def _missed(app: web.Application) -> None:
    """The bus listens again after an outage: the engine reads every record again, then the clients resume."""
    engine = app.get(ENGINE)
    if engine is not None:
        engine.resync_soon(then=partial(_resume_clients, app))


def _outbound(app: web.Application) -> None:
    """A unit queued mail to send: the outbox looks now."""
    mail = app.get(EMAIL)
    if mail is not None:
        mail.sender.wake()


def _resync(app: web.Application) -> None:
    engine = app.get(ENGINE)
    if engine is not None:
        engine.resync_soon()


def _lead(app: web.Application) -> None:
    """This node took the routing lease: route, read the mailboxes and send the outbox at once."""
    engine, mail = app.get(ENGINE), app.get(EMAIL)
    if engine is not None:
        engine.route_soon()
    if mail is not None:
        mail.wake()


async def _accounts_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    app[ACCOUNTS] = accounts = Accounts(app[STORE], app[CLOCK], config.auth, app[BUS])
    if app[DEMO]:  # before the engine starts: it reads the agents
        await seed_demo(app[STORE], accounts, config)
    yield
    accounts.close()


async def _engine_ctx(app: web.Application) -> AsyncIterator[None]:
    config, bus = app[CONFIG], app[BUS]
    app[LIBRARY] = library = ReplyLibrary(
        config.desk.replies_dir, config.webchat.languages, app[STORE], file_types=config.webchat.attachment_types,
        max_file_bytes=int(config.webchat.attachment_max_mb * 1024 * 1024),
    )  # fmt: skip
    _load_replies(library)
    engine = Engine(
        app[STORE],
        app[CLOCK],
        config,
        app[KINDS],
        bus,
        node_id=app[NODE],
        liveness=app[LEASES],
        metrics=app[METRICS],
        # the mails the engine sends, in the channel's words (the acknowledgement's from the library)
        composer=MailComposer(config.email, config.sla.calendar, partial(library.reply, REPLY_ID)),
        on_outbound=partial(_outbound, app),
    )
    await engine.start()
    app[ENGINE] = engine
    app[IDENTITIES] = Identities(engine, app[STORE], app[CLOCK], config)
    yield
    engine.stop()


async def _watch_ctx(app: web.Application) -> AsyncIterator[None]:
    """What every socket was given, checked against the store: nodes sharing one lose no message."""
    config, meter = app[CONFIG], app[METRICS]
    checked = meter.counter("cc_delivery_checks_total")

    async def last_seqs(contact_ids: Sequence[str]) -> dict[str, int]:
        checked()
        return await app[STORE].last_seqs(contact_ids)

    app[WATCH] = watch = Watch(
        last_seqs,
        app[CLOCK],
        gap_wait_s=config.webchat.gap_wait_s,
        check_s=config.webchat.delivery_check_s,
        filled=lambda n: meter.inc("cc_messages_filled_total", n),
    )
    if config.store.backend == "redis":  # alone, a node publishes in-process: nothing is lost on the way
        watch.start()
    yield
    await watch.stop()


def _office(config: Config, clock: Clock) -> dict[str, Any]:
    """The office as the widget tells it: open now, or when it opens (the SLA calendar's working hours)."""
    now, calendar = clock.now(), config.sla.calendar
    is_open = calendar.is_open(now)
    return {"open": is_open, "opens_at": None if is_open else calendar.add(now, 0), "time_zone": config.sla.time_zone}


def _load_replies(library: ReplyLibrary) -> None:
    """The reply library's files, read and checked at start; a bad library is logged, and no reply is suggested."""
    try:
        library.load()
    except LibraryError as exc:
        log.error("replies.invalid", problems=[str(p) for p in exc.problems])


async def _sync_replies(files: ReplyAttachments, editor: ReplyEditor) -> None:
    """The library squared with the store's versions (its attachments first: the replies name them);
    the store away at start: the files as they are."""
    try:
        await files.sync()
        await editor.sync()
    except Exception as exc:
        log.error("replies.sync_failed", error=repr(exc))


async def _channels_ctx(app: web.Application) -> AsyncIterator[None]:
    config, engine, accounts, identities = app[CONFIG], app[ENGINE], app[ACCOUNTS], app[IDENTITIES]
    watch, sockets = app[WATCH], app[SOCKETS]
    ports = ChatPorts(log=app[STORE], topics=app[BUS], watch=watch)
    office = partial(_office, config, app[CLOCK])
    app[WEBCHAT] = chat = WebchatChannel(
        engine, accounts, identities, config.webchat, sockets, ports, app[CLIENTS].of, office,
        LeftMessages(engine, config, app[CLOCK]),
    )  # fmt: skip
    chat.news.start()
    desk_ports = DeskPorts(log=app[STORE], topics=app[BUS], watch=watch, clock=app[CLOCK])
    app[WIRE] = wire = Wire(config, app[KINDS])
    library = app[LIBRARY]
    app[EDITOR] = editor = ReplyEditor(library, app[STORE], app[BUS], app[CLOCK])
    app[ATTACHMENTS] = files = ReplyAttachments(library, app[STORE], app[BUS], app[CLOCK])
    await _sync_replies(files, editor)
    proofreader = Proofreader(config.desk, config.webchat.languages)
    proofreader.load()
    writing = Writing(library, editor, proofreader, app[STORE], files)
    app[DESK] = desks = DeskEndpoint(engine, accounts, identities, config, sockets, desk_ports, wire, writing)
    desks.news.start()
    desks.dashboard = DashboardNews(engine, app[STORE], app[STORE], config, app[CLOCK], desks.sessions)
    desks.dashboard.start()
    desks.quality = partial(DeskQuality, engine, app[STORE], config, wire, app[CLOCK], app[BUS])
    gauges = ServiceGauges(desks.dashboard.figures, app[CLOCK])
    app[METRICS].gauges("cc_service_level", lambda: gauges.levels)
    gauges.start()
    mail_ports = MailPorts(outbox=app[STORE], cursors=app[STORE], metrics=app[METRICS])
    app[EMAIL] = mail = EmailChannel(engine, mail_ports, config.email, app[CLOCK])
    mail.start()
    app[METRICS].gauges("cc_mailbox_lag_seconds", mail.lags)
    confirmations = MailComposer(config.email, config.sla.calendar)  # a callback's confirmation, by the outbox
    app[CALLBACKS] = callbacks = Callbacks(engine, app[STORE], config, app[CLOCK], confirmations)
    await callbacks.start()
    desks.actions.update(callbacks.desk_actions())
    desks.actions["dial_setup"] = Dialling(engine, config, app[CLOCK]).setup
    calls = Calls(engine, config, app[CLOCK], office)
    chat.actions.update(calls.widget_actions())
    chat.gone.append(calls.socket_gone)
    desks.actions.update(calls.desk_actions())
    yield
    await mail.stop()
    await chat.news.stop()
    await desks.news.stop()
    if desks.dashboard is not None:
        await desks.dashboard.stop()
    await gauges.stop()
    proofreader.close()
    editor.close()
    files.close()


async def _purging(app: web.Application) -> None:
    """Forget lapsed sessions (and throttle counts and codes), on the node that leads."""
    while True:
        await asyncio.sleep(PURGE_EVERY_S)
        engine = app[ENGINE]
        if not engine.leading():
            continue
        try:
            purged = await app[STORE].purge_sessions(app[CLOCK].now())
        except Exception as exc:  # the store away: next time
            log.warning("sessions.purge_failed", error=repr(exc))
        else:
            log.info("sessions.purged", sessions=purged)


async def _housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.get_running_loop().create_task(_purging(app), context=contextvars.Context())
    meter = app[METRICS]
    pauses = CollectorPauses(
        lambda generation, took: meter.observe("cc_gc_pause_seconds", took, generation=str(generation))
    )
    meter.gauges("cc_gc_longest_pause_seconds", lambda: {str(g): took for g, took in enumerate(pauses.longest)})
    meter.gauges("cc_gc_collected_objects", lambda: {str(g): n for g, n in enumerate(pauses.collected)})
    pauses.install()
    yield
    pauses.remove()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _heartbeat_ctx(app: web.Application) -> AsyncIterator[None]:
    """Quiet sockets pinged, those that do not answer cut (their sessions end as on a closed tab)."""
    sockets: set[JsonSocket] = app[SOCKETS]
    cut = app[METRICS].counter("cc_sockets_cut_total")
    heartbeat = Heartbeat(sockets, app[CONFIG].webchat.heartbeat_s, cut=cut)
    task = asyncio.get_running_loop().create_task(heartbeat.run(), context=contextvars.Context())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _close_sockets(app: web.Application) -> None:
    """Every socket told the server is going away, all at once (a slow one holds up no one else)."""
    open_sockets: set[JsonSocket] = app[SOCKETS]
    await asyncio.gather(*(sock.going_away() for sock in list(open_sockets)), return_exceptions=True)


def _routes(r: web.UrlDispatcher) -> None:
    a, c, m, f, p = rest_accounts, rest_customers, rest_mail, rest_files, pages
    r.add_post("/api/login", a.login)
    r.add_post("/api/logout", a.logout)
    r.add_get("/api/me", a.me)
    r.add_get("/api/users", a.users)
    r.add_post("/api/users", a.add_user)
    r.add_post("/api/users/{user}/{action:disable|enable}", a.set_disabled)
    r.add_put("/api/users/{user}/password", a.set_password)
    r.add_delete("/api/users/{user}/sessions", a.end_sessions)
    r.add_get("/api/queue", c.queue)
    r.add_get("/api/customers/{customer_id}", c.customer)
    r.add_patch("/api/customers/{customer_id}", c.update_customer)
    r.add_get("/api/customers/{customer_id}/history", c.history)
    r.add_post("/api/customers/{customer_id}/identities", c.link_identity)
    r.add_get("/api/reports/email", m.email_report)
    r.add_get("/api/reports/ratings", m.rating_report)
    r.add_get("/api/reports/service", m.service_report_of)
    r.add_get("/api/reports/replies", rest_replies.replies_report)
    r.add_get("/api/replies", rest_replies.export_replies)
    r.add_post("/api/replies", rest_replies.import_replies)
    r.add_get("/api/replies/files", rest_replies.library_files)
    r.add_get("/api/replies/files/{name}", rest_replies.library_file)
    r.add_put("/api/replies/files/{name}", rest_replies.put_library_file)
    r.add_delete("/api/replies/files/{name}", rest_replies.remove_library_file)
    r.add_get("/api/quarantine", m.quarantine)
    r.add_get("/api/mails/{mail_id}/raw", m.raw_mail)
    r.add_get("/api/mails/{mail_id}/attachments/{n}", m.attachment)
    r.add_post("/api/chat/files", f.upload)
    r.add_route("OPTIONS", "/api/chat/files", f.upload_preflight)
    r.add_get("/api/chat/files/{file_id}", f.customer_file)
    r.add_route("OPTIONS", "/api/chat/files/{file_id}", f.upload_preflight)
    r.add_get("/api/files/{file_id}", f.chat_file)
    cb = rest_callbacks
    r.add_get("/api/callbacks/slots", cb.slots)
    r.add_post("/api/callbacks", cb.request_callback)
    r.add_post("/api/callbacks/cancel", cb.cancel)
    r.add_post("/api/callbacks/reschedule", cb.reschedule)
    r.add_get("/api/callbacks/{contact_id}", cb.booking)
    for path in ("/api/callbacks", "/api/callbacks/slots", "/api/callbacks/cancel", "/api/callbacks/reschedule",
                 "/api/callbacks/{contact_id}"):  # fmt: skip
        r.add_route("OPTIONS", path, cb.preflight)
    r.add_get("/api/health", p.health)
    r.add_get("/api/openapi.json", p.openapi)
    r.add_get("/metrics", p.metrics)
    r.add_get("/ws/chat", p.chat_ws)
    r.add_get("/ws/desk", p.desk_ws)
    r.add_get("/", p.page("demo.html"))
    r.add_get("/desk", p.page("desk.html"))
    r.add_get("/callback", p.page("callback.html"))
    r.add_static("/static", p.STATIC)
    r.add_get("/widget.js", p.widget_js)
    r.add_get("/widget.js.map", p.widget_js)


def build_app(config: Config, *, clock: Clock | None = None, demo: bool = False) -> web.Application:
    """Build the application; nothing starts until its runner does."""
    pages.require_built()
    app = web.Application(middlewares=[errors], client_max_size=1024 * 1024)
    app[CONFIG] = config
    app[CLOCK] = clock or SystemClock()
    app[DEMO] = demo
    app[KINDS] = channel_kinds(config)  # every channel, registered in channels/registry.py
    app[NODE] = config.store.node_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    app[METRICS] = meter = Metrics()
    app[CLIENTS] = ClientAddresses(config.server.trusted_proxies)
    sockets: set[JsonSocket] = set()
    app[SOCKETS] = sockets
    app[CLOSING] = set()
    meter.gauge("cc_sockets_open", lambda: len(sockets))
    # One context per resource, started in this order and closed in the reverse.
    app.cleanup_ctx.extend([_store_ctx, _bus_ctx, _leases_ctx, _accounts_ctx, _engine_ctx, _watch_ctx, _channels_ctx])
    app.cleanup_ctx.extend([_heartbeat_ctx, _housekeeping_ctx])
    app.on_shutdown.append(_close_sockets)
    app.on_response_prepare.append(pages.secure(pages.page_policy(config.gateway.ws_url)))
    _routes(app.router)
    return app
