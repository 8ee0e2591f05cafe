"""REST: customers, their history, the identities an agent or supervisor confirms, and the queue.

An agent reads a customer (and the history) only while holding or being offered one of their
contacts (with ``desk.history_of_handled``, also of customers it handled before); supervisors
read everyone. What a customer only claimed is listed apart from what is proven.
"""

from __future__ import annotations

from aiohttp import web

from channels.wire import event_json
from contact_center.exceptions import BadMessage, NotFound
from contact_center.model import Role
from contact_center.web.keys import ENGINE, IDENTITIES, STORE, WIRE
from contact_center.web.rest import int_query, json_body, user

__all__ = ["customer", "history", "link_identity", "queue", "update_customer"]


async def _readable(request: web.Request) -> str:
    """The customer in the path, if the caller may read them."""
    customer_id = request.match_info["customer_id"]
    await request.app[ENGINE].may_read(await user(request), customer_id)
    return customer_id


async def customer(request: web.Request) -> web.Response:
    customer_id = await _readable(request)
    found = await request.app[STORE].get_customer(customer_id)
    if found is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return web.json_response({**request.app[WIRE].customer(found), "created_at": found.created_at})


async def update_customer(request: web.Request) -> web.Response:
    await user(request, Role.SUPERVISOR)
    body = await json_body(request)
    value = body.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadMessage("value: must be a number", "invalid_field")
    await request.app[ENGINE].set_customer_value(request.match_info["customer_id"], float(value))
    return await customer(request)


async def history(request: web.Request) -> web.Response:
    customer_id = await _readable(request)
    limit = int_query(request, "limit", 500, 5000) or 500
    before = int_query(request, "before", None, 2**62)
    events = await request.app[ENGINE].history(customer_id, limit, before)
    return web.json_response({"customer_id": customer_id, "events": [event_json(e) for e in events]})


async def link_identity(request: web.Request) -> web.Response:
    """``POST /api/customers/{id}/identities`` ``{"kind", "value"}``: confirm an identity of the customer.

    An agent may confirm what the customer claimed, while holding one of their contacts; a
    supervisor any email address or phone number. A customer who holds it already is merged with
    this one; the answer names the customer that stands for the person now.
    """
    actor = await user(request)
    body = await json_body(request)
    kept = await request.app[IDENTITIES].link(
        actor, request.match_info["customer_id"], body.get("kind"), body.get("value")
    )
    found = await request.app[STORE].get_customer(kept)
    if found is None:
        raise NotFound(f"customer {kept} does not exist")
    return web.json_response({**request.app[WIRE].customer(found), "created_at": found.created_at})


async def queue(request: web.Request) -> web.Response:
    await user(request)
    engine, wire = request.app[ENGINE], request.app[WIRE]
    contacts = [wire.contact(c) for cid in engine.waiting() if (c := engine.contact(cid)) is not None]
    return web.json_response({"waiting": contacts})
