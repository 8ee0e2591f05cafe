"""Lifecycles: every allowed move works, every other raises InvalidTransition by name."""

from __future__ import annotations

import itertools

import pytest

from contact_center.exceptions import ContactCenterError, InvalidTransition
from contact_center.model import (
    AGENT_STATUS_MOVES,
    CONTACT_MOVES,
    Agent,
    AgentStatus,
    Channel,
    Contact,
    ContactState,
    Role,
)


def make_contact(state: ContactState) -> Contact:
    return Contact("c1", Channel.CHAT, "cust", state, 0.0, 0.0, [("general", 1)])


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ContactState, ContactState)))
def test_contact_moves_follow_the_table(current, target):
    """queued -> offered -> assigned -> wrap-up -> closed (and abandoned); nothing else."""
    contact = make_contact(current)
    if target in CONTACT_MOVES[current]:
        contact.move(target)
        assert contact.state == target
    else:
        with pytest.raises(InvalidTransition) as info:
            contact.move(target)
        assert info.value.current == current.value and info.value.target == target.value
        assert "contact c1" in str(info.value)
        assert contact.state == current


def test_closed_and_abandoned_are_final():
    """A closed or abandoned contact cannot move at all."""
    assert CONTACT_MOVES[ContactState.CLOSED] == frozenset()
    assert CONTACT_MOVES[ContactState.ABANDONED] == frozenset()


@pytest.mark.parametrize(("current", "target"), list(itertools.product(AgentStatus, AgentStatus)))
def test_agent_status_moves(current, target):
    """An agent can go between available, away and busy; offline is left only to available or away."""
    agent = Agent("a1", "ayu", "Ayu", Role.AGENT, {}, {}, 0.0, current)
    if target == current or target in AGENT_STATUS_MOVES[current]:
        agent.move(target)
        assert agent.status == target
    else:
        with pytest.raises(InvalidTransition):
            agent.move(target)


def test_invalid_transition_is_a_contact_center_error():
    """All engine errors share one root."""
    assert issubclass(InvalidTransition, ContactCenterError)


def test_statuses_serialise_as_plain_strings():
    """str enums go to JSON as their value."""
    import json

    assert json.dumps([ContactState.WRAP_UP, AgentStatus.BUSY]) == '["wrap_up", "busy"]'


def test_a_stale_unit_is_not_taken_for_a_record_that_exists_already():
    """Code that handles Conflict ("exists already") must not swallow the retry of a stale unit."""
    from contact_center.exceptions import Conflict, Stale

    assert not issubclass(Stale, Conflict)
    assert Stale("contact c1 moved on").code == "conflict"  # what a client hears if retries keep failing
