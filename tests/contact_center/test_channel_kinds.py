"""Channels as plug-ins: the queue's urgency comes from what each channel registered."""

from __future__ import annotations

import pytest

from channels.registry import channel_kinds
from contact_center.channel_kinds import ChannelKind, ChannelKinds
from contact_center.config import parse_config
from contact_center.model import Channel, Contact, ContactState
from contact_center.queue import IntegratedQueue

CONFIG = parse_config({})


def waiting(channel: Channel, contact_id: str, at: float) -> Contact:
    return Contact(contact_id, channel, "ana", ContactState.QUEUED, at, at, [("general", 1)])


def test_a_channel_registered_with_a_tighter_rule_is_served_first():
    """Two calls queue at once; the one whose channel registered the nearer deadline goes first."""
    kinds = ChannelKinds([ChannelKind(Channel.CALL, lambda c: (c.enqueued_at + 5.0, c.enqueued_at + 4.0))])
    queue = IntegratedQueue(kinds, CONFIG.routing.policy)
    queue.put(waiting(Channel.CHAT, "chat", 100.0))  # not registered here: no deadline
    queue.put(waiting(Channel.CALL, "call", 100.5))
    assert queue.order(now=104.5) == ["call", "chat"]


def test_a_channel_registered_twice_is_refused_by_name():
    kind = ChannelKind(Channel.CHAT, lambda c: (None, None))
    with pytest.raises(ValueError, match="channel chat is registered twice"):
        ChannelKinds([kind, kind])


def test_the_registered_channels_are_chat_email_callback_and_call_with_their_own_fields():
    kinds = channel_kinds(CONFIG)
    assert [k.channel for k in kinds] == [Channel.CHAT, Channel.EMAIL, Channel.CALLBACK, Channel.CALL]
    email = waiting(Channel.EMAIL, "e1", 1_764_000_000.0)
    assert set(kinds.payload(email)) == {"ticket", "due_at", "answered_at", "breached_at"}
    assert kinds.payload(waiting(Channel.CHAT, "c1", 0.0)) == {}
    callback = waiting(Channel.CALLBACK, "b1", 1_764_000_000.0)
    callback.details = {"phone": "+6281234567890", "queue_number": "C-001", "slot": 1_764_003_600.0, "failed": 1}
    assert kinds.payload(callback) == {"phone": "+6281234567890", "tel": "tel:+6281234567890",
                                       "queue_number": "C-001", "slot": 1_764_003_600.0, "failed": 1,
                                       "attempts": 3, "language": None}  # fmt: skip
    assert kinds.deadlines(callback) == (1_764_003_600.0, 1_764_003_600.0 - 120)  # a booked one: its hour
    callback.details = {"phone": "+6281234567890"}  # as soon as possible: due service_level_s after it asked
    assert kinds.deadlines(callback) == (callback.enqueued_at + 900, callback.enqueued_at + 720)
    call = waiting(Channel.CALL, "k1", 1_764_000_000.0)
    call.details = {"language": "id", "call": {"phase": "talking", "placed_at": 1_764_000_000.0, "socket": "s"}}
    shown = kinds.payload(call)
    assert (shown["phase"], shown["placed_at"], shown["language"]) == ("talking", 1_764_000_000.0, "id")
    assert "socket" not in shown  # which page placed it is the engine's to know
    assert kinds.deadlines(call) == (call.enqueued_at + 30, call.enqueued_at + 24)


def test_only_a_watched_channels_promise_is_watched_and_only_until_first_answered():
    kinds = channel_kinds(CONFIG)
    email = waiting(Channel.EMAIL, "e1", 1_764_000_000.0)
    due, at_risk = kinds.promise(email)
    assert due is not None and at_risk is not None and at_risk < due
    assert kinds.promise(waiting(Channel.CHAT, "c1", 1_764_000_000.0)) == (None, None)  # chat's level is urgency only
    email.answered_at = email.created_at + 60
    assert kinds.promise(email) == (None, None)
