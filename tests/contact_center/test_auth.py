"""Accounts and sessions on their own (a real SQLite file, a manual clock): what a token grants and for how long."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from contact_center import events
from contact_center.auth import Accounts
from contact_center.bus import Bus
from contact_center.clock import ManualClock
from contact_center.config import AuthConfig, Config
from contact_center.exceptions import AuthError, ClientError, Conflict, Forbidden
from contact_center.model import Role
from contact_center.store import SqliteStore
from tests.conftest import PASSWORD, TEST_HASHING, make_config


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


async def test_passwords_are_hashed_at_rfc_9106s_cost_unless_the_deployment_says_otherwise(tmp_path: Path):
    """By default Argon2id with 3 passes over 64 MiB in 4 lanes (the suite's own configs lower it to run faster)."""
    store = SqliteStore(tmp_path / "auth.sqlite3")
    accounts = Accounts(store, ManualClock(1_000.0), AuthConfig())
    try:
        await accounts.add_user("ayu", PASSWORD)
        _, stored = await store.user_by_name("ayu")
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    finally:
        accounts.close()
        await store.close()


async def test_a_hash_made_at_another_cost_is_made_again_at_the_next_right_login(tmp_path: Path):
    """The deployment raised the cost: a wrong password changes nothing; the right one logs in and is hashed anew."""
    store, clock = SqliteStore(tmp_path / "auth.sqlite3"), ManualClock(1_000.0)
    before = Accounts(store, clock, AuthConfig(**TEST_HASHING))
    await before.add_user("budi", PASSWORD)
    before.close()
    _, old = await store.user_by_name("budi")
    after = Accounts(store, clock, AuthConfig(hash_time_cost=2, hash_memory_kib=2048, hash_lanes=2))
    try:
        with pytest.raises(AuthError):
            await after.login("budi", "not-the-password")
        assert (await store.user_by_name("budi"))[1] == old
        with capture_logs() as logs:
            await after.login("budi", PASSWORD)
        _, new = await store.user_by_name("budi")
        assert old.startswith("$argon2id$v=19$m=1024,t=1,p=1$") and new.startswith("$argon2id$v=19$m=2048,t=2,p=2$")
        assert [e["event"] for e in logs if e["event"].startswith("user.")] == ["user.password_rehashed"]
        await after.login("budi", PASSWORD)  # the new hash holds the same password, and is not made again
        assert (await store.user_by_name("budi"))[1] == new
    finally:
        after.close()
        await store.close()
