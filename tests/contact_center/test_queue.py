"""The integrated queue: one order for every channel, original places kept, declines remembered."""

from __future__ import annotations

import dataclasses

import pytest

from channels.registry import channel_kinds
from contact_center.config import parse_config
from contact_center.model import Channel, Contact, ContactState
from contact_center.queue import AnswerPace, IntegratedQueue

CONFIG = parse_config({})


def contact(cid: str, at: float, channel: Channel = Channel.CHAT, value: float = 0.0) -> Contact:
    return Contact(cid, channel, f"cust-{cid}", ContactState.QUEUED, at, at, [("general", 1)], value=value)


def test_order_is_value_then_arrival_across_channels():
    """An email and two chats share one order: the VIP first, then by original arrival."""
    queue = IntegratedQueue(channel_kinds(CONFIG), CONFIG.routing.policy)
    queue.put(contact("email", 100.0, Channel.EMAIL))
    queue.put(contact("chat-old", 50.0))
    queue.put(contact("chat-vip", 120.0, value=5000.0))
    assert queue.order(now=121.0) == ["chat-vip", "chat-old", "email"]


def test_a_returned_contact_keeps_its_place_and_its_declines():
    """Taken for an offer and put back after a reject: same place, and the rejecting agent is excluded."""
    queue = IntegratedQueue(channel_kinds(CONFIG), CONFIG.routing.policy)
    first, second = contact("first", 10.0), contact("second", 20.0)
    queue.put(first)
    queue.put(second)
    queue.remove("first")
    assert "first" not in queue and len(queue) == 1
    queue.put(dataclasses.replace(first, declined=("agent-a",)))
    assert queue.order(now=30.0) == ["first", "second"]
    entry = next(w for w in queue.snapshot() if w.contact_id == "first")
    assert entry.excluded_agents == frozenset({"agent-a"})
    queue.remove("first")
    queue.remove("first")  # not queued: nothing happens
    queue.put(first)
    assert next(w for w in queue.snapshot() if w.contact_id == "first").excluded_agents == frozenset()


def test_chat_deadline_and_revalue():
    """A chat is due service_level_s after arrival; revaluing moves it up without changing its arrival."""
    queue = IntegratedQueue(channel_kinds(CONFIG), CONFIG.routing.policy)
    chat, other = contact("chat", 100.0), contact("other", 90.0)
    queue.put(chat)
    queue.put(other)
    (entry,) = [w for w in queue.snapshot() if w.contact_id == "chat"]
    assert entry.due_at == 100.0 + CONFIG.webchat.service_level_s
    assert queue.order(now=101.0) == ["other", "chat"]
    queue.put(dataclasses.replace(chat, value=2000.0))
    assert queue.order(now=101.0) == ["chat", "other"] and len(queue) == 2


def test_an_email_is_due_in_working_hours_until_it_is_answered():
    """Friday 16:00 in Jakarta: due Monday 09:00, at risk from 08:30; once answered it has no deadline."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    jakarta = ZoneInfo("Asia/Jakarta")
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=jakarta).timestamp()
    queue = IntegratedQueue(channel_kinds(CONFIG), CONFIG.routing.policy)
    mail = contact("mail", friday, Channel.EMAIL)
    queue.put(mail)
    (entry,) = queue.snapshot()
    assert entry.due_at == datetime(2026, 11, 30, 9, 0, tzinfo=jakarta).timestamp()
    assert entry.at_risk_at == datetime(2026, 11, 30, 8, 30, tzinfo=jakarta).timestamp()
    queue.put(dataclasses.replace(mail, answered_at=friday + 60))
    (entry,) = queue.snapshot()
    assert (entry.due_at, entry.at_risk_at) == (None, None)


def test_the_wait_to_expect_follows_the_pace_of_recent_answers():
    pace = AnswerPace(window_s=600, min_span_s=60, min_answers=3)
    assert pace.expected_wait(1, now=0.0) is None  # nothing to go on: no guess
    for at in (0.0, 30.0):
        pace.answered(at)
    assert pace.expected_wait(1, now=30.0) is None
    pace.answered(60.0)
    assert pace.expected_wait(2, now=60.0) == pytest.approx(40.0)  # 3 answers in 60 s: one every 20 s
    assert pace.expected_wait(2, now=120.0) == pytest.approx(80.0)  # nobody answered since: slower
    assert pace.expected_wait(1, now=650.0) is None  # the answers of 10 minutes ago count no more
