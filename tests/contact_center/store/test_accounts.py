"""The store's accounts, sessions, claims, throttles and codes: the same contract on every backend."""

from __future__ import annotations

import asyncio

from contact_center.model import Customer, IdentityKind
from contact_center.store import NewEvent, Session, Store
from contact_center.store.base import Challenge, Strikes
from tests.contact_center.store.test_conformance import agent
from tests.stores import Opener


async def test_claims_are_kept_apart_from_identities_and_follow_a_merge(store: Store):
    """A claim is listed once, in order, never as an identity; a merge moves it; a proven one drops out."""
    await store.create_customer(Customer(id="visitor", created_at=1.0, identities=[(IdentityKind.VISITOR, "v")]))
    await store.create_customer(Customer(id="vip", created_at=1.0, identities=[(IdentityKind.EMAIL, "vip@x.id")]))
    for at, (kind, value) in enumerate([(IdentityKind.EMAIL, "vip@x.id"), (IdentityKind.PHONE, "+6281")], 2):
        event = NewEvent("visitor", None, None, "identity.claimed", float(at), "customer", {"value": value})
        await store.add_claim("visitor", kind, value, event)
        await store.add_claim("visitor", kind, value, event)  # said twice: kept once
    visitor = await store.get_customer("visitor")
    assert visitor.claims == [(IdentityKind.EMAIL, "vip@x.id"), (IdentityKind.PHONE, "+6281")]
    assert visitor.identities == [(IdentityKind.VISITOR, "v")]
    assert await store.find_customer(IdentityKind.EMAIL, "vip@x.id") == "vip"
    assert [e.kind for e in await store.history("visitor")].count("identity.claimed") == 4  # each saying
    await store.merge_customers("vip", "visitor", NewEvent("vip", None, None, "identity.merged", 9.0, "code"))
    vip = await store.get_customer("vip")
    assert vip.claims == [(IdentityKind.PHONE, "+6281")]  # the email is proven there: no longer a claim
    assert await store.get_customer("visitor") is None


async def test_users_are_disabled_and_given_new_passwords(reopen: Opener):
    """set_user changes the password hash and the disabled flag, and both survive a restart."""
    store = await reopen()
    ayu = agent("ayu")
    await store.create_user(ayu, "hash-1")
    await store.set_user(ayu.id, disabled=True)
    await store.set_user(ayu.id, password_hash="hash-2")
    await store.close()
    store = await reopen()
    found = await store.user_by_name("ayu")
    assert found is not None and found[1] == "hash-2" and found[0].disabled
    await store.set_user(ayu.id, disabled=False)
    assert not (await store.get_agent(ayu.id)).disabled
    assert [a.disabled for a in await store.list_agents()] == [False]


async def test_a_users_sessions_end_together_and_lapsed_ones_are_purged(store: Store):
    """delete_sessions_of ends one user's sessions only; purge_sessions forgets the lapsed ones."""
    await store.create_session("h1", Session("user", "ayu", 100.0, 10.0))
    await store.create_session("h2", Session("user", "ayu", 200.0, 10.0))
    await store.create_session("h3", Session("user", "budi", 200.0, 10.0))
    await store.create_session("c1", Session("customer", "ana", 50.0, 10.0))
    assert await store.delete_sessions_of("ayu") == 2
    assert await store.get_session("h1") is None and await store.get_session("h2") is None
    assert await store.get_session("h3") == Session("user", "budi", 200.0, 10.0)
    assert await store.purge_sessions(60.0) == 1  # ana's, lapsed at 50
    assert await store.get_session("c1") is None
    assert await store.get_session("h3") is not None
    assert await store.purge_sessions(60.0) == 0


async def test_strikes_count_in_a_window_and_lock_past_a_limit(store: Store):
    """Strikes count from the first within a window; the strike reaching lock_after locks; a lock outlives it."""
    assert await store.strikes(["k"], 0.0) == [Strikes()]
    for n in (1, 2):
        got = await store.strike("k", 10.0 + n, 60.0, lock_after=3, lock_s=100.0)
        assert (got.count, got.last_at, got.locked_until) == (n, 10.0 + n, 0.0)
    locked = await store.strike("k", 13.0, 60.0, lock_after=3, lock_s=100.0)
    assert locked.count == 3 and locked.locked_until == 113.0
    (now,) = await store.strikes(["k"], 80.0)  # past the window: the lock still holds
    assert now.locked_until == 113.0
    assert await store.strikes(["k", "other"], 120.0) == [Strikes(), Strikes()]  # lapsed
    fresh = await store.strike("k", 120.0, 60.0, lock_after=3, lock_s=100.0)
    assert (fresh.count, fresh.locked_until) == (1, 0.0)
    await store.forgive("k")
    assert await store.strikes(["k"], 121.0) == [Strikes()]


async def test_parallel_strikes_are_all_counted(store: Store):
    """Many strikes at once (as several nodes would): each is counted once."""
    results = await asyncio.gather(*(store.strike("burst", 5.0, 60.0) for _ in range(50)))
    assert sorted(r.count for r in results) == list(range(1, 51))


async def test_a_challenge_is_kept_until_it_lapses_or_is_dropped(store: Store):
    """A one-time code's challenge comes back whole until its expiry; a new one replaces it; drop forgets it."""
    first = Challenge("ana", "ana@x.id", "salt1", "digest1", 100.0)
    await store.put_challenge("verify:ana", first, 10.0)
    assert await store.challenge("verify:ana", 50.0) == first
    assert await store.challenge("verify:ana", 100.0) is None
    second = Challenge("ana", "ana@y.id", "salt2", "digest2", 200.0)
    await store.put_challenge("verify:ana", second, 10.0)
    assert await store.challenge("verify:ana", 50.0) == second
    await store.drop_challenge("verify:ana")
    assert await store.challenge("verify:ana", 50.0) is None
