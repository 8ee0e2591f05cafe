"""The pure router: tables of snapshots in, offers out; no event loop anywhere."""

from __future__ import annotations

import pytest

from routing import (
    AgentState,
    OfferDecision,
    RoutingPolicy,
    SkillRequirement,
    Snapshot,
    WaitingContact,
    WideningStep,
    priority_key,
    route,
    urgency,
)
from routing.priority import URGENCY_AT_RISK, URGENCY_BREACHED, URGENCY_NONE, value_band
from routing.router import requirements

NOW = 10_000.0
CHAT_CAP = {"chat": 3, "email": 5, "call": 1, "callback": 1}


def contact(
    cid: str, skills: dict[str, int] | None = None, channel: str = "chat", waited: float = 0.0, **kw
) -> WaitingContact:
    reqs = tuple(SkillRequirement(s, lvl) for s, lvl in (skills or {"general": 1}).items())
    return WaitingContact(contact_id=cid, channel=channel, skills=reqs, enqueued_at=NOW - waited, **kw)


def agent(
    aid: str,
    skills: dict[str, int] | None = None,
    idle: float = 0.0,
    load: dict[str, int] | None = None,
    capacity: dict[str, int] | None = None,
) -> AgentState:
    return AgentState(aid, skills or {"general": 3}, capacity or CHAT_CAP, load or {}, NOW - idle)


def run(contacts, agents, policy: RoutingPolicy | None = None, now: float = NOW) -> list[tuple[str, str]]:
    decisions = route(Snapshot(tuple(contacts), tuple(agents), now), policy or RoutingPolicy())
    return [(d.contact_id, d.agent_id) for d in decisions]


def test_contact_goes_to_the_only_agent_with_the_skill():
    """A contact needing billing goes to the agent who has billing, not to the other."""
    assert run([contact("c1", {"billing": 1})], [agent("a1"), agent("a2", {"billing": 2})]) == [("c1", "a2")]


def test_most_proficient_agent_wins():
    """Among free agents with the skill, the highest level is offered the contact."""
    agents = [agent("low", {"general": 2}, idle=500), agent("high", {"general": 5}, idle=1)]
    assert run([contact("c1")], agents) == [("c1", "high")]


def test_idle_longest_wins_among_equals():
    """Equal proficiency: the agent idle longest gets the offer."""
    agents = [agent("recent", idle=10), agent("longest", idle=900), agent("middle", idle=300)]
    assert run([contact("c1")], agents) == [("c1", "longest")]


def test_offers_spread_across_equal_agents_in_one_pass():
    """Three contacts and three equal agents: one each, idle-longest first, not all to one agent."""
    agents = [agent("a", idle=30), agent("b", idle=20), agent("c", idle=10)]
    contacts = [contact(f"c{i}", waited=10 - i) for i in range(3)]
    assert run(contacts, agents) == [("c0", "a"), ("c1", "b"), ("c2", "c")]


def test_minimum_level_is_respected():
    """An agent below the required level is not offered the contact."""
    assert run([contact("c1", {"billing": 4})], [agent("a1", {"billing": 3})]) == []


def test_secondary_skills_must_all_be_met():
    """A contact needing general and lang_id skips an agent without Indonesian."""
    agents = [agent("en", {"general": 5, "lang_en": 5}, idle=100), agent("id", {"general": 2, "lang_id": 3})]
    assert run([contact("c1", {"general": 1, "lang_id": 1})], agents) == [("c1", "id")]


def test_excluded_agent_is_skipped():
    """An agent who rejected the contact is passed over for the next."""
    agents = [agent("rejecter", idle=100), agent("next", idle=5)]
    c = contact("c1", excluded_agents=frozenset({"rejecter"}))
    assert run([c], agents) == [("c1", "next")]


def test_skipped_agent_remains_available_for_later_contacts():
    """An agent skipped for one contact is still offered the next contact it fits."""
    agents = [agent("a", {"general": 3}, idle=100)]
    contacts = [contact("c1", excluded_agents=frozenset({"a"}), waited=9), contact("c2", waited=1)]
    assert run(contacts, agents) == [("c2", "a")]


def test_capacity_per_channel_limits_offers():
    """An agent with 3 chat slots and one held gets two more chats, not three."""
    contacts = [contact(f"c{i}", waited=10 - i) for i in range(4)]
    assert run(contacts, [agent("a", load={"chat": 1})]) == [("c0", "a"), ("c1", "a")]


def test_agent_without_capacity_on_channel_gets_nothing():
    """Capacity 0 for email means no email offers."""
    a = agent("a", capacity={"chat": 3, "email": 0})
    assert run([contact("e1", channel="email")], [a]) == []


def test_call_excludes_other_work():
    """An agent on a call gets no chat, and an agent holding a chat gets no call."""
    on_call = agent("on_call", load={"call": 1}, idle=100)
    chatting = agent("chatting", load={"chat": 1}, idle=100)
    assert run([contact("chat1")], [on_call]) == []
    assert run([contact("call1", channel="call")], [chatting]) == []
    assert run([contact("call1", channel="call")], [agent("free")]) == [("call1", "free")]


def test_a_call_offer_fills_the_agent():
    """Once offered a call in a pass, the agent gets no chat in the same pass."""
    contacts = [contact("call1", channel="call", waited=5), contact("chat1", waited=1)]
    assert run(contacts, [agent("a")]) == [("call1", "a")]


def test_higher_value_customer_first_and_to_the_best_agent():
    """With one expert free, the high-value customer who came later gets the expert."""
    policy = RoutingPolicy(value_bands=(100.0, 1000.0))
    contacts = [contact("plain", waited=50, value=10), contact("vip", waited=1, value=5000)]
    one = {"chat": 1}
    agents = [agent("expert", {"general": 5}, capacity=one), agent("novice", {"general": 1}, capacity=one)]
    assert run(contacts, agents, policy) == [("vip", "expert"), ("plain", "novice")]


def test_explicit_priority_beats_value():
    """An explicit priority is served before a higher value."""
    policy = RoutingPolicy(value_bands=(100.0,))
    contacts = [contact("vip", value=500, waited=9), contact("urgent", priority=1)]
    assert run(contacts, [agent("a", capacity={"chat": 1})], policy) == [("urgent", "a")]


def test_widening_lets_a_long_wait_reach_a_lower_level():
    """After the configured wait, a level-4 requirement is relaxed so a level-2 agent may take it."""
    policy = RoutingPolicy(widening=(WideningStep(after_s=60, relax_levels=4),))
    assert run([contact("c1", {"billing": 4}, waited=30)], [agent("a", {"billing": 2})], policy) == []
    assert run([contact("c1", {"billing": 4}, waited=61)], [agent("a", {"billing": 2})], policy) == [("c1", "a")]


def test_widening_can_drop_secondary_skills():
    """A step with drop_secondary keeps only the primary skill."""
    policy = RoutingPolicy(widening=(WideningStep(after_s=30, drop_secondary=True),))
    c = contact("c1", {"general": 1, "lang_id": 1}, waited=45)
    assert run([c], [agent("en_only", {"general": 3})], policy) == [("c1", "en_only")]


@pytest.mark.parametrize(
    ("waited", "expected"),
    [
        (0, (("billing", 4), ("lang_id", 2))),
        (29, (("billing", 4), ("lang_id", 2))),
        (30, (("billing", 3), ("lang_id", 1))),
        (60, (("billing", 1),)),
    ],
)
def test_requirements_follow_the_latest_step_reached(waited, expected):
    """The latest widening step the contact has waited for is the one in force."""
    policy = RoutingPolicy(
        widening=(WideningStep(30, relax_levels=1), WideningStep(60, relax_levels=4, drop_secondary=True))
    )
    reqs = requirements(contact("c", {"billing": 4, "lang_id": 2}, waited=waited), policy, NOW)
    assert tuple((r.skill, r.min_level) for r in reqs) == expected


def test_no_agents_no_offers():
    """An empty floor offers nothing and does not fail."""
    assert run([contact("c1")], []) == []


def test_decision_carries_the_level():
    """The decision says at which level the agent matched."""
    decisions = route(Snapshot((contact("c1"),), (agent("a", {"general": 4}),), NOW), RoutingPolicy())
    assert decisions == [OfferDecision("c1", "a", 4)]


def test_agent_level_above_five_counts_as_five():
    """An out-of-range level from a snapshot is clamped to the top bucket rather than lost."""
    assert run([contact("c1")], [agent("a", {"general": 9})]) == [("c1", "a")]


def test_contact_needs_a_skill():
    """A contact with no skill is refused when built, naming the contact."""
    with pytest.raises(ValueError, match="c9"):
        WaitingContact("c9", "chat", (), NOW)


def test_queue_order_for_equal_contacts_is_waiting_time():
    """Same priority, value and urgency: the one that waited longest is first."""
    agents = [agent("a", capacity={"chat": 1})]
    assert run([contact("new", waited=1), contact("old", waited=20)], agents) == [("old", "a")]


@pytest.mark.parametrize(
    ("due", "risk", "expected"),
    [
        (None, None, URGENCY_NONE),
        (NOW + 10, NOW + 5, URGENCY_NONE),
        (NOW + 10, NOW - 1, URGENCY_AT_RISK),
        (NOW, NOW - 5, URGENCY_BREACHED),
    ],
)
def test_urgency_levels(due, risk, expected):
    """Breached when past due, at risk past the warning, otherwise none."""
    assert urgency(contact("c", due_at=due, at_risk_at=risk), NOW) == expected


def test_breached_contact_goes_before_a_longer_waiting_one():
    """Service-level urgency outranks waiting time (a breached chat beats an older email within SLA)."""
    old_email = contact("email", channel="chat", waited=100, due_at=NOW + 7000)
    breached = contact("chat", waited=40, due_at=NOW - 10)
    policy = RoutingPolicy()
    assert sorted([old_email, breached], key=lambda c: priority_key(c, policy, NOW))[0] is breached


@pytest.mark.parametrize(("value", "band"), [(0, 0), (99.9, 0), (100, 1), (999, 1), (1000, 2), (10**6, 2)])
def test_value_bands(value, band):
    """Bands count how many thresholds the value reaches."""
    assert value_band(value, (100.0, 1000.0)) == band


def test_level_zero_means_no_skill():
    """A skill listed at level 0 does not qualify an agent."""
    assert run([contact("c1")], [agent("a", {"general": 0})]) == []
