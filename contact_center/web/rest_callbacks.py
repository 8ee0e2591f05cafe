"""REST: the call-me button. A customer asks to be called, sees their place, and cancels or moves it by link.

``GET /api/callbacks/slots`` lists the hours that may be booked, each with the room it has left
(``start``, ``end`` in seconds since the epoch; the page shows them in the customer's own time
zone). ``POST /api/callbacks`` asks for a call (``phone``; ``at``, a slot's start, or none for as
soon as possible; ``language``, ``topic``), with the widget's token as the bearer, or without
one from a page that has no chat: then it is a new visitor's, whose token comes back with it.
``GET /api/callbacks/{id}`` is the customer's own callback now (its place and expected wait);
anyone else's is "not found". ``POST /api/callbacks/cancel`` and ``/reschedule`` take the token
of a confirmation's link (it is the credential: signed, for its one purpose, once). Every answer
carries CORS for ``webchat.allowed_origins`` only, as the chat socket and the file upload do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from contact_center.exceptions import ContactCenterError, Forbidden
from contact_center.web.keys import ACCOUNTS, CALLBACKS, CONFIG, ENGINE, IDENTITIES
from contact_center.web.rest import bearer, client_of, error_response, json_body, widget_cors

__all__ = ["booking", "cancel", "preflight", "request_callback", "reschedule", "slots"]

Answer = Callable[[web.Request], Awaitable[tuple[dict[str, Any], int]]]


async def _answered(request: web.Request, answer: Answer) -> web.Response:
    """The answer with the widget's CORS; a page of another origin is refused before anything is done."""
    cors = widget_cors(request)
    try:
        if request.headers.get("Origin") is not None and not cors:
            raise Forbidden(f"Origin {request.headers.get('Origin')!r} may not ask for callbacks")
        body, status = await answer(request)
    except ContactCenterError as exc:
        return error_response(exc, cors)
    return web.json_response(body, status=status, headers=cors)


async def preflight(request: web.Request) -> web.StreamResponse:
    cors = widget_cors(request)
    if not cors:
        return web.Response(status=403)
    allowed = {"Access-Control-Allow-Methods": "GET, POST", "Access-Control-Allow-Headers": "Authorization, "
               "Content-Type", "Access-Control-Max-Age": "600"}  # fmt: skip
    return web.Response(status=204, headers=cors | allowed)


async def slots(request: web.Request) -> web.Response:
    async def answer(request: web.Request) -> tuple[dict[str, Any], int]:
        config = request.app[CONFIG]
        found = await request.app[CALLBACKS].open_slots()
        listed = [{"start": s.start, "end": s.end, "free": s.free} for s in found]
        return {"time_zone": config.sla.time_zone, "slot_minutes": config.callback.slot_minutes,
                "slots": listed}, 200  # fmt: skip

    return await _answered(request, answer)


async def request_callback(request: web.Request) -> web.Response:
    async def answer(request: web.Request) -> tuple[dict[str, Any], int]:
        body = await json_body(request)
        accounts, token = request.app[ACCOUNTS], bearer(request)
        if token:
            customer_id, new_token = await accounts.customer_id(token), None
        else:  # a page with the button and no chat: a new visitor, counted like the chat's
            request.app[IDENTITIES].admit_visitor(client_of(request))
            customer_id = (await request.app[ENGINE].new_visitor()).id
            new_token = await accounts.new_customer_token(customer_id)
        made = await request.app[CALLBACKS].request(
            customer_id, body.get("phone"), body.get("at"), language=body.get("language", "id"),
            topic=body.get("topic", "general"),
        )  # fmt: skip
        answered = {"callback": made.described()} | ({"token": new_token} if new_token else {})
        return answered, 200 if made.merged else 201

    return await _answered(request, answer)


async def booking(request: web.Request) -> web.Response:
    async def answer(request: web.Request) -> tuple[dict[str, Any], int]:
        customer_id = await request.app[ACCOUNTS].customer_id(bearer(request))
        found = await request.app[CALLBACKS].status(customer_id, request.match_info["contact_id"])
        return {"callback": found.described()}, 200

    return await _answered(request, answer)


async def cancel(request: web.Request) -> web.Response:
    async def answer(request: web.Request) -> tuple[dict[str, Any], int]:
        body = await json_body(request)
        return {"callback": (await request.app[CALLBACKS].cancel(body.get("token"))).described()}, 200

    return await _answered(request, answer)


async def reschedule(request: web.Request) -> web.Response:
    async def answer(request: web.Request) -> tuple[dict[str, Any], int]:
        body = await json_body(request)
        moved = await request.app[CALLBACKS].reschedule(body.get("token"), body.get("at"))
        return {"callback": moved.described()}, 200

    return await _answered(request, answer)
