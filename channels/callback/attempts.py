"""What happens after an agent dialled a callback: closed, tried again, or called back at the hour agreed.

The agent records how the call went (:class:`Outcome`). Reached, or a wrong number, closes the
callback. No answer or a busy line tries it again ``callback.retry_delay_s`` of the office's
working time later (a retry never falls on a closed hour), until ``callback.attempts`` tries were
made; the last failure closes it, with the reason. "Call back later" books the hour the customer
asked for (checked as a booked slot is), and counts as a try that reached them. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from contact_center.config import CallbackConfig
from contact_center.exceptions import ClientError

__all__ = ["Next", "Outcome", "after", "outcome_of"]


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    CALL_BACK_LATER = "call_back_later"


@dataclass(frozen=True, slots=True)
class Next:
    """``due_at`` None: the callback is closed, ``reason`` saying why; else it is due again then."""

    reason: str
    due_at: float | None = None
    attempts: int = 0  # the tries that failed so far, counted towards ``callback.attempts``


def outcome_of(value: object) -> Outcome:
    """The outcome an agent recorded; :class:`ClientError` on ``outcome`` for anything else."""
    for outcome in Outcome:
        if outcome.value == value:
            return outcome
    choices = ", ".join(o.value for o in Outcome)
    raise ClientError(f"outcome: one of {choices}, got {value!r}", "invalid_field", field="outcome")


def after(
    outcome: Outcome,
    failed: int,
    now: float,
    config: CallbackConfig,
    working_later: Callable[[float, float], float],
    later_at: float | None = None,
) -> Next:
    """The callback after this try: ``failed`` tries failed before it; ``working_later(now, seconds)`` is
    ``seconds`` of the office's working time after ``now``; ``later_at`` the hour agreed (a booked slot's
    start, checked by the caller) for :attr:`Outcome.CALL_BACK_LATER`."""
    if outcome in (Outcome.REACHED, Outcome.WRONG_NUMBER):
        return Next(outcome.value, None, failed)
    if outcome == Outcome.CALL_BACK_LATER:
        if later_at is None:
            raise ClientError("at: the hour the customer asked to be called", "invalid_field", field="at")
        return Next(outcome.value, later_at, 0)
    tries = failed + 1
    if tries >= config.attempts:
        return Next(f"{outcome.value} ({tries} of {config.attempts} tries)", None, tries)
    return Next(outcome.value, working_later(now, config.retry_delay_s), tries)
