"""The REST API over a real loopback server: sign-in, roles, expiry, history, the OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from contact_center.model import Role
from tests.clients import login
from tests.conftest import Server, make_config, start_server

DOCS = Path(__file__).resolve().parents[3] / "docs"


async def call(server: Server, method: str, path: str, token: str | None = None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.request(method, f"{server.url}{path}", **kw) as r:
            return r.status, await r.json()


async def test_wrong_password_and_missing_token(server: Server):
    """A wrong password is 401 without saying which part was wrong; no token is 401 too."""
    await server.add_agent("ayu")
    status, body = await call(server, "POST", "/api/login", json={"username": "ayu", "password": "nope-nope"})
    assert status == 401 and body == {"error": "unauthorized", "message": "wrong username or password"}
    status, body = await call(server, "POST", "/api/login", json={"username": "nobody", "password": "nope-nope"})
    assert status == 401 and body["message"] == "wrong username or password"
    status, body = await call(server, "GET", "/api/queue")
    assert status == 401 and body["message"] == "a bearer token is required"


async def test_malformed_body_is_named(server: Server):
    """A body that is not JSON is a 400 that says so."""
    status, body = await call(server, "POST", "/api/login", data=b"{oops")
    assert status == 400 and body["error"] == "bad_json"


async def test_session_expires(tmp_path):
    """A session token stops working after session_ttl_s."""
    srv = await start_server(make_config(tmp_path, auth={"session_ttl_s": 0.3}))
    try:
        await srv.add_agent("ayu")
        token = await login(srv, "ayu")
        assert (await call(srv, "GET", "/api/me", token))[0] == 200
        import asyncio

        await asyncio.sleep(0.4)
        status, body = await call(srv, "GET", "/api/me", token)
        assert status == 401 and body["message"] == "token expired"
    finally:
        await srv.runner.cleanup()


async def test_logout_ends_the_session(server: Server):
    """After logout the token is refused."""
    await server.add_agent("ayu")
    token = await login(server, "ayu")
    assert (await call(server, "POST", "/api/logout", token))[0] == 200
    assert (await call(server, "GET", "/api/me", token))[0] == 401


async def test_supervisor_only_endpoints(server: Server):
    """Agents cannot create users or set customer value; supervisors can, and bad fields are named."""
    await server.add_agent("ayu")
    await server.add_agent("lead", role=Role.SUPERVISOR)
    agent_token, lead_token = await login(server, "ayu"), await login(server, "lead")
    new_user = {"username": "citra", "password": "long-enough-pw", "skills": {"general": 4}}
    status, body = await call(server, "POST", "/api/users", agent_token, json=new_user)
    assert status == 403 and body["message"] == "the supervisor role is required"
    assert (await call(server, "POST", "/api/users", lead_token, json=new_user))[0] == 201
    assert (await call(server, "POST", "/api/users", lead_token, json=new_user))[0] == 409
    status, body = await call(
        server, "POST", "/api/users", lead_token, json={**new_user, "username": "d", "skills": {"x": 9}}
    )
    assert status == 400 and "1-5" in body["message"]
    assert await login(server, "citra", "long-enough-pw")
    customer = await server.engine.new_visitor()
    status, body = await call(server, "PATCH", f"/api/customers/{customer.id}", agent_token, json={"value": 10})
    assert status == 403
    status, body = await call(server, "PATCH", f"/api/customers/{customer.id}", lead_token, json={"value": 2500})
    assert status == 200 and body["value"] == 2500
    status, body = await call(server, "PATCH", f"/api/customers/{customer.id}", lead_token, json={"value": "lots"})
    assert status == 400 and body["message"] == "value: must be a number"


async def test_history_of_unknown_customer_and_bad_paging(server: Server):
    """An unknown customer is 404 to a supervisor (403 to an agent, who holds none of theirs); a bad limit is 400."""
    await server.add_agent("lead", role=Role.SUPERVISOR)
    await server.add_agent("ayu")
    token = await login(server, "lead")
    status, body = await call(server, "GET", "/api/customers/nobody/history", token)
    assert status == 404 and "nobody" in body["message"]
    status, body = await call(server, "GET", "/api/customers/nobody/history", await login(server, "ayu"))
    assert status == 403
    customer = await server.engine.new_visitor()
    status, body = await call(server, "GET", f"/api/customers/{customer.id}/history?limit=abc", token)
    assert status == 400 and body["message"].startswith("limit:")


async def test_every_route_is_in_the_openapi_document(server: Server):
    """docs/openapi.json names every REST route the application serves, and is served itself."""
    spec = json.loads((DOCS / "openapi.json").read_text())
    served = {
        (route.resource.canonical, route.method.lower())
        for route in server.app.router.routes()
        if route.resource is not None
        and (route.resource.canonical.startswith("/api/") or route.resource.canonical == "/metrics")
        and route.method != "HEAD"
    }
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented
    status, body = await call(server, "GET", "/api/openapi.json")
    assert status == 200 and body["openapi"].startswith("3.")


async def test_pages_are_served_with_a_strict_policy(server: Server):
    """The desk page forbids inline script and foreign sources."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/desk") as r:
            assert r.status == 200
            assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        async with http.get(f"{server.url}/widget.js") as r:
            assert r.status == 200 and "ContactCenterWidget" in await r.text()
