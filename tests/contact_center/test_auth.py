"""Accounts and sessions on their own (a real SQLite file, a manual clock): what a token grants and for how long."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from contact_center import events
from contact_center.auth import Accounts
from contact_center.bus import Bus
from contact_center.clock import ManualClock
from contact_center.config import Config
from contact_center.exceptions import AuthError, ClientError, Conflict, Forbidden
from contact_center.model import Role
from contact_center.store import SqliteStore
from tests.conftest import PASSWORD, make_config


@pytest.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[tuple[Accounts, ManualClock, Config]]:
    config = make_config(tmp_path)
    store, clock, bus = SqliteStore(tmp_path / "auth.sqlite3"), ManualClock(1_000.0), Bus()
    accounts = Accounts(store, clock, config.auth, bus)
    yield accounts, clock, config
    accounts.close()
    await store.close()


def heard(accounts: Accounts, user_id: str) -> list[Any]:
    """What the bus tells the user's desks, from now on."""
    box: list[Any] = []
    accounts._bus.subscribe(f"agent:{user_id}", box.append)  # the bus the accounts were given
    return box


async def test_a_token_grants_its_user_until_it_expires_and_no_longer(accounts):
    acc, clock, config = accounts
    ayu = await acc.add_user("ayu", PASSWORD, role=Role.SUPERVISOR)
    token, agent, expires = await acc.login("ayu", PASSWORD)
    assert agent.id == ayu.id and expires == 1_000.0 + config.auth.session_ttl_s
    assert await acc.user_id(token) == ayu.id
    assert await acc.user_id(token, Role.SUPERVISOR) == ayu.id
    clock.advance(config.auth.session_ttl_s)
    with pytest.raises(AuthError, match="token expired"):
        await acc.user_id(token)


async def test_wrong_passwords_and_disabled_accounts_get_no_session(accounts):
    acc, _, _ = accounts
    budi = await acc.add_user("budi", PASSWORD)
    with pytest.raises(AuthError, match="wrong username or password"):
        await acc.login("budi", "not-the-password")
    with pytest.raises(AuthError, match="wrong username or password"):
        await acc.login("nobody", PASSWORD)
    await acc.set_disabled(budi.id, True)
    with pytest.raises(AuthError, match="disabled"):
        await acc.login("budi", PASSWORD)


async def test_logout_and_ending_sessions_end_them_and_tell_the_desks(accounts):
    acc, _, _ = accounts
    citra = await acc.add_user("citra", PASSWORD)
    box = heard(acc, citra.id)
    first, _, _ = await acc.login("citra", PASSWORD)
    second, _, _ = await acc.login("citra", PASSWORD)
    await acc.logout(first)
    with pytest.raises(AuthError, match="unknown token"):
        await acc.user_id(first)
    assert await acc.user_id(second) == citra.id
    assert await acc.end_sessions(citra.id, "password_changed") == 1
    with pytest.raises(AuthError, match="unknown token"):
        await acc.user_id(second)
    assert [type(e) for e in box] == [events.SessionEnded, events.SessionEnded]
    assert (box[0].reason, box[1].token_hash, box[1].reason) == ("logout", None, "password_changed")


async def test_a_customer_token_is_not_a_users_and_a_users_role_is_checked(accounts):
    acc, _, _ = accounts
    dewi = await acc.add_user("dewi", PASSWORD)
    customer = await acc.new_customer_token("ana")
    assert await acc.customer_id(customer) == "ana"
    with pytest.raises(Forbidden, match="customer tokens are not accepted"):
        await acc.user_id(customer)
    token, _, _ = await acc.login("dewi", PASSWORD)
    with pytest.raises(Forbidden, match="this endpoint takes a customer token"):
        await acc.customer_id(token)
    with pytest.raises(Forbidden, match="the supervisor role is required"):
        await acc.user_id(token, Role.SUPERVISOR)
    assert (await acc.user("dewi")).id == dewi.id


async def test_names_and_passwords_are_checked_when_an_account_is_made(accounts):
    acc, _, _ = accounts
    await acc.add_user("eka", PASSWORD)
    with pytest.raises(Conflict, match="username 'eka' is taken"):
        await acc.add_user("eka", PASSWORD)
    with pytest.raises(ClientError, match="username 'e k a'"):
        await acc.add_user("e k a", PASSWORD)
    with pytest.raises(ClientError, match="level must be 1-5"):
        await acc.add_user("fajar", PASSWORD, skills={"general": 9})
