"""The store port's contract, run against every backend.

Each test speaks only the :class:`~contact_center.store.Store` protocol. ``backend`` names the
implementation; the fixtures (``store``, ``reopen``: see :mod:`tests.stores`) open a store on
fresh data and can open it again on the same data, as a restarted engine would.
"""

from __future__ import annotations

import asyncio

import pytest

from contact_center.exceptions import Conflict, Stale
from contact_center.model import (
    Agent,
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    Customer,
    HistoryEvent,
    IdentityKind,
    Presence,
    Role,
)
from contact_center.store import Changes, NewEvent, Seat, Session, Store
from tests.stores import Opener


def chat(contact_id: str = "c1", customer_id: str = "ana", **kw: object) -> Contact:
    fields: dict[str, object] = {
        "id": contact_id,
        "channel": Channel.CHAT,
        "customer_id": customer_id,
        "state": ContactState.QUEUED,
        "created_at": 10.0,
        "enqueued_at": 10.0,
        "skills": [("general", 2), ("lang_id", 1)],
    } | kw
    return Contact(**fields)  # type: ignore[arg-type]


def agent(username: str, **kw: object) -> Agent:
    fields: dict[str, object] = {
        "id": f"id-{username}",
        "username": username,
        "display_name": username.title(),
        "role": Role.AGENT,
        "skills": {"general": 3, "lang_id": 5},
        "capacity": {"chat": 3, "email": 5},
        "wrap_up_s": 30.0,
    } | kw
    return Agent(**fields)  # type: ignore[arg-type]


async def test_a_customer_is_found_by_id_and_by_each_identity(store: Store):
    """A created customer comes back whole, and each of its identities leads to it; unknown ones to nobody."""
    ana = Customer(
        id="ana",
        name="Ana",
        value=120.0,
        created_at=5.0,
        identities=[(IdentityKind.VISITOR, "v-1"), (IdentityKind.EMAIL, "ana@contoh.co.id")],
    )
    await store.create_customer(ana)
    got = await store.get_customer("ana")
    assert got is not None
    assert (got.id, got.name, got.value, got.created_at) == ("ana", "Ana", 120.0, 5.0)
    assert sorted(got.identities) == sorted(ana.identities)
    assert await store.find_customer(IdentityKind.EMAIL, "ana@contoh.co.id") == "ana"
    assert await store.find_customer(IdentityKind.VISITOR, "v-1") == "ana"
    assert await store.find_customer(IdentityKind.PHONE, "+6281234567") is None
    assert await store.get_customer("nobody") is None


async def test_identities_names_and_values_are_added_and_recorded(store: Store):
    """An added identity finds the customer and is a history event; name and value change independently."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    added = NewEvent("ana", None, None, "identity.added", 2.0, "customer", {"kind": "phone", "value": "+628111"})
    await store.add_identity("ana", IdentityKind.PHONE, "+628111", added)
    assert await store.find_customer(IdentityKind.PHONE, "+628111") == "ana"
    await store.set_customer("ana", name="Ana Lestari", value=None)
    await store.set_customer("ana", name=None, value=300.0)
    got = await store.get_customer("ana")
    assert got is not None and (got.name, got.value) == ("Ana Lestari", 300.0)
    assert [(e.kind, e.data) for e in await store.history("ana")] == [
        ("identity.added", {"kind": "phone", "value": "+628111"})
    ]


async def test_customers_are_found_by_the_start_of_a_word_of_their_name(store: Store):
    """A name's words, any of them, by their start and in any case; a renamed customer under the new name."""
    await store.create_customer(Customer(id="ana", name="Ana Lestari", created_at=1.0))
    await store.create_customer(Customer(id="budi", name="Budi Santoso", created_at=2.0))
    await store.create_customer(Customer(id="anton", created_at=3.0))
    await store.set_customer("anton", name="Anton Wijaya", value=None)
    assert sorted(await store.customers_named("an")) == ["ana", "anton"]
    assert await store.customers_named("LESTA") == ["ana"]
    assert await store.customers_named("santoso") == ["budi"]
    assert await store.customers_named("wij") == ["anton"]
    assert await store.customers_named("zz") == []
    assert await store.customers_named("%") == [] and await store.customers_named("_") == []  # no wildcards
    assert len(await store.customers_named("a", limit=1)) == 1


async def test_a_merge_moves_identities_contacts_and_history_to_the_survivor(store: Store):
    """After a merge the survivor has both histories in order and the higher value; the other is gone."""
    await store.create_customer(
        Customer(id="keep", value=50.0, created_at=1.0, identities=[(IdentityKind.EMAIL, "a@b.id")])
    )
    await store.create_customer(
        Customer(id="gone", value=900.0, created_at=2.0, identities=[(IdentityKind.VISITOR, "v9")])
    )
    await store.record((), [NewEvent("keep", None, "web", "page_view", 3.0, "customer", {"url": "https://a.id/"})])
    await store.add_message(chat("c9", "gone"), "customer", "halo", "m1", 4.0, create=True)
    merged = NewEvent("keep", None, None, "identity.merged", 5.0, "system", {"merged": "gone"})
    await store.merge_customers("keep", "gone", merged)

    assert await store.get_customer("gone") is None
    keep = await store.get_customer("keep")
    assert keep is not None and keep.value == 900.0
    assert await store.find_customer(IdentityKind.VISITOR, "v9") == "keep"
    contact = await store.get_contact("c9")
    assert contact is not None and contact.customer_id == "keep"
    assert [e.kind for e in await store.history("keep")] == ["page_view", "message", "identity.merged"]
    assert await store.history("gone") == []


async def test_a_staged_contact_and_its_event_are_kept_as_they_were_when_staged(store: Store):
    """commit() records the contact as it is at the call, with its event, once durable; later changes wait."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    contact = chat(subject="Pesanan #77", priority=2)
    staged = store.commit(
        Changes(contacts=(contact,), events=(NewEvent("ana", "c1", "chat", "contact.created", 10.0, "customer"),))
    )
    contact.state = ContactState.OFFERED  # a later change, not yet staged
    events = await staged
    assert [(e.kind, e.contact_id) for e in events] == [("contact.created", "c1")]
    got = await store.get_contact("c1")
    assert got is not None
    assert (got.state, got.subject, got.priority, got.skills) == (
        ContactState.QUEUED,
        "Pesanan #77",
        2,
        [("general", 2), ("lang_id", 1)],
    )


async def test_a_committed_unit_is_recorded_whole_and_read_back_as_it_is_now(store: Store):
    """commit() records a unit's contacts, agents' statuses and events together; current() reads them back."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    await store.create_user(agent("ayu"), "hash")
    contact = chat(state=ContactState.ASSIGNED, agent_id="id-ayu", value=250.0, version=1)
    presence = Presence("id-ayu", AgentStatus.AVAILABLE, {"node-a": 1}, {"chat": 1}, idle_since=9.0, version=1)
    event = NewEvent("ana", "c1", "chat", "contact.assigned", 11.0, "agent:id-ayu")
    recorded = await store.commit(Changes((contact,), (presence,), {"contact:c1": 0, "agent:id-ayu": 0}, (event,)))
    assert [e.kind for e in recorded] == ["contact.assigned"] and recorded[0].id > 0
    contacts, presences = await store.current(["c1", "nobody"], ["id-ayu"])
    assert [(c.id, c.state, c.agent_id, c.value) for c in contacts] == [
        ("c1", ContactState.ASSIGNED, "id-ayu", 250.0 if store.shared else 0.0)
    ]
    assert (await store.get_agent("id-ayu")).status == AgentStatus.AVAILABLE  # type: ignore[union-attr]
    if store.shared:  # what several nodes need is kept: versions and presences
        assert contacts[0].version == 1
        assert presences == [presence]
    else:
        assert presences == []
    assert [e.kind for e in await store.history("ana")] == ["contact.assigned"]


async def test_a_unit_made_on_an_old_version_records_nothing_when_the_store_is_shared(store: Store):
    """Two nodes change one contact from the same version: the second commit is refused whole (Stale)."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    first = chat(state=ContactState.OFFERED, version=1)
    await store.commit(Changes((first,), (), {"contact:c1": 0}, (NewEvent("ana", "c1", "chat", "first", 1.0, "x"),)))
    second = chat(state=ContactState.ABANDONED, version=1)
    late = store.commit(Changes((second,), (), {"contact:c1": 0}, (NewEvent("ana", "c1", "chat", "second", 2.0, "x"),)))
    if not store.shared:  # one node: its lock orders changes, there is nothing to check
        await late
        return
    with pytest.raises(Stale, match="contact:c1"):
        await late
    got = await store.get_contact("c1")
    assert got is not None and got.state == ContactState.OFFERED
    assert [e.kind for e in await store.history("ana")] == ["first"]
    assert [c.id for c in await store.open_contacts()] == ["c1"]


async def test_open_contacts_are_the_unfinished_ones_in_queue_order(store: Store):
    """open_contacts() lists queued, offered, assigned and wrap-up contacts by original arrival, with last_seq."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    await store.record(
        [
            chat("late", enqueued_at=30.0),
            chat("early", enqueued_at=20.0, state=ContactState.ASSIGNED, agent_id="id-ayu"),
            chat("done", enqueued_at=10.0, state=ContactState.CLOSED, closed_at=40.0),
            chat("wrap", enqueued_at=25.0, state=ContactState.WRAP_UP, disposition="resolved"),
        ],
        [],
    )
    await store.add_message(chat("early", enqueued_at=20.0), "customer", "halo", "m1", 21.0)
    await store.add_message(chat("early", enqueued_at=20.0), "agent:id-ayu", "ya?", "r1", 22.0)
    found = await store.open_contacts()
    assert [(c.id, c.state) for c in found] == [
        ("early", ContactState.ASSIGNED),
        ("wrap", ContactState.WRAP_UP),
        ("late", ContactState.QUEUED),
    ]
    assert [c.last_seq for c in found] == [2, 0, 0]
    assert found[0].agent_id == "id-ayu" and found[1].disposition == "resolved"
    assert await store.get_contact("nothing") is None


async def test_messages_are_numbered_in_order_once_per_client_id(store: Store):
    """Messages number 1, 2, 3 in call order even within one commit; a repeated client_id changes nothing."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    c = chat()
    created = NewEvent("ana", "c1", "chat", "contact.created", 10.0, "customer")
    writes = [
        store.add_message(c, "customer", "halo", "m1", 11.0, [created], create=True),
        store.add_message(c, "customer", "apa kabar?", "m2", 12.0),
        store.add_message(c, "agent:id-ayu", "baik!", "r1", 13.0),
        store.add_message(c, "customer", "halo", "m1", 14.0),  # a resend
    ]
    results = await asyncio.gather(*writes)
    assert [(e.seq, new) for e, new in results] == [(1, True), (2, True), (3, True), (1, False)]
    assert results[3][0] == results[0][0]  # the resend is answered with the message first recorded
    stored = await store.messages("c1")
    assert [(e.seq, e.actor, e.data["text"], e.client_id) for e in stored] == [
        (1, "customer", "halo", "m1"),
        (2, "customer", "apa kabar?", "m2"),
        (3, "agent:id-ayu", "baik!", "r1"),
    ]
    assert [e.seq for e in await store.messages("c1", after_seq=1)] == [2, 3]
    assert (await store.get_contact("c1")).last_seq == 3  # type: ignore[union-attr]


async def test_the_last_numbers_of_many_conversations_come_in_one_answer(store: Store):
    """What a node asks every second to find messages its sockets missed: 0 for a conversation with none."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    for n, contact_id in enumerate(["c1", "c2"], start=2):
        c = chat(contact_id)
        await store.add_message(c, "customer", "halo", f"{contact_id}-0", 11.0, create=True)
        for i in range(1, n):
            await store.add_message(c, "agent:id-ayu", f"balasan {i}", f"{contact_id}-{i}", 12.0 + i)
    assert await store.last_seqs(["c2", "nope", "c1"]) == {"c2": 3, "nope": 0, "c1": 2}
    many = [f"x{i}" for i in range(1200)] + ["c1"]
    assert (await store.last_seqs(many))["c1"] == 2
    assert await store.last_seqs([]) == {}


async def test_a_burst_of_reads_at_once_is_answered_each_with_its_own_record(store: Store):
    """Hundreds of clients reading at the same moment (a shift logging in) each get their own answer."""
    for i in range(20):
        await store.create_customer(Customer(id=f"cu{i}", name=f"Pelanggan {i}", created_at=float(i)))
    await store.add_message(chat("c1", "cu3"), "customer", "halo", "m1", 11.0, create=True)
    await store.create_session("tok-7", Session("customer", "cu7", 99.0))
    reads = []
    for i in range(400):
        reads.append(store.get_customer(f"cu{i % 25}"))  # some of them unknown
        reads.append(store.messages("c1"))
        reads.append(store.get_session("tok-7" if i % 2 else "no-such-token"))
    answers = await asyncio.gather(*reads)
    for i in range(400):
        customer, messages, session = answers[3 * i : 3 * i + 3]
        if i % 25 < 20:
            assert customer is not None and customer.name == f"Pelanggan {i % 25}"
        else:
            assert customer is None
        assert [m.data["text"] for m in messages] == ["halo"]
        assert session == (Session("customer", "cu7", 99.0) if i % 2 else None)


async def test_a_posted_message_is_told_after_it_is_durable(store: Store):
    """post_message calls back once the message is written, never before it returns, and numbers it as
    add_message would; a repeat is told with new=False."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    c = chat()
    await store.add_message(c, "customer", "halo", "m1", 11.0, create=True)
    told: list[tuple[HistoryEvent, bool] | BaseException] = []
    store.post_message(c, "customer", "dua", "m2", 12.0, told.append)
    store.post_message(c, "customer", "halo", "m1", 13.0, told.append)
    assert told == []
    await store.barrier()
    assert [(o[0].seq, o[1]) for o in told if not isinstance(o, BaseException)] == [(2, True), (1, False)]
    assert [e.data["text"] for e in await store.messages("c1")] == ["halo", "dua"]


async def test_a_conflicting_write_fails_alone_and_the_rest_of_its_commit_is_told(store: Store):
    """A duplicate customer id in a group commit fails with Conflict for its caller alone, nothing of it
    recorded; the messages around it are written and told in order."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    c = chat()
    await store.add_message(c, "customer", "halo", "m0", 11.0, create=True)
    told: list[tuple[HistoryEvent, bool] | BaseException] = []
    store.post_message(c, "customer", "satu", "m1", 12.0, told.append)
    duplicate = asyncio.ensure_future(
        store.create_customer(Customer(id="ana", name="Someone else", identities=[(IdentityKind.EMAIL, "x@y.id")]))
    )
    store.post_message(c, "customer", "dua", "m2", 13.0, told.append)
    with pytest.raises(Conflict):
        await duplicate
    await store.barrier()
    assert [(o[0].seq, o[0].data["text"], o[1]) for o in told if not isinstance(o, BaseException)] == [
        (2, "satu", True),
        (3, "dua", True),
    ]
    assert (await store.get_customer("ana")).name == ""  # type: ignore[union-attr]
    assert await store.find_customer(IdentityKind.EMAIL, "x@y.id") is None


async def test_a_taken_username_is_refused(store: Store):
    """A second account with a username already taken fails with Conflict; the first is untouched."""
    await store.create_user(agent("ayu"), "hash-1")
    with pytest.raises(Conflict):
        await store.create_user(agent("ayu", id="id-other"), "hash-2")
    found = await store.user_by_name("ayu")
    assert found is not None and found[0].id == "id-ayu" and found[1] == "hash-1"
    assert await store.get_agent("id-other") is None


async def test_history_is_every_event_of_a_customer_in_order_with_paging(store: Store):
    """history() returns messages and other events in order, newest page first, older pages by id."""
    await store.create_customer(Customer(id="ana", created_at=1.0))
    await store.create_customer(Customer(id="budi", created_at=1.0))
    await store.add_message(chat(), "customer", "halo", "m1", 11.0, create=True)
    await store.record((), [NewEvent("ana", None, "web", "page_view", 12.0, "customer", {"url": "https://x.id/"})])
    await store.record((), [NewEvent("budi", None, "web", "page_view", 12.5, "customer", {"url": "https://y.id/"})])
    await store.add_message(chat(), "agent:id-ayu", "ada yang bisa dibantu?", "r1", 13.0)
    await store.record(
        [chat(state=ContactState.OFFERED)], [NewEvent("ana", "c1", "chat", "contact.offered", 14.0, "system")]
    )
    every = await store.history("ana")
    assert [(e.kind, e.at) for e in every] == [
        ("message", 11.0),
        ("page_view", 12.0),
        ("message", 13.0),
        ("contact.offered", 14.0),
    ]
    assert [e.kind for e in await store.history("ana", limit=2)] == ["message", "contact.offered"]
    older = await store.history("ana", limit=10, before_id=every[2].id)
    assert [e.at for e in older] == [11.0, 12.0]
    assert [e.customer_id for e in every] == ["ana"] * 4


async def test_accounts_are_found_by_name_and_id_and_keep_their_status(store: Store):
    """Users come back with their password hash, skills and capacity; status changes are kept; listing is by name."""
    await store.create_user(agent("budi"), "hash-b")
    await store.create_user(agent("ayu", role=Role.SUPERVISOR), "hash-a")
    found = await store.user_by_name("ayu")
    assert found is not None
    ayu, pw_hash = found
    assert (ayu.id, ayu.role, ayu.skills, ayu.capacity, ayu.wrap_up_s, pw_hash) == (
        "id-ayu",
        Role.SUPERVISOR,
        {"general": 3, "lang_id": 5},
        {"chat": 3, "email": 5},
        30.0,
        "hash-a",
    )
    away, available = Presence("id-budi", AgentStatus.AWAY), Presence("id-ayu", AgentStatus.AVAILABLE)
    await store.commit(Changes(presences=(away,)))
    await store.commit(Changes(presences=(available,)))
    assert (await store.get_agent("id-budi")).status == AgentStatus.AWAY  # type: ignore[union-attr]
    assert [(a.username, a.status) for a in await store.list_agents()] == [
        ("ayu", AgentStatus.AVAILABLE),
        ("budi", AgentStatus.AWAY),
    ]
    assert await store.user_by_name("nobody") is None
    assert await store.get_agent("id-nobody") is None


async def test_sessions_are_kept_until_deleted(store: Store):
    """A session is found by its token hash with its kind, subject and expiry, and is gone once deleted."""
    await store.create_session("h1", Session("user", "id-ayu", 1000.0))
    await store.create_session("h2", Session("customer", "ana", 2000.0))
    assert await store.get_session("h1") == Session("user", "id-ayu", 1000.0)
    await store.delete_session("h1")
    assert await store.get_session("h1") is None
    assert await store.get_session("h2") == Session("customer", "ana", 2000.0)


async def test_everything_acknowledged_is_there_after_a_restart(reopen: Opener):
    """What a store acknowledged is found by a store opened afresh on the same data."""
    first = await reopen()
    await first.create_customer(Customer(id="ana", created_at=1.0, identities=[(IdentityKind.EMAIL, "a@b.id")]))
    c = chat()
    await first.add_message(c, "customer", "halo", "m1", 11.0, create=True)
    told: list[object] = []
    first.post_message(c, "customer", "masih di sana?", "m2", 12.0, told.append)
    await first.create_user(agent("ayu"), "hash")
    await first.create_session("h", Session("user", "id-ayu", 99.0))
    await first.barrier()
    await first.close()

    again = await reopen()
    assert await again.find_customer(IdentityKind.EMAIL, "a@b.id") == "ana"
    assert [e.data["text"] for e in await again.messages("c1")] == ["halo", "masih di sana?"]
    assert [c.id for c in await again.open_contacts()] == ["c1"]
    assert await again.get_session("h") == Session("user", "id-ayu", 99.0)
    assert (await again.user_by_name("ayu")) is not None
    # numbering goes on from the file, and a resend from before the restart is still recognised
    third, new = await again.add_message(c, "customer", "tiga", "m3", 13.0)
    resent, again_new = await again.add_message(c, "customer", "masih di sana?", "m2", 14.0)
    assert (third.seq, new, resent.seq, again_new) == (3, True, 2, False)


async def test_a_set_of_limited_room_takes_places_up_to_its_capacity_and_a_full_one_fails_the_whole_unit(
    reopen: Opener,
):
    """Two places in a slot of room two are taken; a third fails its unit whole (the contact is not
    recorded either); a place given back frees room; a taken place is taken again at no cost."""
    store = await reopen()
    for n in (1, 2):
        await store.commit(Changes(contacts=(chat(f"c{n}"),), seats=(Seat("slot:100", f"c{n}", 2),)))
    with pytest.raises(Conflict, match="full"):
        await store.commit(Changes(contacts=(chat("c3"),), seats=(Seat("slot:100", "c3", 2),)))
    assert await store.get_contact("c3") is None
    await store.commit(Changes(seats=(Seat("slot:100", "c1", 2),)))  # held already: nothing changes
    assert await store.seats_taken(["slot:100", "slot:200"]) == {"slot:100": 2, "slot:200": 0}
    await store.commit(Changes(seats=(Seat("slot:100", "c1"),)))
    await store.commit(Changes(contacts=(chat("c3"),), seats=(Seat("slot:100", "c3", 2),)))
    again = await reopen()
    assert await again.seat_holders("slot:100") == ["c2", "c3"]
    assert await again.get_contact("c3") is not None


async def test_a_series_numbers_from_one_each_on_its_own_and_goes_on_after_a_restart(reopen: Opener):
    store = await reopen()
    assert [await store.next_in_series("2026-12-03") for _ in range(3)] == [1, 2, 3]
    assert await store.next_in_series("2026-12-04") == 1
    assert await (await reopen()).next_in_series("2026-12-03") == 4


async def test_a_secret_is_made_once_and_the_same_after_a_restart(reopen: Opener):
    store = await reopen()
    key = await store.secret("callback-links")
    assert len(key) == 64 and key == await store.secret("callback-links") != await store.secret("other")
    assert await (await reopen()).secret("callback-links") == key
