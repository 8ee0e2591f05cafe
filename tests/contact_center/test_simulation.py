"""The routing simulator: the real queue and router on a simulated day, against Erlang C and between policies."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels.registry import channel_kinds
from contact_center import simulation
from contact_center.cli import main
from contact_center.config import Config
from contact_center.contact_facts import facts_of
from contact_center.simulation import POLICIES, Arrival, SimAgent, simulate
from contact_center.simulation_traffic import from_history, generated
from contact_center.staffing import Demand, figures
from routing import RoutingPolicy
from tests.conftest import make_config

DAY = datetime(2026, 11, 30, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return make_config(tmp_path)


def agents(n: int, capacity: dict[str, int], skills: dict[str, int] | None = None) -> list[SimAgent]:
    return [SimAgent(f"a{i}", skills or {"general": 3}, capacity) for i in range(n)]


def test_one_channel_and_exponential_times_agree_with_erlang_c(cfg: Config):
    """100 calls an hour of 180 s on 8 agents, 100,000 calls: within 2 points of Erlang C's 88.0 % in 20 s."""
    day = generated({"call": 100}, {"call": 180}, DAY, seed=7, days=1000 // 24 + 1)[:100_000]
    got = simulate(day, agents(8, {"call": 1}), channel_kinds(cfg), cfg.routing.policy, {"call": 20.0})
    expected = figures(Demand(100, 180), 8, within_s=20)
    call = got.channels["call"]
    assert call.offered == 100_000 and call.abandoned == 0
    assert call.service_level == pytest.approx(expected.service_level, abs=0.02)
    assert call.asa_s == pytest.approx(expected.asa_s, rel=0.15)
    assert got.busy_s / got.span_s / 8 == pytest.approx(expected.occupancy, abs=0.02)


def test_patience_makes_customers_leave_and_is_counted(cfg: Config):
    """Too few agents and impatient customers: many abandon; every contact is answered or abandoned, none lost."""
    day = generated({"chat": 200}, {"chat": 300}, DAY, seed=3, patience_s={"chat": 60})
    got = simulate(day, agents(4, {"chat": 1}), channel_kinds(cfg), cfg.routing.policy, {"chat": 30.0})
    chat = got.channels["chat"]
    assert chat.answered + chat.abandoned == chat.offered == len(day)
    assert chat.abandoned > chat.offered / 4 and chat.service_level < 0.7


def test_value_bands_serve_the_valued_first_and_value_off_does_not(cfg: Config):
    """Under load, the configured value bands give the valued fifth of customers a far better service level than
    the rest; with value off both fare the same (within noise)."""
    policy = RoutingPolicy(value_bands=(1000.0,))
    plain = generated({"chat": 180}, {"chat": 240}, DAY, seed=5)
    day = [Arrival(a.at, a.channel, a.handle_s, value=5000.0 if n % 5 == 0 else 0.0) for n, a in enumerate(plain)]
    kinds, staff = channel_kinds(cfg), agents(12, {"chat": 1})
    results = {name: simulate(day, staff, kinds, policy, {"chat": 30.0}, name) for name in POLICIES}
    vip, rest = results["configured"].bands["chat", 1], results["configured"].bands["chat", 0]
    assert vip.offered == len(day[::5]) and vip.service_level > rest.service_level + 0.2
    off_vip, off_rest = results["value_off"].bands["chat", 1], results["value_off"].bands["chat", 0]
    assert abs(off_vip.service_level - off_rest.service_level) < 0.1
    for name in POLICIES:
        chat = results[name].channels["chat"]
        assert chat.offered == len(day) and chat.answered == len(day)  # nobody leaves: all answered, in some order


def test_round_robin_takes_turns_and_longest_idle_ignores_levels(cfg: Config):
    """One contact at a time to a senior and a junior agent: configured always picks the senior when both are idle;
    round-robin and longest-idle alternate."""
    day = [Arrival(DAY + 100 * n, "chat", 10.0) for n in range(10)]
    staff = [SimAgent("senior", {"general": 5}, {"chat": 1}), SimAgent("junior", {"general": 1}, {"chat": 1})]
    kinds, policy = channel_kinds(cfg), cfg.routing.policy
    given = {name: simulate(day, staff, kinds, policy, {"chat": 30.0}, name).handled for name in POLICIES}
    assert given["configured"] == {"senior": 10} and given["value_off"] == {"senior": 10}
    assert given["round_robin"] == {"senior": 5, "junior": 5}
    assert given["longest_idle"] == {"senior": 5, "junior": 5}
    with pytest.raises(ValueError, match="policy: one of"):
        simulate(day, staff, kinds, policy, {"chat": 30.0}, "random")


def test_a_day_from_the_history_arrives_as_it_did():
    """Each contact at its arrival (a booked callback at its hour), its handle time kept or its channel's mean,
    an abandoned one as patient as it was."""
    rows = [
        ("c1", "chat", "ana", "closed", "ayu", "", DAY + 10, DAY + 20, None, DAY + 320, None, None),
        ("c2", "chat", "budi", "abandoned", "", "", DAY + 30, None, None, DAY + 75, None, None),
        ("b1", "callback", "citra", "scheduled", "", "", DAY + 5, None, None, None, DAY + 3600, None),
    ]
    day = from_history(facts_of(rows))
    assert [(a.channel, a.at - DAY) for a in day] == [("chat", 10), ("chat", 30), ("callback", 3600)]
    assert day[0].handle_s == 300 and day[1].handle_s == 300 and day[1].patience_s == 45
    assert math.isinf(day[0].patience_s) and day[2].handle_s == 300.0  # no callback handled that day: the default


def test_the_simulate_command_compares_the_policies_and_draws_them(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    """contact-center simulate: every policy's service level per channel, in JSON, and a PNG chart."""
    monkeypatch.setattr("contact_center.cli.configure_logging", lambda _: None)  # the suite's logging stays
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path}"\n[logging]\nformat = "json"\n')
    chart = tmp_path / "policies.png"
    argv = ["--config", str(config), "simulate", "--arrivals-per-hour", "chat=60", "--arrivals-per-hour", "email=10",
            "--handle-s", "chat=240", "--handle-s", "email=600", "--agents", "5", "--capacity", "chat=1",
            "--chart", str(chart), "--format", "json"]  # fmt: skip
    assert main(argv) == 0
    got = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in got["results"]] == list(POLICIES)
    for r in got["results"]:
        assert {c["channel"] for c in r["channels"]} == {"chat", "email"}
        assert all(0 <= c["service_level"] <= 1 for c in r["channels"])
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit, match="say --history DAY, or --arrivals-per-hour"):
        main(["--config", str(config), "simulate", "--agents", "3"])


class EveryoneEveryPass(simulation._Run):
    """The simulator as it first was: each routing pass given every waiting contact and every agent."""

    def _candidates(self):  # type: ignore[no-untyped-def]
        waiting = tuple(itertools.chain.from_iterable(line.values() for line in self.lines.values()))
        return (waiting, tuple(self._state(d) for d in self.desks.values())) if waiting else None


@pytest.mark.parametrize("name", POLICIES)
def test_giving_the_router_only_agents_with_room_changes_no_decision(cfg: Config, name: str):
    """A busy mixed day (chats two at a time, emails three, calls alone and impatient, two skills, valued customers):
    under each policy the figures, the value bands and each agent's count are those of passes given everyone."""
    plain = generated({"chat": 150, "email": 60, "call": 90}, {"chat": 300, "email": 600, "call": 240}, DAY,
                      seed=11, patience_s={"call": 45})[:3000]  # fmt: skip
    day = [replace(a, skills=(("billing" if n % 3 == 0 else "general", 1),), value=4000.0 if n % 7 == 0 else 0.0)
           for n, a in enumerate(plain)]  # fmt: skip
    staff = [SimAgent(f"a{i}", {"general": 1 + i % 5, **({"billing": 2 + i % 3} if i % 2 else {})},
                      {"chat": 2, "email": 3, **({"call": 1} if i % 3 else {})}) for i in range(14)]  # fmt: skip
    policy = replace(cfg.routing.policy, value_bands=(1000.0,))
    kinds, thresholds = channel_kinds(cfg), {"chat": 30.0, "email": 7200.0, "call": 20.0}
    got = simulate(day, staff, kinds, policy, thresholds, name)
    everyone = EveryoneEveryPass(staff, kinds, simulation._policy_of(name, policy), name, thresholds, (1000.0,))
    reference = everyone.day(sorted(day, key=lambda a: a.at))
    assert got.handled == reference.handled and got.busy_s == reference.busy_s
    assert [c.to_json() for c in got.channels.values()] == [c.to_json() for c in reference.channels.values()]
    assert {k: v.to_json() for k, v in got.bands.items()} == {k: v.to_json() for k, v in reference.bands.items()}
    call = got.channels["call"]
    assert call.abandoned > 0 and got.channels["chat"].service_level < 1  # a day with lines, not an idle one
    assert got.passes <= reference.passes
