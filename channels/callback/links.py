"""The links a customer's confirmation carries, to cancel or move their callback: signed, single-purpose, single-use.

A link's token is ``{contact id}.{nonce}.{signature}``: the signature is an HMAC-SHA256, under the
deployment's key, of the contact, the link's purpose and the nonce. A token forged or altered fails
its signature; one made for cancelling fails as a reschedule link (the purpose is in what is
signed); one used already fails because the callback's nonce for that purpose has changed since
(the service keeps the live nonces in the contact's details). No I/O here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum

from contact_center.exceptions import Forbidden

__all__ = ["Purpose", "new_nonce", "read_token", "token_for"]


class Purpose(StrEnum):
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


def _signature(key: str, contact_id: str, purpose: Purpose, nonce: str) -> str:
    said = f"{contact_id}\x00{purpose.value}\x00{nonce}".encode()
    return hmac.new(key.encode(), said, hashlib.sha256).hexdigest()[:40]


def token_for(key: str, contact_id: str, purpose: Purpose, nonce: str) -> str:
    return f"{contact_id}.{nonce}.{_signature(key, contact_id, purpose, nonce)}"


def read_token(key: str, token: object, purpose: Purpose) -> tuple[str, str]:
    """The contact id and nonce of a token signed for ``purpose``; :class:`Forbidden` for anything else
    (whether the nonce is still live is the caller's to check)."""
    parts = token.split(".") if isinstance(token, str) and len(token) <= 200 else []
    if len(parts) != 3 or not all(parts):
        raise Forbidden(f"this is not a link to {purpose.value} a callback")
    contact_id, nonce, signature = parts
    if not hmac.compare_digest(signature, _signature(key, contact_id, purpose, nonce)):
        raise Forbidden(f"this is not a link to {purpose.value} a callback")
    return contact_id, nonce
