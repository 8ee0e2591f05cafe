"""Staffing advice: how many agents a channel needs to meet its service level (Erlang C and Erlang A).

Erlang C is the queue with Poisson arrivals, exponential handle times, ``n`` agents and
customers who never give up (M/M/n). Erlang A adds patience: each waiting customer leaves
after an exponential time of mean ``patience_s`` (M/M/n+M, Palm's model), which is what a
channel with measured abandonment looks like; it needs fewer agents than Erlang C for the
same target and stays stable even when the traffic exceeds the agents.

Definitions used (the README's): the service level is the share of *all arrivals* answered
within ``within_s`` (a customer who abandons is not answered); the probability of waiting is
the share that finds every agent busy; the average speed of answer is the mean wait of the
answered; occupancy is the carried traffic (answered contacts' handle time) per agent.

For email, whose promise is in working hours and whose contacts wait in a backlog rather
than a line, :func:`email_workload` gives the agents the arrivals and the backlog need.

Pure: no clock, no I/O. Rates are per second unless named otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Advice", "Demand", "EmailWorkload", "Staffing",
    "advise", "agents_needed", "email_workload", "erlang_b", "erlang_c", "figures",
]  # fmt: skip

_MAX_AGENTS = 100_000
_TAIL = 1e-13  # queue states are followed until their weight is this small against the whole


@dataclass(frozen=True, slots=True)
class Demand:
    """A channel's traffic: arrivals an hour, the mean handle time, and (if known) the mean patience.

    Raises:
        ValueError: a figure is negative, the handle time is not positive, or patience is not positive.
    """

    arrivals_per_hour: float
    handle_s: float
    patience_s: float | None = None  # None: nobody abandons (Erlang C)

    def __post_init__(self) -> None:
        if not self.arrivals_per_hour >= 0:
            raise ValueError(f"arrivals per hour must be 0 or more, got {self.arrivals_per_hour}")
        if not self.handle_s > 0:
            raise ValueError(f"handle time must be more than 0 s, got {self.handle_s}")
        if self.patience_s is not None and not self.patience_s > 0:
            raise ValueError(f"patience must be more than 0 s, got {self.patience_s}")

    @property
    def traffic(self) -> float:
        """The offered load in Erlangs: arrivals per second times the handle time."""
        return self.arrivals_per_hour / 3600 * self.handle_s


@dataclass(frozen=True, slots=True)
class Staffing:
    """What ``agents`` agents give for a demand."""

    agents: int
    traffic: float
    within_s: float
    service_level: float  # answered within within_s, of all arrivals
    waiting: float  # probability that an arrival finds every agent busy
    asa_s: float  # average speed of answer (mean wait of the answered); inf when the queue grows without end
    occupancy: float  # carried traffic per agent
    abandoned: float  # share of arrivals that give up waiting (0 under Erlang C)

    def to_json(self) -> dict[str, object]:
        return {
            "agents": self.agents,
            "traffic": round(self.traffic, 4),
            "within_s": self.within_s,
            "service_level": round(self.service_level, 6),
            "waiting": round(self.waiting, 6),
            "asa_s": None if math.isinf(self.asa_s) else round(self.asa_s, 3),
            "occupancy": round(self.occupancy, 6),
            "abandoned": round(self.abandoned, 6),
        }


def erlang_b(agents: int, traffic: float) -> float:
    """The probability that all ``agents`` are busy when calls are lost, not queued (Erlang B).

    By the recurrence B(n) = A·B(n-1) / (n + A·B(n-1)), which neither overflows nor loses precision.
    """
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """The probability that an arrival waits (Erlang C); 1 when the agents cannot carry the traffic."""
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def figures(demand: Demand, agents: int, within_s: float) -> Staffing:
    """Service level, probability of waiting, speed of answer, occupancy and abandonment with ``agents``."""
    if agents < 1:
        raise ValueError(f"agents must be 1 or more, got {agents}")
    if not within_s >= 0:
        raise ValueError(f"the answer threshold must be 0 s or more, got {within_s}")
    if demand.arrivals_per_hour == 0:
        return Staffing(agents, 0.0, within_s, 1.0, 0.0, 0.0, 0.0, 0.0)
    if demand.patience_s is None:
        return _erlang_c_figures(demand, agents, within_s)
    return _erlang_a_figures(demand, agents, within_s)


def _erlang_c_figures(demand: Demand, agents: int, within_s: float) -> Staffing:
    a, h = demand.traffic, demand.handle_s
    if agents <= a:  # the line grows without end: nobody is answered within any threshold, in the long run
        return Staffing(agents, a, within_s, 0.0, 1.0, math.inf, 1.0, 0.0)
    waiting = erlang_c(agents, a)
    level = 1 - waiting * math.exp(-(agents - a) * within_s / h)
    return Staffing(agents, a, within_s, level, waiting, waiting * h / (agents - a), a / agents, 0.0)


def _erlang_a_figures(demand: Demand, agents: int, within_s: float) -> Staffing:
    """M/M/n+M from its birth-death chain: the states with a line are followed until negligible."""
    assert demand.patience_s is not None
    lam, mu, theta = demand.arrivals_per_hour / 3600, 1 / demand.handle_s, 1 / demand.patience_s
    a = demand.traffic
    line, scale = _line_weights(lam, agents * mu, theta)  # n = agents + j against n = agents, over e^scale
    b = erlang_b(agents, a)
    free = 1 / b - 1 if b > 0 else math.inf  # weight of the states with an agent free, against n = agents
    if math.isinf(free):
        return Staffing(agents, a, within_s, 1.0, 0.0, 0.0, a / agents, 0.0)
    below = math.exp(math.log(free) - scale) if free > 0 else 0.0  # on the line's scale
    total = below + line.sum()
    at = line / total  # probability of finding j waiting ahead (PASTA), j = 0, 1, ...
    queued = float((np.arange(len(at)) * at).sum())
    abandoned = theta * queued / lam
    served_time, in_time = _tagged(at, agents * mu, theta, within_s)
    answered = 1 - abandoned
    asa = served_time / answered if answered > 0 else math.inf
    level = float(below / total + in_time)
    occupancy = min(1.0, a * answered / agents)  # all busy in overload; rounding may leave it a hair above 1
    return Staffing(agents, a, within_s, level, float(at.sum()), asa, occupancy, abandoned)


def _line_weights(lam: float, service: float, theta: float) -> tuple[np.ndarray, float]:
    """The weights of j = 0, 1, ... waiting, divided by the largest (whose log is returned): a long line's weights
    pass any float's range (e^1000 for a patient crowd), their logs do not.

    The line is followed until it falls below ``_TAIL`` of the whole and shrinks from there.
    """
    size = 64
    while size <= 10 * _MAX_AGENTS:
        j = np.arange(1, size + 1, dtype=np.float64)
        logs = np.concatenate(([0.0], np.cumsum(np.log(lam / (service + j * theta)))))
        scale = float(logs.max())
        weights = np.exp(logs - scale)
        if lam < service + size * theta and weights[-1] < _TAIL * weights.sum():
            kept = int(np.flatnonzero(weights >= _TAIL * weights.sum())[-1]) + 2
            return weights[:kept], scale
        size *= 2
    raise ValueError("the line does not settle; the patience is too long for this traffic")


def _tagged(at: np.ndarray, service: float, theta: float, within_s: float) -> tuple[float, float]:
    """For arrivals that wait: their summed wait when answered, and the share answered within the threshold.

    An arrival with ``j`` ahead moves up at rate ``service + j·θ`` (the one ahead is answered or
    someone ahead gives up) and gives up itself at rate ``θ``; from the front it is answered.
    """
    j = np.arange(len(at), dtype=np.float64)
    up = service + j * theta
    leave = up + theta
    step = up / leave
    served = np.cumprod(step)  # P(answered | start with j ahead)
    mean = np.zeros(len(at))
    carried = 0.0
    for i in range(len(at)):  # E[wait · 1{answered} | j = i], built from the front
        carried = served[i] / leave[i] + step[i] * carried
        mean[i] = carried
    return float((at * mean).sum()), _within(at, up, leave, within_s)


def _within(at: np.ndarray, up: np.ndarray, leave: np.ndarray, within_s: float) -> float:
    """The probability mass ``at`` answered within ``within_s``, by uniformization of the position chain."""
    if within_s == 0:
        return 0.0
    rate = float(leave.max())
    mean_jumps = rate * within_s
    jumps = int(mean_jumps + 10 * math.sqrt(mean_jumps) + 20)
    stay = 1 - leave / rate
    forward = up / rate
    x = at.astype(np.float64).copy()
    answered_after = np.zeros(jumps + 1)
    answered = 0.0
    left = _TAIL * float(x.sum())
    for k in range(1, jumps + 1):
        answered += x[0] * forward[0]
        moved = np.empty_like(x)
        moved[:-1] = x[:-1] * stay[:-1] + x[1:] * forward[1:]
        moved[-1] = x[-1] * stay[-1]
        x = moved
        answered_after[k] = answered
        if k % 64 == 0 and x.sum() < left:  # all but a negligible share answered or gone: nothing more changes
            answered_after[k + 1 :] = answered
            break
    counts = np.arange(jumps + 1)
    log_pmf = counts * math.log(mean_jumps) - mean_jumps - np.array([math.lgamma(n + 1) for n in range(jumps + 1)])
    return float((np.exp(log_pmf) * answered_after).sum())


def agents_needed(
    demand: Demand, target: float, within_s: float, max_occupancy: float = 1.0, most: int = _MAX_AGENTS
) -> Staffing:
    """The fewest agents whose service level reaches ``target`` and whose occupancy is at most ``max_occupancy``.

    Raises:
        ValueError: the target is not a share below 1, or no number of agents up to ``most`` meets it.
    """
    if not 0 < target < 1:
        raise ValueError(f"the target must be a share between 0 and 1 (0.8 for 80 %), got {target}")
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"the most occupancy must be a share above 0 and at most 1, got {max_occupancy}")
    # Erlang C needs more agents than Erlangs; under Erlang A those answered within the threshold are at most those
    # answered, whose work (target x traffic at least) the agents carry.
    start = max(1, math.floor(demand.traffic * target if demand.patience_s is not None else demand.traffic + 1))
    tried: dict[int, Staffing] = {}

    def meets(agents: int) -> bool:
        tried[agents] = found = figures(demand, agents, within_s)
        return found.service_level >= target and found.occupancy <= max_occupancy

    # More agents never lower the service level nor raise occupancy, so the first that meets the target is found by
    # steps that double from ``start`` and then by halving the last step: a few dozen figures, not one per agent.
    below, step = start - 1, 1
    while not meets(above := min(below + step, most)):
        if above == most:
            raise ValueError(f"no number of agents up to {most} meets {target:.0%} within {within_s:g} s")
        below, step = above, step * 2
    while above - below > 1:
        middle = (below + above) // 2
        below, above = (below, middle) if meets(middle) else (middle, above)
    return tried[above]


@dataclass(frozen=True, slots=True)
class Advice:
    """The agents needed, the agents to schedule once shrinkage is taken off, and the figures around that number."""

    demand: Demand
    needed: Staffing
    shrinkage: float
    table: tuple[Staffing, ...]  # a few agents fewer to two more than needed

    @property
    def scheduled(self) -> int:
        """Agents to put on the rota so that ``needed`` are at their desks when ``shrinkage`` of paid time is not."""
        return math.ceil(self.needed.agents / (1 - self.shrinkage) - 1e-9)

    def to_json(self) -> dict[str, object]:
        return {
            "model": "erlang_c" if self.demand.patience_s is None else "erlang_a",
            "needed": self.needed.to_json(),
            "shrinkage": self.shrinkage,
            "scheduled": self.scheduled,
            "table": [row.to_json() for row in self.table],
        }


def advise(
    demand: Demand, target: float, within_s: float, max_occupancy: float = 1.0, shrinkage: float = 0.0
) -> Advice:
    """:func:`agents_needed` with the agents to schedule and the figures from three fewer to two more agents.

    Raises:
        ValueError: as :func:`agents_needed`, or the shrinkage is not a share from 0 to below 1.
    """
    if not 0 <= shrinkage < 1:
        raise ValueError(f"the shrinkage must be a share from 0 to below 1, got {shrinkage}")
    needed = agents_needed(demand, target, within_s, max_occupancy)
    first = max(1, needed.agents - 3)
    if demand.patience_s is None:
        first = max(first, math.floor(demand.traffic) + 1)
    table = tuple(figures(demand, n, within_s) for n in range(first, needed.agents + 3))
    return Advice(demand, needed, shrinkage, table)


@dataclass(frozen=True, slots=True)
class EmailWorkload:
    """The agents email needs in each working hour: the arrivals' work, and the backlog's before it is late."""

    arrivals_per_hour: float
    handle_s: float
    backlog: int
    clear_within_h: float
    max_occupancy: float

    @property
    def arrival_hours(self) -> float:
        """Agent-hours of work that one working hour's arrivals bring."""
        return self.arrivals_per_hour * self.handle_s / 3600

    @property
    def backlog_hours(self) -> float:
        """Agent-hours of work waiting now."""
        return self.backlog * self.handle_s / 3600

    @property
    def agents(self) -> int:
        """Agents to keep on email: the arrivals' work plus the backlog spread over its time left, at the occupancy."""
        load = self.arrival_hours + self.backlog_hours / self.clear_within_h
        return math.ceil(load / self.max_occupancy - 1e-9) if load > 0 else 0

    def to_json(self) -> dict[str, object]:
        return {
            "arrivals_per_hour": self.arrivals_per_hour,
            "handle_s": self.handle_s,
            "backlog": self.backlog,
            "clear_within_h": self.clear_within_h,
            "arrival_hours": round(self.arrival_hours, 4),
            "backlog_hours": round(self.backlog_hours, 4),
            "agents": self.agents,
        }


def email_workload(
    arrivals_per_hour: float, handle_s: float, backlog: int, clear_within_h: float = 2.0, max_occupancy: float = 0.85
) -> EmailWorkload:
    """The workload per working hour that the email promise needs (see :class:`EmailWorkload`).

    ``clear_within_h``: the working hours the oldest of the backlog has left (the promise: 2 at most).
    """
    if arrivals_per_hour < 0 or backlog < 0:
        raise ValueError("arrivals and backlog must be 0 or more")
    if not handle_s > 0 or not clear_within_h > 0:
        raise ValueError("the handle time and the time to clear the backlog must be more than 0")
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"the most occupancy must be a share above 0 and at most 1, got {max_occupancy}")
    return EmailWorkload(arrivals_per_hour, handle_s, backlog, clear_within_h, max_occupancy)
