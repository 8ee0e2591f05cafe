"""Occupancy: staffed time from status changes, handling time from accepted contacts, both stores' status log."""

from __future__ import annotations

import pytest

from contact_center.contact_facts import facts_of
from contact_center.model import AgentStatus, Presence
from contact_center.occupancy import agent_times, merged
from contact_center.store import Changes, Store
from contact_center.store.base import STATUS_LOOKBACK_S


def held(agent: str, accepted: float, closed: float | None, cid: str) -> tuple[object, ...]:
    return (cid, "chat", "ana", "closed", agent, "", accepted - 5, accepted, None, closed, None, None)


def test_merged_joins_overlapping_and_touching_spans():
    """Two chats at once and one right after are one stretch of work; an empty span is dropped."""
    assert merged([(10, 20), (15, 30), (30, 40), (50, 50), (60, 70)]) == [(10, 40), (60, 70)]


def test_occupancy_counts_work_once_and_only_while_staffed():
    """Available 0-100 and 150-200, away 100-150: 150 s staffed; chats 10-40 and 20-60 are 50 s of work; one held
    while away counts only its staffed part (140-160: 10 s)."""
    changes = [("ayu", 0.0, "available"), ("ayu", 100.0, "away"), ("ayu", 150.0, "available")]
    facts = facts_of([held("ayu", 10, 40, "c1"), held("ayu", 20, 60, "c2"), held("ayu", 140, 160, "c3")])
    [ayu] = agent_times(changes, facts, since=0.0, until=200.0, now=500.0)
    assert (ayu.staffed_s, ayu.away_s, ayu.handling_s) == (150.0, 50.0, 60.0)
    assert ayu.occupancy == pytest.approx(60 / 150)


def test_the_status_before_the_span_carries_into_it_and_now_ends_it():
    """Available since before the span, still on a chat now: the span runs to now, the open chat to now."""
    changes = [("budi", -500.0, "available")]
    facts = facts_of([held("budi", 50, None, "c1")])
    [budi] = agent_times(changes, facts, since=0.0, until=1000.0, now=150.0)
    assert (budi.staffed_s, budi.handling_s) == (150.0, 100.0)


def test_an_agent_never_staffed_has_no_occupancy():
    """Offline the whole span: no staffed time, occupancy unknown rather than zero."""
    [gone] = agent_times([("citra", 0.0, "offline")], facts_of([]), since=0.0, until=100.0, now=100.0)
    assert gone.staffed_s == 0 and gone.occupancy is None


async def test_both_stores_keep_each_status_change(store: Store):
    """Each presence committed with a new status_since is one change; the last before the span is given too."""
    day = 86_400.0
    steps = [(1, AgentStatus.AVAILABLE, 10 * day), (2, AgentStatus.AWAY, 10 * day + 600), (3, AgentStatus.AVAILABLE,
             11 * day), (4, AgentStatus.OFFLINE, 11 * day + 3600)]  # fmt: skip
    for version, status, since in steps:
        p = Presence("ayu", status, version=version, status_since=since)
        await store.commit(Changes(presences=(p,), expected={"agent:ayu": version - 1}))
    again = Presence("ayu", AgentStatus.OFFLINE, version=5, status_since=11 * day + 3600)  # its load changed
    await store.commit(Changes(presences=(again,), expected={"agent:ayu": 4}))
    got = await store.status_changes(11 * day, 12 * day)
    assert got == [("ayu", 10 * day + 600, "away"), ("ayu", 11 * day, "available"), ("ayu", 11 * day + 3600, "offline")]
    later = 11 * day + 3600 + STATUS_LOOKBACK_S + 1  # the last change is too long before this to be looked for
    assert await store.status_changes(later, later + day) == []
