"""Every error the engine raises on purpose derives from :class:`ContactCenterError`.

::

    ContactCenterError
    ├── ConfigError              a config.toml key is missing or has a bad value
    ├── InvalidTransition        a lifecycle was asked to move where it may not
    ├── NotFound                 a contact, customer, agent or offer does not exist
    ├── Conflict                 a record that must be unique exists already (a username, say)
    │   └── Stale                another engine node changed the record first; nothing recorded
    ├── StoreUnavailable         the store cannot be reached now; nothing was recorded
    ├── Busy                     the engine is at a limit it keeps to stay responsive; try again shortly
    ├── Unparseable              an inbound email that cannot be read; quarantined with the reason
    ├── AuthError                no, bad or expired credentials
    │   └── Forbidden            valid credentials, wrong role or someone else's data
    └── ClientError              a client sent something we refuse; has a wire ``code``
        ├── BadMessage           malformed JSON, unknown type, missing or bad field
        ├── FrameTooLarge        a websocket frame over the configured limit
        ├── NotHeld              an action on a contact or offer the agent does not hold
        └── Throttled            too many attempts or requests; ``retry_after_s`` says when to try again
            └── AccountLocked    an account locked after repeated wrong passwords (the right one too)

Each error that reaches a client carries a short, stable ``code`` (written in
``docs/protocol.md``) and a message naming what was wrong.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccountLocked",
    "AuthError",
    "BadMessage",
    "Busy",
    "ClientError",
    "ConfigError",
    "Conflict",
    "ContactCenterError",
    "Forbidden",
    "FrameTooLarge",
    "InvalidTransition",
    "NotFound",
    "NotHeld",
    "Stale",
    "StoreUnavailable",
    "Throttled",
    "Unparseable",
]


class ContactCenterError(Exception):
    """Root of the engine's own errors."""

    code = "error"


class ConfigError(ContactCenterError):
    """A configuration key is missing or has a bad value; the message names the key."""

    code = "config"


class InvalidTransition(ContactCenterError):
    """A lifecycle (contact, offer, agent status) was asked for a move it does not allow."""

    code = "invalid_transition"

    def __init__(self, what: str, current: str, target: str) -> None:
        super().__init__(f"{what} cannot go from {current!r} to {target!r}")
        self.what = what
        self.current = current
        self.target = target


class NotFound(ContactCenterError):
    """The thing asked for does not exist."""

    code = "not_found"


class Conflict(ContactCenterError):
    """A record that must be unique exists already: a customer id, an identity, a username."""

    code = "conflict"


class Stale(ContactCenterError):
    """A change was made on a record another engine node changed meanwhile; nothing was recorded.

    The engine reads the record again and retries; a client hears of it only if that keeps failing
    (as ``conflict``). Not a :class:`Conflict`: code that handles "exists already" must not take a
    stale unit for one and swallow the retry.
    """

    code = "conflict"


class StoreUnavailable(ContactCenterError):
    """The store cannot be reached now (Redis down or restarting); nothing of the request was recorded."""

    code = "store_unavailable"


class Busy(ContactCenterError):
    """The engine is at a limit it keeps so that it goes on serving everyone (too many password checks queued)."""

    code = "busy"


class Unparseable(ContactCenterError):
    """An inbound email that cannot be read as one; it is kept, quarantined with this reason."""

    code = "unparseable"


class AuthError(ContactCenterError):
    """Missing, wrong or expired credentials."""

    code = "unauthorized"


class Forbidden(AuthError):
    """Valid credentials that do not allow this."""

    code = "forbidden"


class ClientError(ContactCenterError):
    """Something a client sent that the engine refuses."""

    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        # What a client may act on or translate, beside the message: ``field``, ``problem``, ``limit``.
        self.detail = detail


class BadMessage(ClientError):
    """Malformed JSON, an unknown message type, or a missing or bad field."""

    code = "bad_message"


class FrameTooLarge(ClientError):
    """A websocket frame larger than ``[webchat] max_frame_bytes``."""

    code = "frame_too_large"


class NotHeld(ClientError):
    """An action on a contact or offer that this agent does not hold."""

    code = "not_held"


class Throttled(ClientError):
    """Too many attempts or requests from one client, or for one account; try again after ``retry_after_s``."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_s: float, code: str | None = None) -> None:
        super().__init__(message, code)
        self.retry_after_s = retry_after_s


class AccountLocked(Throttled):
    """An account locked for a while after repeated wrong passwords; the right password is refused too."""

    code = "account_locked"
