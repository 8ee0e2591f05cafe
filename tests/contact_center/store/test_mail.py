"""The store port's email contract, on every backend: mails with their contacts, mailboxes' cursors,
threads, tickets, quarantine and the outbox."""

from __future__ import annotations

import dataclasses
import math

import pytest

from contact_center.exceptions import Conflict
from contact_center.mail import (
    Direction,
    MailRecord,
    MailSource,
    Outbound,
    OutboundState,
    StoredAttachment,
    ThreadEntry,
    TicketView,
)
from contact_center.model import Channel, ContactState, Customer, IdentityKind
from contact_center.store import Changes, NewEvent, Store
from tests.contact_center.store.test_conformance import chat
from tests.stores import Opener

RAW = b"From: ana@contoh.co.id\r\nSubject: Paket belum sampai\r\n\r\nHalo, paket saya belum sampai.\r\n"


def fetched(mail_id: str, uid: int, contact_id: str | None = "e1", **kw: object) -> MailRecord:
    fields: dict[str, object] = {
        "id": mail_id,
        "direction": Direction.IN,
        "at": 100.0 + uid,
        "message_id": f"<{mail_id}@contoh.co.id>",
        "digest": f"digest-{mail_id}",
        "raw": RAW,
        "summary": {"subject": "Paket belum sampai", "from": "ana@contoh.co.id"},
        "source": MailSource("support", 7, uid),
        "contact_id": contact_id,
        "customer_id": "ana" if contact_id else None,
        "ticket": "T-1" if contact_id else "",
        "thread_ids": (f"<{mail_id}@contoh.co.id>",) if contact_id else (),
    } | kw
    return MailRecord(**fields)  # type: ignore[arg-type]


def email_contact(contact_id: str = "e1", **kw: object):  # type: ignore[no-untyped-def]
    return chat(contact_id, channel=Channel.EMAIL, ticket="T-1", version=1, **kw)


def arrival(mail: MailRecord, contact_id: str = "e1") -> Changes:
    event = NewEvent("ana", contact_id, "email", "email.received", mail.at, "customer", {"mail_id": mail.id})
    return Changes(contacts=(email_contact(contact_id),), expected={f"contact:{contact_id}": 0}, events=(event,),
                   mails=(mail,))  # fmt: skip


def outbound(key: str, **kw: object) -> Outbound:
    fields: dict[str, object] = {
        "id": f"o-{key}",
        "key": key,
        "kind": "ack",
        "mail_id": f"m-{key}",
        "contact_id": "e1",
        "sender": "support@toko.id",
        "recipients": ("ana@contoh.co.id",),
        "raw": b"Subject: [T-1] Kami sudah menerima email Anda\r\n\r\nTerima kasih.\r\n",
        "created_at": 200.0,
        "next_at": 200.0,
    } | kw
    return Outbound(**fields)  # type: ignore[arg-type]


async def _customer(store: Store) -> None:
    await store.create_customer(Customer(id="ana", created_at=1.0))


NOBODY = "nobody@contoh.co.id"


async def thread(store: Store, message_ids: list[str]) -> list[ThreadEntry]:
    """The known mails among ``message_ids``, as filing a mail reads them."""
    return list((await store.filing_context(message_ids, NOBODY, "", NOBODY, 0.0)).entries)


async def ticket_contact(store: Store, ticket: str) -> str | None:
    """The ticket's latest contact, as filing a mail that names it reads it."""
    view = (await store.filing_context([], NOBODY, ticket, NOBODY, 0.0)).tickets.get(ticket)
    return None if view is None else view.latest


async def test_a_fetched_mail_is_recorded_with_its_contact_and_found_by_its_message_id(store: Store):
    """The mail's bytes, attachments (kept or refused with the reason), thread, ticket and cursor all come back."""
    await _customer(store)
    photo = StoredAttachment("foto paket.jpg", "image/jpeg", 4, b"\xff\xd8\xff\x00", content_id="<p1>", inline=True)
    huge = StoredAttachment("video.mp4", "video/mp4", 90_000_000, None, refused="90000000 bytes, over the 25 MB limit")
    mail = fetched("m1", uid=3, attachments=(photo, huge))
    [event] = await store.commit(arrival(mail))
    assert event.kind == "email.received" and event.data == {"mail_id": "m1"}

    got = await store.mail("m1")
    assert got == mail
    assert await store.mails_of("e1", whole=True) == [mail]
    [light] = await store.mails_of("e1")  # what the desk and a reply need: no bytes read
    assert light == dataclasses.replace(mail, raw=b"", attachments=tuple(
        dataclasses.replace(a, data=None) for a in mail.attachments))  # fmt: skip
    assert await store.mailbox_cursor("support") == (7, 3)
    assert await store.mailbox_cursor("sales") is None
    [entry] = await thread(store, ["<unknown@x>", "<m1@contoh.co.id>"])
    assert (entry.mail_id, entry.contact_id, entry.ticket, entry.digest) == ("m1", "e1", "T-1", "digest-m1")
    assert await ticket_contact(store, "T-1") == "e1"
    contact = await store.get_contact("e1")
    assert contact is not None and (contact.channel, contact.ticket) == (Channel.EMAIL, "T-1")


async def test_the_same_place_in_a_mailbox_is_refused_and_nothing_of_that_unit_is_recorded(reopen: Opener):
    """A second unit with a recorded (mailbox, UIDVALIDITY, UID) fails whole, also after a restart."""
    store = await reopen()
    await _customer(store)
    await store.commit(arrival(fetched("m1", uid=3)))
    again = fetched("m1b", uid=3, thread_ids=("<other@x>",))
    with pytest.raises(Conflict, match="support UID 3"):
        await store.commit(arrival(again, contact_id="e2"))
    restarted = await reopen()
    with pytest.raises(Conflict):
        await restarted.commit(arrival(again, contact_id="e2"))
    assert await restarted.get_contact("e2") is None
    assert await restarted.mail("m1b") is None
    assert await thread(restarted, ["<other@x>"]) == []
    assert [e.data["mail_id"] for e in await restarted.history("ana")] == ["m1"]
    assert await restarted.mailbox_cursor("support") == (7, 3)


async def test_the_cursor_keeps_the_highest_uid_and_starts_over_with_a_new_uidvalidity(store: Store):
    """UIDs recorded out of order leave the highest; a mailbox rebuilt (new UIDVALIDITY) starts again."""
    await _customer(store)
    for mail_id, uid in (("a", 9), ("b", 4)):
        await store.commit(Changes(mails=(fetched(mail_id, uid, contact_id=None, quarantine="junk"),)))
    assert await store.mailbox_cursor("support") == (7, 9)
    rebuilt = fetched("c", 2, contact_id=None, quarantine="junk", source=MailSource("support", 8, 2))
    await store.commit(Changes(mails=(rebuilt,)))
    assert await store.mailbox_cursor("support") == (8, 2)


async def test_quarantined_mail_is_listed_newest_first_with_its_reason(store: Store):
    """A mail that could not be read belongs to no contact and is listed for supervisors, bytes kept."""
    for mail_id, uid in (("q1", 1), ("q2", 2)):
        junk = fetched(mail_id, uid, contact_id=None, raw=b"\x00\x01junk", quarantine="binary junk, not an email")
        await store.commit(Changes(mails=(junk,)))
    listed = await store.quarantined()
    assert [(m.id, m.quarantine, m.raw) for m in listed] == [
        ("q2", "binary junk, not an email", b"\x00\x01junk"),
        ("q1", "binary junk, not an email", b"\x00\x01junk"),
    ]
    assert [m.id for m in await store.quarantined(limit=1)] == ["q2"]


async def test_the_first_mail_under_a_message_id_keeps_it(store: Store):
    """A later mail indexed under the same Message-ID does not take the thread away from the first."""
    await _customer(store)
    await store.commit(arrival(fetched("m1", 1, thread_ids=("<same@x>",))))
    await store.commit(arrival(fetched("m2", 2, contact_id="e2", thread_ids=("<same@x>",)), contact_id="e2"))
    [entry] = await thread(store, ["<same@x>"])
    assert (entry.mail_id, entry.contact_id) == ("m1", "e1")


async def test_a_ticket_leads_to_its_latest_contact(store: Store):
    """A thread that reopens as a new contact moves its ticket there; an older mail recorded later does not."""
    await _customer(store)
    await store.commit(arrival(fetched("m1", 1, at=100.0)))
    await store.commit(arrival(fetched("m2", 2, at=300.0, contact_id="e2"), contact_id="e2"))
    await store.commit(Changes(mails=(fetched("m0", 3, at=50.0, thread_ids=()),)))
    assert await ticket_contact(store, "T-1") == "e2"


async def test_ticket_numbers_are_never_given_twice(reopen: Opener):
    """Numbers rise, also across a restart."""
    store = await reopen()
    first = [await store.next_ticket() for _ in range(3)]
    again = await (await reopen()).next_ticket()
    assert first == sorted(first) and len(set(first)) == 3 and again > first[-1]


async def test_the_outbox_hands_out_due_mail_once_per_key_and_keeps_each_attempt(store: Store):
    """A queued mail is due at its time; its key cannot be queued twice; a sent one is no longer due."""
    await _customer(store)
    ack = outbound("ack:T-1", next_at=200.0)
    reply = outbound("reply:r1", kind="reply", next_at=260.0)
    mail = fetched("m1", 1)
    await store.commit(dataclasses.replace(arrival(mail), outbound=(ack,)))
    await store.commit(Changes(outbound=(reply,)))
    assert [o.id for o in await store.outbound_due(199.0)] == []
    assert await store.outbound_due(200.0) == [ack]
    assert [o.key for o in await store.outbound_due(300.0)] == ["ack:T-1", "reply:r1"]

    with pytest.raises(Conflict, match="ack:T-1"):
        await store.commit(
            dataclasses.replace(arrival(fetched("m2", 2), "e2"), outbound=(outbound("ack:T-1", id="x"),))
        )
    assert await store.get_contact("e2") is None and await store.mail("m2") is None

    retry = dataclasses.replace(ack, attempts=1, next_at=230.0, last_error="451 try later")
    await store.update_outbound(retry)
    assert [o.id for o in await store.outbound_due(220.0)] == []
    assert await store.outbound_due(230.0) == [retry]
    sent = dataclasses.replace(retry, attempts=2, state=OutboundState.SENT, sent_at=231.0)
    await store.update_outbound(sent)
    assert [o.key for o in await store.outbound_due(1e9)] == ["reply:r1"]


async def test_acknowledgements_to_an_address_are_counted_from_a_moment_on(store: Store):
    """Filing counts the acknowledgements queued to the address (and its domain) after ``since``, not replies."""
    for n, at in enumerate((100.0, 200.0, 300.0)):
        await store.commit(Changes(outbound=(outbound(f"ack:T-{n}", created_at=at),)))
    await store.commit(Changes(outbound=(outbound("reply:r", kind="reply", created_at=250.0),)))
    acked = await store.filing_context([], NOBODY, "", "ana@contoh.co.id", 150.0)
    assert (acked.acks_to_address, acked.acks_to_domain) == (2, 2)
    other = await store.filing_context([], NOBODY, "", "budi@contoh.co.id", 0.0)
    assert (other.acks_to_address, other.acks_to_domain) == (0, 3)  # budi's domain is ana's


async def test_filing_reads_the_sender_and_the_tickets_named_in_one_go(store: Store):
    """The customer the address names (with its value), each named ticket's latest contact and its customer,
    and, for a sender who is not that customer, whom agents copied on it; a ticket of no contact is left out."""
    await store.create_customer(Customer(id="ana", value=5000.0, created_at=1.0,
                                         identities=[(IdentityKind.EMAIL, "ana@contoh.co.id")]))  # fmt: skip
    await store.commit(arrival(fetched("m1", 1)))
    reply = fetched("r1", 2, direction=Direction.OUT, source=None, thread_ids=("<r1@contoh.co.id>",),
                    summary={"subject": "Re: Paket", "cc": ["budi@contoh.co.id"]})  # fmt: skip
    await store.commit(Changes(mails=(reply,)))
    ana = await store.filing_context(["<m1@contoh.co.id>"], "ana@contoh.co.id", "T-9", NOBODY, 0.0)
    assert (ana.customer_id, ana.value) == ("ana", 5000.0)
    assert [e.mail_id for e in ana.entries] == ["m1"]
    assert ana.tickets == {"T-1": TicketView("T-1", "e1", "ana")}  # T-9 has no contact
    budi = await store.filing_context(["<r1@contoh.co.id>"], "budi@contoh.co.id", "", NOBODY, 0.0)
    assert (budi.customer_id, budi.value) == (None, 0.0)
    assert budi.tickets == {"T-1": TicketView("T-1", "e1", "ana", frozenset({"budi@contoh.co.id"}))}


async def test_a_contacts_ticket_and_first_response_are_kept(store: Store):
    """The email contact's ticket and answered_at survive like its other fields."""
    await _customer(store)
    contact = email_contact(state=ContactState.ASSIGNED, agent_id="a1", answered_at=150.5, breached_at=140.0)
    await store.commit(Changes(contacts=(contact,), expected={"contact:e1": 0}))
    got = await store.get_contact("e1")
    assert got is not None and (got.ticket, got.answered_at, got.breached_at) == ("T-1", 150.5, 140.0)


async def test_first_responses_give_each_email_contacts_arrival_and_answer_in_a_span(store: Store):
    """Email contacts arrived in [since, until) with their first response (None: unanswered); chats are left out."""
    await _customer(store)
    rows = [
        email_contact("e1", created_at=100.0, answered_at=150.0),
        email_contact("e2", created_at=200.0),
        email_contact("e3", created_at=300.0, answered_at=900.0),
        chat("c1", created_at=250.0),
    ]
    await store.commit(Changes(contacts=tuple(rows), expected={f"contact:{c.id}": 0 for c in rows}))
    assert await pairs(store, 150.0, 301.0) == [(200.0, None), (300.0, 900.0)]
    answered = dataclasses.replace(rows[1], answered_at=260.0, version=2)
    await store.commit(Changes(contacts=(answered,), expected={"contact:e2": 1}))
    assert await pairs(store, 0.0, 1e9) == [(100.0, 150.0), (200.0, 260.0), (300.0, 900.0)]


async def pairs(store: Store, since: float, until: float) -> list[tuple[float, float | None]]:
    arrived, answered = await store.first_responses(since, until)
    found = [(float(a), None if math.isnan(b) else float(b)) for a, b in zip(arrived, answered, strict=True)]
    return sorted(found, key=lambda p: p[0])


async def test_ratings_give_each_rated_contacts_start_and_score_in_a_span(store: Store):
    """A rating, once committed with its contact, is read back by the contact's start; unrated ones are left out."""
    await _customer(store)
    rows = [chat(f"c{n}", created_at=n * 100.0, version=1) for n in (1, 2, 3)]
    await store.commit(Changes(contacts=tuple(rows), expected={f"contact:{c.id}": 0 for c in rows}))
    started, scores = await store.ratings(0.0, 1e9)
    assert len(started) == 0 and len(scores) == 0
    rated = [dataclasses.replace(rows[0], rating=5, version=2), dataclasses.replace(rows[2], rating=2, version=2)]
    await store.commit(Changes(contacts=tuple(rated), expected={"contact:c1": 1, "contact:c3": 1}))
    started, scores = await store.ratings(0.0, 1e9)
    assert sorted(zip(started.tolist(), scores.tolist(), strict=True)) == [(100.0, 5), (300.0, 2)]
    started, scores = await store.ratings(150.0, 300.0)  # [since, until)
    assert started.tolist() == [] and scores.tolist() == []
