"""The day a simulation replays: generated from arrival rates and handle times, or taken from the history.

Generated: Poisson arrivals per channel at a rate per hour (one rate for the whole day, or one per
hour of the day), exponential handle times of the given mean, and, where a mean patience is given,
exponential patience. From the history: each contact of the day arrives when it did (a booked
callback at its hour), keeps its handle time (answer to close) where it had one, else its channel's
mean that day, and a contact that was abandoned is as patient as it was. The history keeps no
skills per contact, so every contact needs ``general``; the router's choice among agents still
follows their levels in it.

Pure: a seeded random generator, the facts given.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

import numpy as np

from contact_center.contact_facts import ContactFacts
from contact_center.simulation import Arrival

__all__ = ["from_history", "generated"]

Rate = float | Sequence[float]  # arrivals an hour: all day, or one per hour of the day (24)


def _hourly(rate: Rate) -> list[float]:
    if isinstance(rate, int | float):
        return [float(rate)] * 24
    rates = [float(r) for r in rate]
    if len(rates) != 24 or any(r < 0 for r in rates):
        raise ValueError("arrival rates: one for the whole day, or 24 (one per hour), none negative")
    return rates


def generated(
    rates: Mapping[str, Rate], handle_s: Mapping[str, float], start: float, seed: int = 1,
    patience_s: Mapping[str, float] | None = None, days: int = 1,
) -> list[Arrival]:  # fmt: skip
    """``days`` days from ``start`` of Poisson arrivals per channel, in arrival order."""
    rng = random.Random(seed)  # noqa: S311 (a simulation, not a secret)
    out: list[Arrival] = []
    for channel, rate in sorted(rates.items()):
        hours = _hourly(rate)
        mean = handle_s.get(channel)
        if mean is None or not mean > 0:
            raise ValueError(f"handle time of {channel}: a mean in seconds above 0 is needed")
        patience = (patience_s or {}).get(channel, math.inf)
        for hour in range(24 * days):
            per_s = hours[hour % 24] / 3600
            t, end = start + hour * 3600, start + (hour + 1) * 3600
            while per_s > 0:
                t += rng.expovariate(per_s)
                if t >= end:
                    break
                wait = rng.expovariate(1 / patience) if math.isfinite(patience) else math.inf
                out.append(Arrival(t, channel, rng.expovariate(1 / mean), patience_s=wait))
    out.sort(key=lambda a: a.at)
    return out


def from_history(facts: ContactFacts, default_handle_s: float = 300.0) -> list[Arrival]:
    """The contacts of ``facts`` as a day to replay (see the module's docstring), in arrival order."""
    at = np.where(np.isnan(facts.slot), facts.created, facts.slot)
    handled = np.where(~np.isnan(facts.accepted) & ~np.isnan(facts.closed), facts.closed - facts.accepted, np.nan)
    means: dict[str, float] = {}
    for channel in set(facts.channel.tolist()):
        mine = handled[(facts.channel == channel) & ~np.isnan(handled)]
        means[channel] = float(mine.mean()) if len(mine) else default_handle_s
    abandoned = facts.state == "abandoned"
    out = []
    for i, channel in enumerate(facts.channel.tolist()):
        handle = float(handled[i]) if not math.isnan(handled[i]) else means[channel]
        patience = float(facts.closed[i] - facts.created[i]) if abandoned[i] else math.inf
        out.append(Arrival(float(at[i]), channel, max(1.0, handle), patience_s=max(0.0, patience)))
    out.sort(key=lambda a: a.at)
    return out
