"""Staffing advice: Erlang C against the textbook formula and a published example, Erlang A against a simulation."""

from __future__ import annotations

import heapq
import json
import math
import random
from fractions import Fraction

import pytest

from contact_center.cli import main
from contact_center.staffing import Demand, agents_needed, email_workload, erlang_c, figures


def textbook_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """P(wait) written as the textbook does, with factorials, in exact fractions."""
    top = traffic**agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    below = sum(traffic**k / math.factorial(k) for k in range(agents))
    return top / (below + top)


@pytest.mark.parametrize(
    ("agents", "arrivals_per_hour", "handle_s"),
    [(1, 10, 180), (2, 30, 200), (8, 100, 180), (14, 200, 180), (55, 720, 240), (120, 2000, 200), (300, 5000, 210)],
)
def test_erlang_c_agrees_with_the_factorial_formula(agents: int, arrivals_per_hour: int, handle_s: int) -> None:
    """The recurrence gives the same probability of waiting as the factorial formula, to 1e-12."""
    traffic = Fraction(arrivals_per_hour * handle_s, 3600)
    assert erlang_c(agents, float(traffic)) == pytest.approx(float(textbook_erlang_c(agents, traffic)), abs=1e-12)


def test_erlang_c_figures_follow_from_the_probability_of_waiting() -> None:
    """Service level, speed of answer and occupancy are the closed forms of the probability of waiting."""
    d = Demand(arrivals_per_hour=100, handle_s=180)
    pw = float(textbook_erlang_c(8, Fraction(5)))
    got = figures(d, 8, within_s=20)
    assert got.waiting == pytest.approx(pw, abs=1e-12)
    assert got.service_level == pytest.approx(1 - pw * math.exp(-(8 - 5) * 20 / 180), abs=1e-12)
    assert got.asa_s == pytest.approx(pw * 180 / 3, abs=1e-9)
    assert got.occupancy == pytest.approx(5 / 8)
    assert got.abandoned == 0


def test_the_published_worked_example() -> None:
    """360 calls a half hour of 4 minutes, 55 agents, 15 s (Westbay's Erlang-C page): the figures it publishes."""
    got = figures(Demand(arrivals_per_hour=720, handle_s=240), 55, within_s=15)
    assert got.traffic == pytest.approx(48)
    assert round(got.occupancy, 3) == 0.873
    assert round(got.waiting, 4) == 0.2387
    assert round(got.asa_s, 1) == 8.2
    assert round(got.service_level, 3) == 0.846


def test_agents_needed_is_the_fewest_that_meet_the_target() -> None:
    """One agent fewer misses the target; the answer meets it; a cap on occupancy can ask for more."""
    d = Demand(arrivals_per_hour=100, handle_s=180)
    got = agents_needed(d, target=0.8, within_s=20)
    assert got.agents == 8 and got.service_level >= 0.8
    assert figures(d, 7, 20).service_level < 0.8
    assert agents_needed(d, 0.8, 20, max_occupancy=0.55).agents == 10  # 5 Erlangs / 0.55 -> 10


def test_too_few_agents_never_meet_erlang_c() -> None:
    """With no more agents than Erlangs the line grows without end: no service level, no finite wait."""
    got = figures(Demand(arrivals_per_hour=100, handle_s=180), 5, within_s=20)
    assert got.service_level == 0 and got.waiting == 1 and math.isinf(got.asa_s)


def test_bad_figures_are_refused_by_name() -> None:
    """Negative arrivals, no handle time, a target of 100 % or an unreachable one are said plainly."""
    with pytest.raises(ValueError, match="arrivals per hour"):
        Demand(-1, 180)
    with pytest.raises(ValueError, match="handle time"):
        Demand(10, 0)
    with pytest.raises(ValueError, match="target"):
        agents_needed(Demand(10, 180), target=1.0, within_s=20)
    with pytest.raises(ValueError, match="no number of agents up to 20"):
        agents_needed(Demand(1000, 180), target=0.8, within_s=20, most=20)


def test_erlang_a_with_endless_patience_is_erlang_c() -> None:
    """Customers who (almost) never give up: Erlang A's figures are Erlang C's."""
    c = figures(Demand(100, 180), 8, 20)
    a = figures(Demand(100, 180, patience_s=1e9), 8, 20)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-6)
    assert a.waiting == pytest.approx(c.waiting, abs=1e-6)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-5)
    assert a.abandoned < 1e-6


def simulate(arrivals_per_hour: float, handle_s: float, patience_s: float, agents: int, within_s: float, n: int):
    """M/M/n+M first come first served, customer by customer: who is answered, when, and who gives up.

    In arrival order each customer is answered by the first agent free after every earlier answered
    customer, unless their patience runs out first; those who give up take no agent's time.
    """
    rng = random.Random(20261204)
    free = [0.0] * agents
    t = 0.0
    answered_in_time = waited = gave_up = 0
    waits = busy = 0.0
    for _ in range(n):
        t += rng.expovariate(arrivals_per_hour / 3600)
        start = max(t, free[0])
        wait = start - t
        waited += wait > 0
        if wait > rng.expovariate(1 / patience_s):
            gave_up += 1
            continue
        service = rng.expovariate(1 / handle_s)
        heapq.heapreplace(free, start + service)
        answered_in_time += wait <= within_s
        waits += wait
        busy += service
    answered = n - gave_up
    return answered_in_time / n, waited / n, waits / answered, gave_up / n, busy / t / agents


@pytest.mark.parametrize(("agents", "patience_s"), [(4, 60), (7, 90), (10, 300)])
def test_erlang_a_agrees_with_a_simulation(agents: int, patience_s: float) -> None:
    """Service level, waiting, speed of answer, abandonment and occupancy match 200,000 simulated customers."""
    level, waiting, asa, abandoned, occupancy = simulate(100 * agents / 7, 180, patience_s, agents, 20, 200_000)
    got = figures(Demand(100 * agents / 7, 180, patience_s=patience_s), agents, within_s=20)
    assert got.service_level == pytest.approx(level, abs=0.01)
    assert got.waiting == pytest.approx(waiting, abs=0.01)
    assert got.abandoned == pytest.approx(abandoned, abs=0.01)
    assert got.occupancy == pytest.approx(occupancy, abs=0.01)
    assert got.asa_s == pytest.approx(asa, rel=0.06, abs=0.3)


def test_erlang_a_stays_stable_with_fewer_agents_than_erlangs() -> None:
    """Abandonment keeps the line finite: with 3 agents for 5 Erlangs, 40 % or more give up, none wait forever."""
    got = figures(Demand(100, 180, patience_s=60), 3, 20)
    assert 0.4 < got.abandoned < 1 and 0 < got.service_level < 0.5 and math.isfinite(got.asa_s)
    assert got.occupancy <= 1


def test_email_workload_spreads_the_backlog_over_its_time_left() -> None:
    """30 emails an hour of 6 minutes is 3 agent-hours an hour; 40 waiting over 2 hours adds 2 more, at 85 %."""
    w = email_workload(arrivals_per_hour=30, handle_s=360, backlog=40, clear_within_h=2)
    assert w.arrival_hours == pytest.approx(3) and w.backlog_hours == pytest.approx(4)
    assert w.agents == math.ceil(5 / 0.85)
    assert email_workload(0, 360, 0).agents == 0


def test_the_staffing_command_prints_the_advice(capsys: pytest.CaptureFixture[str]) -> None:
    """The command of the README: 8 agents, with the service level, waiting, speed of answer and occupancy."""
    argv = ["staffing", "--arrivals-per-hour", "100", "--handle-s", "180", "--target", "0.8", "--within-s", "20"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "agents needed: 8 for 80% answered within 20 s" in out
    assert "service level:           88.0%" in out
    assert "probability of waiting:  16.7%" in out
    assert "average speed of answer: 10.0 s" in out
    assert "occupancy:               62.5%" in out
    assert ">    8" in out and "     7          74.0%" in out


def test_the_staffing_command_speaks_json_and_erlang_a(capsys: pytest.CaptureFixture[str]) -> None:
    """With --patience-s and --shrinkage, JSON carries the agents needed, the abandonment and those to schedule."""
    argv = ["staffing", "--arrivals-per-hour", "100", "--handle-s", "180", "--target", "0.8", "--within-s", "20",
            "--patience-s", "90", "--shrinkage", "0.3", "--format", "json"]  # fmt: skip
    assert main(argv) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["needed"]["agents"] == 7 and got["scheduled"] == 10
    assert 0 < got["needed"]["abandoned"] < 0.1
    assert [row["agents"] for row in got["table"]] == [4, 5, 6, 7, 8, 9]


def test_the_staffing_command_names_a_bad_figure() -> None:
    """A negative arrival rate stops the command with what was wrong."""
    with pytest.raises(SystemExit, match="staffing: arrivals per hour must be 0 or more"):
        main(["staffing", "--arrivals-per-hour", "-5", "--handle-s", "180", "--target", "0.8", "--within-s", "20"])


@pytest.mark.parametrize(
    ("demand", "target", "within_s", "max_occupancy"),
    [(Demand(100, 180), 0.8, 20, 1.0), (Demand(720, 240), 0.9, 15, 1.0), (Demand(100, 180), 0.8, 20, 0.5),
     (Demand(100, 180, 90), 0.8, 20, 1.0), (Demand(400, 300, 60), 0.95, 30, 1.0), (Demand(3, 600, 120), 0.5, 0, 1.0)],
)  # fmt: skip
def test_agents_needed_finds_what_counting_up_from_one_finds(
    demand: Demand, target: float, within_s: float, max_occupancy: float
) -> None:
    """The doubling-then-halving search gives the first number of agents that meets the target, as counting does."""
    counted = next(
        n for n in range(1, 1000)
        if (f := figures(demand, n, within_s)).service_level >= target and f.occupancy <= max_occupancy
    )  # fmt: skip
    assert agents_needed(demand, target, within_s, max_occupancy).agents == counted


def test_erlang_a_keeps_a_long_line_of_patient_customers_within_floats() -> None:
    """500 Erlangs on 50 agents, customers waiting an hour on average: the line's weights pass e^700 (they once
    overflowed to infinity and the search never ended); the figures still agree with a simulation."""
    got = figures(Demand(1800, 1000, patience_s=3600), 50, within_s=600)
    level, waiting, _, abandoned, _ = simulate(1800, 1000, 3600, 50, 600, 60_000)
    assert got.abandoned == pytest.approx(abandoned, abs=0.02) and got.abandoned == pytest.approx(0.9, abs=0.01)
    assert got.waiting == pytest.approx(waiting, abs=0.02) and got.occupancy == pytest.approx(1, abs=1e-6)
    assert got.service_level == pytest.approx(level, abs=0.02)
    assert agents_needed(Demand(1800, 1000, patience_s=3600), 0.8, 600).agents < 500  # abandonment lightens it
    few = agents_needed(Demand(10_000, 7_200, patience_s=3600), 0.01, 3600)  # in overload every agent is busy:
    assert few.occupancy <= 1 and few.service_level >= 0.01  # occupancy 1, not a rounding's hair above it
    assert figures(Demand(10_000, 7_200, patience_s=3600), few.agents - 1, 3600).service_level < 0.01
