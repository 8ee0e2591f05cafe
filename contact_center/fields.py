"""Checks for the text fields clients send: what is wrong is named in the error."""

from __future__ import annotations

import math
import re
from typing import Any

from contact_center.exceptions import BadMessage

__all__ = ["normalise_email", "normalise_phone", "require_int", "require_number", "require_text"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; tab, newline and return may stay.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def require_text(name: str, value: Any, max_chars: int, *, allow_empty: bool = False) -> str:
    """Return ``value`` if it is a string of at most ``max_chars`` characters.

    Raises:
        BadMessage: ``invalid_field`` naming ``name`` when it is not a string, is empty
            (unless allowed), too long, or holds control characters.
    """
    if not isinstance(value, str):
        raise BadMessage(f"{name}: must be a string", "invalid_field", field=name, problem="not_text")
    if not allow_empty and (not value or value.isspace()):  # what strip() would leave empty
        raise BadMessage(f"{name}: must not be empty", "invalid_field", field=name, problem="empty")
    if len(value) > max_chars:
        raise BadMessage(
            f"{name}: at most {max_chars} characters, got {len(value)}",
            "invalid_field",
            field=name,
            problem="too_long",
            limit=max_chars,
        )
    # Printable text has no control character at all; only other text needs the closer look.
    if not value.isprintable() and _CONTROL.search(value):
        raise BadMessage(f"{name}: control characters are not allowed", "invalid_field", field=name, problem="control")
    return value


def normalise_email(value: Any) -> str:
    """Lower-case and check an email address (``email`` field)."""
    text = require_text("email", value, 254).strip().lower()
    if not _EMAIL.match(text):
        problem = {"field": "email", "problem": "not_an_email"}
        raise BadMessage(f"email: {text!r} is not an email address", "invalid_field", **problem)
    return text


def normalise_phone(value: Any) -> str:
    """Keep a leading ``+`` and the digits of a phone number (``phone`` field)."""
    text = require_text("phone", value, 40).strip()
    digits = re.sub(r"[\s().-]", "", text)
    if not re.fullmatch(r"\+?\d{6,15}", digits):
        raise BadMessage(f"phone: {text!r} is not a phone number", "invalid_field")
    return digits


def require_int(name: str, value: Any, minimum: int = 0) -> int:
    """Return ``value`` if it is an integer of at least ``minimum`` (``invalid_field`` otherwise)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BadMessage(f"{name}: must be an integer >= {minimum}", "invalid_field", field=name, problem="not_integer")
    return value


def require_number(name: str, value: Any, least: float, most: float, *, above: bool = False) -> float:
    """Return ``value`` as a float if it is a number from ``least`` (exclusive with ``above``) to ``most``.

    Raises:
        BadMessage: ``invalid_field`` naming ``name``, with ``problem`` ``not_number`` (also for NaN and the
            infinities) or ``out_of_range`` (with ``least``, ``most`` and ``above``).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise BadMessage(f"{name}: must be a number", "invalid_field", field=name, problem="not_number")
    if value < least or (above and value == least) or value > most:  # an int of any size compares exactly
        span = f"above {least:g} and at most {most:g}" if above else f"from {least:g} to {most:g}"
        raise BadMessage(
            f"{name}: must be a number {span}",
            "invalid_field", field=name, problem="out_of_range", least=least, most=most, above=above,
        )  # fmt: skip
    return float(value)
