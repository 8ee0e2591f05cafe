"""Contacts that wait for their time: out of the queue and counted as scheduled, into it at their time with
their place kept, across a restart; and on two nodes, released once by a survivor when the node that
scheduled it dies."""

from __future__ import annotations

import asyncio
import dataclasses

from contact_center.model import Channel, Contact, ContactState
from tests.conftest import EngineEnv, make_engine_env


def callback(customer_id: str, now: float, due_in: float) -> Contact:
    contact = Contact.arriving(Channel.CALLBACK, customer_id, [("general", 1)], 0.0, now,
                               details={"phone": "+6281234567890"})  # fmt: skip
    contact.state, contact.due_at = ContactState.SCHEDULED, now + due_in
    return contact


async def test_a_scheduled_contact_waits_out_of_the_queue_then_enters_it_at_its_place(env: EngineEnv):
    customer = await env.engine.new_visitor()
    early = await env.engine.schedule(callback(customer.id, env.clock.now(), 600), "customer")
    env.clock.advance(60)
    later = await env.engine.schedule(callback(customer.id, env.clock.now(), 300), "customer")
    await env.settle()
    assert env.engine.waiting() == [] and env.engine.floor().scheduled_total == 2
    env.clock.advance(299)  # later's time (it was booked 60 s after early)
    await env.settle()
    assert env.engine.waiting() == [] and env.engine.contact(later.id).state == ContactState.SCHEDULED
    env.clock.advance(1)
    await env.settle()
    assert env.engine.waiting() == [later.id] and env.engine.floor().scheduled_total == 1
    env.clock.advance(240)
    await env.settle()
    assert env.engine.waiting() == [early.id, later.id]  # each at its original place: early was first
    kinds = [e.kind for e in await env.engine.history(customer.id) if e.contact_id == early.id]
    assert kinds == ["contact.scheduled", "contact.due"]
    assert env.engine.contact(early.id).details == {"phone": "+6281234567890"}


async def test_a_restart_keeps_what_is_scheduled_and_releases_it_on_time(env: EngineEnv, config):
    customer = await env.engine.new_visitor()
    waiting = await env.engine.schedule(callback(customer.id, env.clock.now(), 120), "customer")
    env.engine.stop()
    again = await make_engine_env(config, env.clock)
    try:
        found = again.engine.contact(waiting.id)
        assert found is not None and found.state == ContactState.SCHEDULED and found.due_at == waiting.due_at
        assert found.details == {"phone": "+6281234567890"} and again.engine.waiting() == []
        again.clock.advance(120)
        await again.settle()
        assert again.engine.waiting() == [waiting.id]
    finally:
        again.engine.stop()
        await again.store.close()


async def test_a_scheduled_contact_of_a_node_that_died_is_released_once_by_a_survivor(config, redis_url: str):
    from tests.conftest import two_nodes

    short = dataclasses.replace(config, store=dataclasses.replace(config.store, lease_s=1.0))
    a, b = await two_nodes(short, redis_url)
    try:
        customer = await a.engine.new_visitor()
        now = a.engine.clock.now()
        contact = await a.engine.schedule(callback(customer.id, now, 1.5), "customer")
        for _ in range(100):
            if b.engine.contact(contact.id) is not None:
                break
            await asyncio.sleep(0.02)
        seen = b.engine.contact(contact.id)
        assert seen.state == ContactState.SCHEDULED and seen.details == {"phone": "+6281234567890"}
        await a.runner.cleanup()  # the node that scheduled it dies before its time
        for _ in range(200):
            if b.engine.waiting() == [contact.id]:
                break
            await asyncio.sleep(0.05)
        assert b.engine.waiting() == [contact.id]
        history = [e.kind for e in await b.engine.history(customer.id) if e.contact_id == contact.id]
        assert history == ["contact.scheduled", "contact.due"]  # released once
    finally:
        await a.runner.cleanup()
        await b.runner.cleanup()
