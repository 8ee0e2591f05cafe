"""Callbacks as a customer and an agent live them, on the engine with a manual clock: a queue number and a
place, one callback per number however it is written, a slot never booked past its room, links that work
once for their one purpose, and the agent's outcome: over, or tried again in working time until the last try."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from email import message_from_bytes
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from channels.callback.service import Booking, Callbacks
from channels.email import MailComposer
from contact_center.exceptions import ClientError, Forbidden, NotFound
from contact_center.model import Agent, ContactState, IdentityKind
from contact_center.store import NewEvent
from tests.conftest import EngineEnv, make_config, make_engine_env

JAKARTA = ZoneInfo("Asia/Jakarta")
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=JAKARTA).timestamp()
HOURS = {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(day: str, clock: str) -> float:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=JAKARTA).timestamp()


@pytest.fixture
async def cb(tmp_path: Path) -> AsyncIterator[tuple[EngineEnv, Callbacks]]:
    config = make_config(
        tmp_path,
        sla={"time_zone": "Asia/Jakarta", "holidays": "ID", "hours": HOURS},
        callback={"calls_per_agent": 1, "agents": 1, "lead_s": 120, "attempts": 3, "retry_delay_s": 900},
    )
    env = await make_engine_env(config)
    env.clock.advance(MONDAY_9 - env.clock.now())
    callbacks = Callbacks(env.engine, env.store, config, env.clock, MailComposer(config.email, config.sla.calendar))
    await callbacks.start()
    yield env, callbacks
    env.engine.stop()
    await env.store.close()


async def caller(env: EngineEnv) -> str:
    return (await env.engine.new_visitor()).id


async def calling(env: EngineEnv, agent: Agent, booking: Booking) -> None:
    """The agent is offered the callback and takes it."""
    await env.settle()
    contact = env.engine.contact(booking.contact_id)
    assert contact.state == ContactState.OFFERED and contact.offer.agent_id == agent.id
    await env.engine.accept(agent.id, contact.offer.id)


async def test_as_soon_as_possible_gives_a_queue_number_and_a_place_that_moves_up(cb):
    env, callbacks = cb
    first = await callbacks.request(await caller(env), "0812 3456 7890", language="id")
    env.clock.advance(5)
    second = await callbacks.request(await caller(env), "+62 813-1111-2222", language="en")
    assert (first.queue_number, first.phone, first.state, first.place) == ("C-001", "+6281234567890", "queued", 1)
    assert (second.queue_number, second.place, second.slot) == ("C-002", 2, None)
    assert set(first.links) == {"cancel", "reschedule"} and env.engine.waiting() == [first.contact_id,
                                                                                    second.contact_id]  # fmt: skip
    await callbacks.cancel(first.links["cancel"])
    second_customer = env.engine.contact(second.contact_id).customer_id
    assert (await callbacks.status(second_customer, second.contact_id)).place == 1
    with pytest.raises(NotFound):  # someone else's callback is not theirs to see
        await callbacks.status(second_customer, first.contact_id)
    first_customer = (await env.store.get_contact(first.contact_id)).customer_id
    gone = await callbacks.status(first_customer, first.contact_id)  # over: still theirs to see, without links
    assert (gone.queue_number, gone.state, gone.outcome, gone.links) == ("C-001", "closed", "cancelled", {})


async def test_one_number_has_one_callback_however_it_is_written_and_a_stranger_learns_nothing_of_it(cb):
    env, callbacks = cb
    customer = await caller(env)
    booked = await callbacks.request(customer, "081234567890")
    again = await callbacks.request(customer, "+62 812 3456 7890", at("2026-12-08", "10:00"))
    assert again.merged and again.contact_id == booked.contact_id and again.state == "queued"
    with pytest.raises(ClientError) as raised:
        await callbacks.request(await caller(env), "(0812) 3456-7890")
    assert raised.value.code == "callback_exists" and "arranged already" in str(raised.value)
    assert env.engine.waiting() == [booked.contact_id]
    await callbacks.cancel(booked.links["cancel"])  # over: the number may ask again
    assert not (await callbacks.request(await caller(env), "081234567890")).merged


async def test_a_slot_takes_as_many_callbacks_as_its_room_and_a_cancel_frees_a_place(cb):
    env, callbacks = cb
    ten = at("2026-12-08", "10:00")
    assert next(s for s in await callbacks.open_slots() if s.start == ten).free == 1
    kept = await callbacks.request(await caller(env), "081234567890", ten)
    assert (kept.state, kept.slot, kept.due_at) == ("scheduled", ten, ten - 120)
    assert ten not in {s.start for s in await callbacks.open_slots()}
    with pytest.raises(ClientError) as raised:
        await callbacks.request(await caller(env), "081311112222", ten)
    assert raised.value.detail["problem"] == "full"
    for wrong, problem in ((at("2026-12-06", "10:00"), "too_soon"), (at("2026-12-12", "10:00"), "closed"),
                           (at("2026-12-08", "10:10"), "not_a_slot"), ("tomorrow", "not_a_slot")):  # fmt: skip
        with pytest.raises(ClientError) as raised:
            await callbacks.request(await caller(env), "081399998888", wrong)
        assert raised.value.detail["problem"] == problem
    assert env.engine.floor().scheduled_total == 1 and env.engine.waiting() == []
    await callbacks.cancel(kept.links["cancel"])
    assert (await callbacks.request(await caller(env), "081311112222", ten)).state == "scheduled"


async def test_a_link_works_once_for_its_own_purpose_and_a_forged_one_not_at_all(cb):
    env, callbacks = cb
    booked = await callbacks.request(await caller(env), "081234567890", at("2026-12-08", "10:00"))
    cancel, move = booked.links["cancel"], booked.links["reschedule"]
    with pytest.raises(Forbidden):
        await callbacks.reschedule(cancel, at("2026-12-08", "11:00"))  # a cancel link moves nothing
    contact_id, nonce, signature = cancel.split(".")
    for forged in (f"{contact_id}.{nonce}.{'0' * len(signature)}", f"{contact_id}x.{nonce}.{signature}", "", 42):
        with pytest.raises(Forbidden):
            await callbacks.cancel(forged)
    moved = await callbacks.reschedule(move, at("2026-12-08", "11:00"))
    assert (moved.slot, moved.state, moved.links["reschedule"] != move) == (at("2026-12-08", "11:00"),
                                                                           "scheduled", True)  # fmt: skip
    assert at("2026-12-08", "10:00") in {s.start for s in await callbacks.open_slots()}  # its old place freed
    for used in (move, cancel):  # the links before the move are spent
        with pytest.raises(Forbidden):
            await callbacks.cancel(used) if used == cancel else await callbacks.reschedule(used, at("2026-12-08",
                                                                                                  "12:00"))  # fmt: skip
    over = await callbacks.cancel(moved.links["cancel"])
    assert (over.state, over.outcome) == ("closed", "cancelled")
    with pytest.raises(Forbidden):
        await callbacks.cancel(moved.links["cancel"])


async def test_no_answer_is_tried_again_in_working_time_and_the_last_failure_closes_it_with_the_reason(cb):
    env, callbacks = cb
    agent = await env.add_agent("sari", capacity={"callback": 1})
    await env.online(agent)
    customer = await caller(env)
    booking = await callbacks.request(customer, "081234567890")
    await calling(env, agent, booking)
    after_first = await callbacks.outcome(agent.id, booking.contact_id, "no_answer")
    assert (after_first.state, after_first.due_at, after_first.agent_id) == (ContactState.SCHEDULED,
                                                                            env.clock.now() + 900, None)  # fmt: skip
    assert env.inbox[f"agent:{agent.id}"][-1]["state"] == "scheduled"
    env.clock.advance(900)
    await calling(env, agent, booking)
    assert (await callbacks.outcome(agent.id, booking.contact_id, "busy")).details["failed"] == 2
    env.clock.advance(900)
    await calling(env, agent, booking)
    last = await callbacks.outcome(agent.id, booking.contact_id, "no_answer")
    assert (last.state, last.disposition) == (ContactState.WRAP_UP, "no_answer (3 of 3 tries)")
    kinds = [e.kind for e in await env.engine.history(customer) if e.contact_id == booking.contact_id]
    assert kinds.count("callback.outcome") == 3 and kinds.count("callback.retry") == 2
    env.clock.advance(10)  # the wrap-up ends: the number's place is free again
    await env.settle()
    assert not (await callbacks.request(customer, "081234567890")).merged


async def test_reached_wraps_up_and_call_back_later_books_the_hour_agreed(cb):
    env, callbacks = cb
    agent = await env.add_agent("budi", capacity={"callback": 1})
    await env.online(agent)
    booking = await callbacks.request(await caller(env), "081234567890")
    await calling(env, agent, booking)
    with pytest.raises(ClientError) as raised:
        await callbacks.outcome(agent.id, booking.contact_id, "call_back_later")  # which hour?
    assert raised.value.detail["field"] == "at"
    with pytest.raises(ClientError):
        await callbacks.outcome(agent.id, booking.contact_id, "maybe")
    later = await callbacks.outcome(agent.id, booking.contact_id, "call_back_later", at("2026-12-08", "14:00"))
    assert (later.state, later.details["slot"], later.due_at) == (ContactState.SCHEDULED, at("2026-12-08", "14:00"),
                                                                 at("2026-12-08", "14:00") - 120)  # fmt: skip
    other = await env.add_agent("ani", capacity={"callback": 1})
    with pytest.raises(ClientError):
        await callbacks.outcome(other.id, booking.contact_id, "reached")  # not theirs
    env.clock.advance(later.due_at - env.clock.now())
    await calling(env, agent, booking)
    done = await callbacks.outcome(agent.id, booking.contact_id, "reached")
    assert (done.state, done.disposition) == (ContactState.WRAP_UP, "reached")


async def test_a_customer_may_have_only_so_many_callbacks_open_to_other_numbers(cb):
    env, callbacks = cb
    customer = await caller(env)
    for number in ("081234567890", "081311112222"):
        await callbacks.request(customer, number)
    with pytest.raises(ClientError) as raised:
        await callbacks.request(customer, "081399998888")
    assert (raised.value.code, raised.value.detail["limit"]) == ("too_many_callbacks", 2)
    assert len(env.engine.waiting()) == 2


async def test_a_customer_whose_address_is_proven_is_mailed_the_confirmation_with_links_that_work(cb):
    env, callbacks = cb
    ana, claimer = await caller(env), await caller(env)
    proof = NewEvent(ana, None, None, "identity.linked", env.clock.now(), "system")
    await env.store.add_identity(ana, IdentityKind.EMAIL, "ana@example.com", proof)
    await env.store.add_claim(claimer, IdentityKind.EMAIL, "boss@example.com", proof)
    booked = await callbacks.request(ana, "081234567890", at("2026-12-08", "10:00"), language="id")
    await callbacks.request(claimer, "081311112222")  # only a claim: no mail to an address nobody proved
    (mail,) = await env.store.outbound_due(env.clock.now() + 1)
    assert mail.recipients == ("ana@example.com",) and mail.kind == "notice"
    text = message_from_bytes(mail.raw).get_payload(decode=True).decode()
    assert f"Nomor antrean Anda {booked.queue_number}." in text and "Selasa, 8 Desember 2026 pukul 10.00 WIB" in text
    cancel = re.search(r"#cancel=(\S+)", text).group(1)
    assert unquote(cancel) == booked.links["cancel"]
    moved = await callbacks.reschedule(
        unquote(re.search(r"#reschedule=(\S+)", text).group(1)), at("2026-12-08", "11:00")
    )
    mails = await env.store.outbound_due(env.clock.now() + 1)
    assert len(mails) == 2 and moved.links["cancel"] in unquote(message_from_bytes(mails[1].raw).get_payload(
        decode=True).decode())  # a new confirmation with the new links  # fmt: skip
    with pytest.raises(Forbidden):
        await callbacks.cancel(unquote(cancel))  # the first mail's link is spent
