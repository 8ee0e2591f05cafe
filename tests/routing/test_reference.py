"""The fast router and the obvious scan agree on random floors and queues (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routing import AgentState, RoutingPolicy, SkillRequirement, Snapshot, WaitingContact, WideningStep, route
from routing.reference import route_by_scan

NOW = 5_000.0
SKILLS = ["general", "billing", "tech", "lang_id", "lang_en"]
CHANNELS = ["chat", "email", "call", "callback"]

agents = st.lists(
    st.builds(
        AgentState,
        agent_id=st.sampled_from([f"a{i}" for i in range(12)]),
        skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=4),
        capacity=st.fixed_dictionaries({ch: st.integers(0, 3) for ch in CHANNELS}),
        load=st.dictionaries(st.sampled_from(CHANNELS), st.integers(0, 2), max_size=2),
        idle_since=st.sampled_from([NOW - 100, NOW - 50, NOW - 10, NOW]),
    ),
    max_size=10,
    unique_by=lambda a: a.agent_id,
)
contacts = st.lists(
    st.builds(
        WaitingContact,
        contact_id=st.sampled_from([f"c{i}" for i in range(40)]),
        channel=st.sampled_from(CHANNELS),
        skills=st.lists(
            st.builds(SkillRequirement, st.sampled_from(SKILLS), st.integers(1, 5)), min_size=1, max_size=3
        ).map(tuple),
        enqueued_at=st.sampled_from([NOW - 90, NOW - 45, NOW - 20, NOW - 1]),
        priority=st.integers(0, 1),
        value=st.sampled_from([0.0, 150.0, 2000.0]),
        due_at=st.sampled_from([None, NOW - 1, NOW + 100]),
        excluded_agents=st.frozensets(st.sampled_from([f"a{i}" for i in range(12)]), max_size=3),
    ),
    max_size=30,
    unique_by=lambda c: c.contact_id,
)
policy = RoutingPolicy(
    widening=(WideningStep(30, relax_levels=1), WideningStep(60, relax_levels=4, drop_secondary=True)),
    value_bands=(100.0, 1000.0),
)


@settings(max_examples=250, deadline=None)
@given(agents=agents, contacts=contacts)
def test_fast_router_matches_the_scan(agents, contacts):
    """For any snapshot, the heap-indexed router decides exactly what the full scan decides."""
    snapshot = Snapshot(tuple(contacts), tuple(agents), NOW)
    assert route(snapshot, policy) == route_by_scan(snapshot, policy)
