"""The service figures of the contacts that arrived in a span, per period and channel (the README's definitions).

- **Offered**: arrivals, less short abandons (unless ``count_short_abandons``) and abandons the customer
  turned into a callback (those count on the callback channel).
- **Answered**: an agent accepted the contact (chat, call, callback); an email, its first response.
- **Service level**: answered within the channel's threshold of its start (arrival; a booked callback's
  hour), over the offered that are decided (answered, ended, or waiting past the threshold). Email's
  threshold is the promise: the first response within the working hours it allows, counted per arrival.
- **Average speed of answer**: the mean time from start to answer of the answered (email: working time).
- **Average handle time**: the mean time from answer to close (talk, hold and wrap-up) of those closed.
- **Abandonment**: offered contacts that ended without an agent, over the offered.
- **First-contact resolution**: of the answered and closed, the share whose customer opened no other
  contact on any channel within ``fcr_days`` of the close.

Pure: the facts, the calendar and ``now`` are given.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt

from contact_center.contact_facts import ContactFacts, factorize
from contact_center.sla import BusinessCalendar, Period, Promise, Timeline, period_start

__all__ = [
    "ANSWER_EDGES_S",
    "HANDLE_EDGES_S",
    "AgentStat",
    "ChannelStat",
    "Measured",
    "Rules",
    "ServiceFigures",
    "figures_of",
    "hourly_of",
    "measured_of",
]  # fmt: skip

ANSWER_EDGES_S = (0, 10, 20, 30, 60, 120, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600)
HANDLE_EDGES_S = (0, 60, 120, 300, 600, 900, 1800, 3600)
_DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Rules:
    """How the figures are counted: each channel's answer threshold (email's is the promise) and the choices."""

    thresholds: Mapping[str, float]
    promise: Promise = field(default_factory=Promise)
    short_abandon_s: float = 5.0
    count_short_abandons: bool = False
    callback_instead_s: float = 600.0
    fcr_days: float = 7.0


@dataclass(frozen=True, slots=True)
class ChannelStat:
    """One channel's figures in one period (``start``: the period's first day)."""

    start: date
    channel: str
    arrived: int
    offered: int
    answered: int
    in_time: int
    pending: int  # waiting, not past the threshold yet: left out of the service level
    abandoned: int
    short_abandoned: int
    to_callback: int
    answer_s: float  # summed, of the answered
    handled: int
    handle_s: float  # summed, of the handled
    resolvable: int
    resolved_first: int
    answer_counts: tuple[int, ...]  # answered per ANSWER_EDGES_S bucket
    handle_counts: tuple[int, ...]  # handled per HANDLE_EDGES_S bucket

    @property
    def service_level(self) -> float | None:
        decided = self.offered - self.pending
        return self.in_time / decided if decided else None

    @property
    def asa_s(self) -> float | None:
        return self.answer_s / self.answered if self.answered else None

    @property
    def aht_s(self) -> float | None:
        return self.handle_s / self.handled if self.handled else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.offered if self.offered else None

    @property
    def fcr(self) -> float | None:
        return self.resolved_first / self.resolvable if self.resolvable else None


@dataclass(frozen=True, slots=True)
class AgentStat:
    agent_id: str
    handled: int
    handle_s: float
    rated: int
    rating_sum: float
    resolvable: int
    resolved_first: int

    @property
    def aht_s(self) -> float | None:
        return self.handle_s / self.handled if self.handled else None

    @property
    def mean_rating(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None

    @property
    def fcr(self) -> float | None:
        return self.resolved_first / self.resolvable if self.resolvable else None


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    period: Period
    channels: list[ChannelStat]  # by period, then channel
    totals: list[ChannelStat]  # one per channel, over the whole span (start: the span's first day)
    agents: list[AgentStat]  # most handled first
    callback_outcomes: dict[str, int]  # a callback's disposition, or its state when it has none


@dataclass(frozen=True, slots=True)
class Measured:
    """Per contact: what the figures count. Each row is its contact's own (given the contacts around it for
    first-contact resolution and callbacks), so a span's rows can be taken from a wider span's."""

    answered: npt.NDArray[np.bool_]
    answer_s: npt.NDArray[np.float64]
    in_time: npt.NDArray[np.bool_]
    pending: npt.NDArray[np.bool_]
    short: npt.NDArray[np.bool_]
    to_callback: npt.NDArray[np.bool_]
    abandoned: npt.NDArray[np.bool_]
    handled: npt.NDArray[np.bool_]
    handle_s: npt.NDArray[np.float64]
    resolvable: npt.NDArray[np.bool_]
    resolved: npt.NDArray[np.bool_]

    def take(self, rows: npt.NDArray[np.bool_]) -> Measured:
        return Measured(*(getattr(self, f.name)[rows] for f in fields(Measured)))


def measured_of(facts: ContactFacts, calendar: BusinessCalendar, rules: Rules, now: float) -> Measured:
    """What the figures count for every contact of ``facts``: measured once, it serves every span of ``facts``
    (:func:`figures_of`, :func:`hourly_of`; the dashboard's day, week and hours)."""
    return _measure(facts, _resolved_first(facts, rules.fcr_days * _DAY_S), facts, calendar, rules, now)


def figures_of(
    facts: ContactFacts,
    calendar: BusinessCalendar,
    rules: Rules,
    now: float,
    period: Period,
    first: date,
    last: date,
    since: float,
    until: float,
    measured: Measured | None = None,
) -> ServiceFigures:
    """The figures of the contacts that arrived in [since, until) (local days ``first`` to ``last``).

    ``facts`` may hold later arrivals too (up to ``fcr_days`` after ``until``): they only decide whether a
    contact in the span was resolved at first contact. ``measured``: :func:`measured_of` the same facts, if
    the caller has it.
    """
    inside = (facts.created >= since) & (facts.created < until)
    span = facts.take(inside)
    measured = _within(span, facts, inside, calendar, rules, now, measured)
    starts = _period_starts(span, calendar, period)
    names, codes = factorize(span.channel)  # compare small integers, not text
    channels = _stats_of(measured, *_keys(starts, names, codes))
    totals = _stats_of(measured, [(first, str(ch)) for ch in names], codes)
    return ServiceFigures(period, channels, totals, _agents(span, measured), _callback_outcomes(span))


def hourly_of(
    facts: ContactFacts,
    calendar: BusinessCalendar,
    rules: Rules,
    now: float,
    day: date,
    measured: Measured | None = None,
) -> dict[str, list[ChannelStat]]:
    """One day's figures per channel and local hour (24 rows each, ``start`` the day), by arrival (``measured``
    as for :func:`figures_of`)."""
    zone = calendar.zone
    since = datetime.combine(day, time(), zone).timestamp()
    until = datetime.combine(day + timedelta(days=1), time(), zone).timestamp()
    inside = (facts.created >= since) & (facts.created < until)
    span = facts.take(inside)
    measured = _within(span, facts, inside, calendar, rules, now, measured)
    hours = _local_hours(span.created, since, until, zone)
    names, codes = factorize(span.channel)
    k = len(names)
    stats = _stats_of(measured, [(day, str(ch)) for _ in range(24) for ch in names], hours * k + codes)
    return {str(ch): stats[c::k] for c, ch in enumerate(names)}


def _within(
    span: ContactFacts,
    facts: ContactFacts,
    inside: npt.NDArray[np.bool_],
    calendar: BusinessCalendar,
    rules: Rules,
    now: float,
    measured: Measured | None,
) -> Measured:
    """The measure of ``span``, the rows ``inside`` of ``facts``: taken from ``measured`` (of ``facts``) if given,
    else made for the span alone."""
    if measured is not None:
        return measured.take(inside)
    resolved = _resolved_first(facts, rules.fcr_days * _DAY_S)[inside]
    return _measure(span, resolved, facts, calendar, rules, now)


def _local_hours(at: npt.NDArray[np.float64], since: float, until: float, zone: tzinfo) -> npt.NDArray[np.int64]:
    """The local hour of each moment of one day [since, until): by arithmetic on a day of 24 even hours (no
    object per contact: the dashboard reads this every few seconds), else (a change of clocks) one by one."""
    starts = [since + 3600.0 * h for h in range(24)]
    if until - since == _DAY_S and all(datetime.fromtimestamp(s, zone).hour == h for h, s in enumerate(starts)):
        return np.minimum((at - since) // 3600, 23).astype(np.int64)
    return np.array([datetime.fromtimestamp(t, zone).hour for t in at.tolist()], dtype=np.int64)


def _keys(
    starts: npt.NDArray[np.int64], names: list[str], codes: npt.NDArray[np.intp]
) -> tuple[list[tuple[date, str]], npt.NDArray[np.intp]]:
    """Each (period start, channel) that has contacts, in that order (channels as ``names`` are: sorted), and each
    contact's place among them; by arithmetic on the codes, with no object per contact."""
    if not len(codes):
        return [], np.zeros(0, dtype=np.intp)
    pair = starts * len(names) + codes
    low = int(pair.min())
    present = np.flatnonzero(np.bincount(pair - low))  # the pairs span a few days' worth of numbers: no sort
    place = np.zeros(int(present[-1]) + 1, dtype=np.intp)
    place[present] = np.arange(len(present))
    keys = [(date.fromordinal(p // len(names)), str(names[p % len(names)])) for p in (present + low).tolist()]
    return keys, place[pair - low]


def _period_starts(span: ContactFacts, calendar: BusinessCalendar, period: Period) -> npt.NDArray[np.int64]:
    if not len(span):
        return np.zeros(0, dtype=np.int64)
    first = calendar.local_date(float(span.created.min()))
    last = calendar.local_date(float(span.created.max()))
    timeline = Timeline(calendar, first, last)
    by_day = np.array([period_start(d, period).toordinal() for d in timeline.days], dtype=np.int64)
    return by_day[timeline.local_days(span.created)]


def _measure(
    span: ContactFacts,
    resolved: npt.NDArray[np.bool_],
    everything: ContactFacts,
    calendar: BusinessCalendar,
    rules: Rules,
    now: float,
) -> Measured:
    email = span.channel == "email"
    start = np.where(np.isnan(span.slot), span.created, span.slot)
    answered_at = np.where(email, span.answered, span.accepted)
    answered = ~np.isnan(answered_at)
    threshold = np.full(len(span), np.inf)
    for channel in set(span.channel.tolist()):
        threshold[span.channel == channel] = rules.thresholds.get(channel, np.inf)
    answer_s = np.where(answered, np.maximum(answered_at - start, 0.0), np.nan)
    in_time = answered & (answer_s <= threshold)
    ended = ~np.isnan(span.closed)
    pending = ~answered & ~ended & (now - start <= threshold)
    if email.any():
        answer_s, in_time, pending = _email_promise(
            span, email, answered, answer_s, in_time, pending, calendar, rules, now
        )
    abandoned_state = span.state == "abandoned"
    short = abandoned_state & (span.closed - span.created <= rules.short_abandon_s)
    to_callback = abandoned_state & ~short & _took_callback(span, everything, rules.callback_instead_s)
    handled = answered & (span.state == "closed")
    handle_s = np.where(handled, np.maximum(span.closed - span.accepted, 0.0), np.nan)
    return Measured(
        answered,
        answer_s,
        in_time,
        pending,
        short,
        to_callback,
        abandoned_state & ~to_callback & (~short | rules.count_short_abandons),
        handled,
        handle_s,
        handled,
        resolved & handled,
    )


def _email_promise(
    span: ContactFacts,
    email: npt.NDArray[np.bool_],
    answered: npt.NDArray[np.bool_],
    answer_s: npt.NDArray[np.float64],
    in_time: npt.NDArray[np.bool_],
    pending: npt.NDArray[np.bool_],
    calendar: BusinessCalendar,
    rules: Rules,
    now: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Email counts in working time: answered by its deadline, and pending until the deadline passes."""
    created = span.created[email]
    first = calendar.local_date(float(created.min()))
    last = max(calendar.local_date(float(np.nanmax(span.answered[email], initial=created.max()))), first)
    timeline = Timeline(calendar, first, last + timedelta(days=200))
    due = timeline.add(created, rules.promise.within_s)
    reply = span.answered[email]
    got = answered[email]
    working = np.where(got, timeline.working_seconds(created, np.where(got, reply, created)), np.nan)
    answer_s, in_time, pending = answer_s.copy(), in_time.copy(), pending.copy()
    answer_s[email] = working
    in_time[email] = got & (np.where(got, reply, np.inf) <= due)
    pending[email] = ~got & (now <= due)
    return answer_s, in_time, pending


def _took_callback(span: ContactFacts, everything: ContactFacts, within_s: float) -> npt.NDArray[np.bool_]:
    """Abandoned contacts whose customer asked for a callback while waiting or ``within_s`` after leaving."""
    callbacks = everything.channel == "callback"
    asked: dict[str, list[float]] = {}
    for customer, at in zip(
        everything.customer[callbacks].tolist(), everything.created[callbacks].tolist(), strict=True
    ):
        asked.setdefault(customer, []).append(at)  # in arrival order: the facts are
    out = np.zeros(len(span), dtype=bool)
    for i in np.flatnonzero((span.state == "abandoned") & (span.channel != "callback")).tolist():
        mine = asked.get(span.customer[i], [])
        j = bisect.bisect_left(mine, span.created[i])
        out[i] = j < len(mine) and mine[j] <= span.closed[i] + within_s
    return out


def _resolved_first(facts: ContactFacts, window_s: float) -> npt.NDArray[np.bool_]:
    """For each contact, whether its customer opened no other contact within ``window_s`` after it closed."""
    n = len(facts)
    if n == 0:
        return np.zeros(0, dtype=bool)
    _, codes = factorize(facts.customer, ordered=False)  # only which contacts share a customer
    origin = float(facts.created.min())
    # One sorted line of (customer, arrival): each customer's arrivals a billion seconds apart from the next's.
    key = codes.astype(np.float64) * 1e9 + (facts.created - origin)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    closed = np.where(np.isnan(facts.closed), np.inf, facts.closed)
    after = codes.astype(np.float64) * 1e9 + (closed - origin)
    j = np.searchsorted(ordered, after, side="right")
    found = np.full(n, np.inf)
    has = j < n
    found[has] = ordered[j[has]]
    near = (np.floor(found / 1e9) == codes) & np.isfinite(after)  # a later contact of the same customer
    reopened = np.zeros(n, dtype=bool)
    reopened[near] = found[near] - after[near] <= window_s
    resolved: npt.NDArray[np.bool_] = ~reopened
    return resolved


def _stats_of(m: Measured, keys: list[tuple[date, str]], group: npt.NDArray[np.intp]) -> list[ChannelStat]:
    """The figures of each group of contacts (row i in group ``group[i]``; group g's period start and channel are
    ``keys[g]``): one pass over the rows per figure (``bincount``), whatever the number of groups."""
    n = len(keys)
    offered = ~m.to_callback & ~(m.short & ~m.abandoned)  # a short abandon not counted is not offered

    def count(mask: npt.NDArray[np.bool_]) -> list[int]:
        counted: list[int] = np.bincount(group[mask], minlength=n).tolist()
        return counted

    def total(values: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_]) -> list[float]:
        summed: list[float] = np.bincount(group[mask], weights=values[mask], minlength=n).tolist()
        return summed

    def buckets(values: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_], edges: tuple[int, ...]) -> list[Any]:
        """Per group, how many values fall in [edge, next edge) for each edge, the last bucket open-ended."""
        at = np.searchsorted(np.array(edges[1:]), values[mask], side="right")
        flat = np.bincount(group[mask] * len(edges) + at, minlength=n * len(edges))
        return [tuple(row) for row in flat.reshape(n, len(edges)).tolist()]

    figures = zip(
        count(np.ones(len(group), dtype=bool)), count(offered), count(m.answered), count(offered & m.in_time),
        count(offered & m.pending), count(m.abandoned), count(m.short), count(m.to_callback),
        total(m.answer_s, m.answered), count(m.handled), total(m.handle_s, m.handled), count(m.resolvable),
        count(m.resolved), buckets(m.answer_s, m.answered, ANSWER_EDGES_S),
        buckets(m.handle_s, m.handled, HANDLE_EDGES_S), strict=True,
    )  # fmt: skip
    return [ChannelStat(start, channel, *row) for (start, channel), row in zip(keys, figures, strict=True)]


def _agents(span: ContactFacts, m: Measured) -> list[AgentStat]:
    """Each agent's figures, summed by agent in one pass each (``bincount`` over the agents' codes)."""
    if not len(span):
        return []
    names, codes = factorize(span.agent)
    k = len(names)
    rated = ~np.isnan(span.rating)

    def total(weights: npt.NDArray[np.float64] | npt.NDArray[np.bool_], where: npt.NDArray[np.bool_]) -> list[float]:
        summed: list[float] = np.bincount(
            codes[where], weights=np.asarray(weights, dtype=np.float64)[where], minlength=k
        ).tolist()
        return summed

    ones = np.ones(len(span))
    handled, handle_s = total(ones, m.handled), total(m.handle_s, m.handled)
    n_rated, rating_sum = total(ones, rated), total(span.rating, rated)
    resolvable, resolved = total(ones, m.resolvable), total(ones, m.resolved)
    stats = [
        AgentStat(
            str(name),
            int(handled[i]),
            handle_s[i],
            int(n_rated[i]),
            rating_sum[i],
            int(resolvable[i]),
            int(resolved[i]),
        )
        for i, name in enumerate(names)
        if name
    ]
    return sorted(stats, key=lambda s: (-s.handled, s.agent_id))


def _callback_outcomes(span: ContactFacts) -> dict[str, int]:
    mine = span.channel == "callback"
    outcomes = Counter(
        d if d else s for d, s in zip(span.disposition[mine].tolist(), span.state[mine].tolist(), strict=True)
    )
    return dict(outcomes.most_common())
