"""REST: signing in and out, the caller's own account, and the accounts supervisors keep.

A login is throttled per username and per client address before its password is checked
(``429`` with ``Retry-After``; a locked account says ``account_locked``). Supervisors list the
accounts (with any lockout), create them, disable or enable them, set a new password and end a
user's sessions; each end reaches the desk sockets of that user on every node at once.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web

from contact_center.auth import Accounts
from contact_center.exceptions import BadMessage
from contact_center.model import Agent, Role
from contact_center.web.keys import ACCOUNTS, CONFIG, ENGINE
from contact_center.web.rest import bearer, client_of, json_body, user

__all__ = ["add_user", "end_sessions", "login", "logout", "me", "set_disabled", "set_password", "users"]

log = structlog.get_logger("contact_center.web")


async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadMessage("username and password: both are required strings", "invalid_field")
    if len(username) > 64 or len(password) > 1024:
        raise BadMessage("username or password: too long", "invalid_field")
    client = client_of(request)
    token, agent, expires = await request.app[ACCOUNTS].login(username, password, client)
    log.info("user.login", agent_id=agent.id, username=agent.username, client=client)
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
    await user(request)
    await request.app[ACCOUNTS].logout(bearer(request) or "")
    return web.json_response({"ok": True})


async def me(request: web.Request) -> web.Response:
    agent = request.app[ENGINE].agent(await user(request))
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


def _levels(raw: Any, low: int = 1, high: int = 5) -> dict[str, int]:
    if not isinstance(raw, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in raw.values()
    ):
        raise BadMessage(f"skills and capacity: objects of names to integers {low}-{high}", "invalid_field")
    return dict(raw)


async def add_user(request: web.Request) -> web.Response:
    await user(request, Role.SUPERVISOR)
    body = await json_body(request)
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


def _account(agent: Agent, locked_until: float) -> dict[str, Any]:
    return {
        "id": agent.id,
        "username": agent.username,
        "name": agent.display_name,
        "role": agent.role.value,
        "disabled": agent.disabled,
        "locked_until": locked_until or None,
    }


async def users(request: web.Request) -> web.Response:
    """Every account, with whether it is disabled or locked: for supervisors."""
    await user(request, Role.SUPERVISOR)
    accounts: Accounts = request.app[ACCOUNTS]
    found = await accounts.users()
    locks = await accounts.locked_until([a.username for a in found])
    return web.json_response({"users": [_account(a, lock) for a, lock in zip(found, locks, strict=True)]})


async def set_disabled(request: web.Request) -> web.Response:
    """``POST /api/users/{user}/disable`` or ``/enable``: a disabled account's sessions end at once."""
    me_id = await user(request, Role.SUPERVISOR)
    disable = request.match_info["action"] == "disable"
    target = await request.app[ACCOUNTS].user(request.match_info["user"])
    if disable and target.id == me_id:
        raise BadMessage("a supervisor cannot disable their own account", "invalid_field")
    agent = await request.app[ACCOUNTS].set_disabled(target.id, disable)
    log.info("user.disabled" if disable else "user.enabled", by=me_id, user_id=agent.id)
    return web.json_response(_account(agent, 0.0))


async def set_password(request: web.Request) -> web.Response:
    """``PUT /api/users/{user}/password`` ``{"password"}``: the user's sessions end; its lockout is lifted."""
    me_id = await user(request, Role.SUPERVISOR)
    body = await json_body(request)
    password = body.get("password")
    if not isinstance(password, str):
        raise BadMessage("password: a string is required", "invalid_field")
    agent = await request.app[ACCOUNTS].set_password(request.match_info["user"], password)
    log.info("user.password_set", by=me_id, user_id=agent.id)
    return web.json_response(_account(agent, 0.0))


async def end_sessions(request: web.Request) -> web.Response:
    """``DELETE /api/users/{user}/sessions``: every session of the user ends, and its desks close."""
    me_id = await user(request, Role.SUPERVISOR)
    accounts = request.app[ACCOUNTS]
    target = await accounts.user(request.match_info["user"])
    ended = await accounts.end_sessions(target.id, "ended_by_supervisor")
    log.info("user.sessions_ended_by", by=me_id, user_id=target.id, sessions=ended)
    return web.json_response({"user_id": target.id, "ended": ended})
