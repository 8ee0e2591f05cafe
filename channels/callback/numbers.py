"""The number a customer asks to be called at: a claim, parsed and checked before anyone dials it.

It is read with libphonenumber's rules (``phonenumbers``): a number written without a country
code is of ``callback.default_region``; it must be a valid number of a mobile or fixed line (a
premium-rate, shared-cost, pager or voicemail number is not one an agent calls back), of a country
in ``callback.countries`` (none listed: any). It is kept in E.164 (``+6281234567890``), so one
number written two ways is one number, and two requests for it are one callback.
"""

from __future__ import annotations

from collections.abc import Collection

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from contact_center.exceptions import ClientError

__all__ = ["CALLABLE", "callable_number"]

CALLABLE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_MAX_CHARS = 40  # longer is not a phone number, however it is written


def _refused(message: str, problem: str) -> ClientError:
    return ClientError(f"phone: {message}", "invalid_field", field="phone", problem=problem)


def callable_number(text: object, default_region: str, countries: Collection[str] = ()) -> str:
    """``text`` as an E.164 number an agent may call back; :class:`ClientError` on ``phone`` naming why not.

    ``problem`` is ``not_a_number`` (nothing like a phone number), ``invalid_number`` (no such
    number), ``not_callable`` (not a mobile or fixed line) or ``country_not_served``.
    """
    if not isinstance(text, str) or not text.strip() or len(text) > _MAX_CHARS:
        raise _refused(f"a phone number of at most {_MAX_CHARS} characters", "not_a_number")
    try:
        number = phonenumbers.parse(text, default_region.upper() or None)
    except NumberParseException as exc:
        raise _refused(f"{text!r} is not a phone number ({exc._msg})", "not_a_number") from None
    if not phonenumbers.is_valid_number(number):
        raise _refused(f"{text!r} is not a valid phone number", "invalid_number")
    region = phonenumbers.region_code_for_number(number) or ""
    if countries and region not in {c.upper() for c in countries}:
        served = ", ".join(sorted(c.upper() for c in countries))
        raise _refused(f"numbers of {region or 'that country'} are not called (only {served})", "country_not_served")
    if phonenumbers.number_type(number) not in CALLABLE:
        raise _refused(f"{text!r} is not a mobile or fixed line", "not_callable")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
