"""The sections of who may do what: ``[auth]`` (sessions, password checks, back-off and lockout) and
``[identity]`` (how a chat visitor's identity is verified)."""

from __future__ import annotations

from dataclasses import dataclass

from contact_center.config.checks import Table, integer, number
from contact_center.exceptions import ConfigError

__all__ = ["IDENTIFIER_KINDS", "AuthConfig", "IdentityConfig", "read_auth", "read_identity"]

IDENTIFIER_KINDS = ("email", "phone", "user_id")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Sessions, and what stands between a password guesser and an account.

    Passwords are hashed with Argon2id at ``hash_time_cost`` passes over ``hash_memory_kib`` of
    memory in ``hash_lanes`` lanes (RFC 9106's second recommended setting by default; a stored hash
    made at another cost is made again at the next right login). They are checked by
    ``hash_workers`` threads at once, at CPU priority ``hash_nice`` (0-19; 19 the lowest), and at
    most ``hash_queue`` checks wait their turn (more are refused as busy), so a flood of logins
    queues instead of taking the engine. After ``free_failures``
    wrong passwords for one username (or ``client_free_failures`` from one client address) each
    next try must wait, ``backoff_first_s`` doubling up to ``backoff_max_s``; ``lockout_after``
    failures lock the account for ``lockout_s``, the right password included. Failures are
    counted for ``failure_window_s`` from the first, and a right password (outside a lockout)
    forgets a username's at once.
    """

    session_ttl_s: float = 8 * 3600.0
    customer_token_ttl_s: float = 30 * 86400.0
    hash_time_cost: int = 3
    hash_memory_kib: int = 64 * 1024
    hash_lanes: int = 4
    hash_workers: int = 1
    hash_queue: int = 256
    hash_nice: int = 19
    free_failures: int = 3
    client_free_failures: int = 20
    backoff_first_s: float = 1.0
    backoff_max_s: float = 300.0
    failure_window_s: float = 900.0
    lockout_after: int = 10
    lockout_s: float = 900.0


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    """How a chat visitor comes to be known as a customer.

    ``secret`` is the key the host site signs the identifier of its signed-in user with
    (HMAC-SHA256, hex); ``identifier`` says what that identifier is: the user's email address,
    phone number, or the site's own user id. Empty: no site vouches for anyone. A visitor may
    also prove an email address with a code mailed to it: valid ``code_ttl_s``, ``code_attempts``
    tries, at most ``codes_per_hour`` codes per visitor and per address.
    """

    secret: str = ""
    identifier: str = "email"
    code_ttl_s: float = 600.0
    code_attempts: int = 5
    codes_per_hour: int = 3


def read_auth(t: Table) -> AuthConfig:
    d = AuthConfig()
    cfg = AuthConfig(
        session_ttl_s=float(t.get("session_ttl_s", d.session_ttl_s, number(0), "a number > 0")),
        customer_token_ttl_s=float(t.get("customer_token_ttl_s", d.customer_token_ttl_s, number(0), "a number > 0")),
        hash_time_cost=t.get("hash_time_cost", d.hash_time_cost, integer(1), "an integer >= 1"),
        hash_memory_kib=t.get("hash_memory_kib", d.hash_memory_kib, integer(8), "an integer >= 8"),
        hash_lanes=t.get("hash_lanes", d.hash_lanes, lambda v: integer(1)(v) and v <= 64, "an integer 1-64"),
        hash_workers=t.get("hash_workers", d.hash_workers, lambda v: integer(1)(v) and v <= 64, "an integer 1-64"),
        hash_queue=t.get("hash_queue", d.hash_queue, integer(1), "an integer >= 1"),
        hash_nice=t.get("hash_nice", d.hash_nice, lambda v: integer(0)(v) and v <= 19, "an integer 0-19"),
        free_failures=t.get("free_failures", d.free_failures, integer(0), "an integer >= 0"),
        client_free_failures=t.get("client_free_failures", d.client_free_failures, integer(0), "an integer >= 0"),
        backoff_first_s=float(t.get("backoff_first_s", d.backoff_first_s, number(0), "a number of seconds > 0")),
        backoff_max_s=float(t.get("backoff_max_s", d.backoff_max_s, number(0), "a number of seconds > 0")),
        failure_window_s=float(t.get("failure_window_s", d.failure_window_s, number(0), "a number of seconds > 0")),
        lockout_after=t.get("lockout_after", d.lockout_after, integer(1), "an integer >= 1"),
        lockout_s=float(t.get("lockout_s", d.lockout_s, number(0), "a number of seconds > 0")),
    )
    if cfg.backoff_max_s < cfg.backoff_first_s:
        raise ConfigError(f"{t.key('backoff_max_s')}: must not be below backoff_first_s")
    if cfg.hash_memory_kib < 8 * cfg.hash_lanes:
        raise ConfigError(f"{t.key('hash_memory_kib')}: Argon2 needs at least 8 KiB a lane ({8 * cfg.hash_lanes})")
    t.done()
    return cfg


def read_identity(t: Table) -> IdentityConfig:
    d = IdentityConfig()
    secret = t.get("secret", d.secret, lambda v: isinstance(v, str), "a string")
    if secret and len(secret) < 16:
        raise ConfigError(f"{t.key('secret')}: at least 16 characters (a random key, e.g. openssl rand -hex 32)")
    cfg = IdentityConfig(
        secret=secret,
        identifier=t.get("identifier", d.identifier, lambda v: v in IDENTIFIER_KINDS, " or ".join(IDENTIFIER_KINDS)),
        code_ttl_s=float(t.get("code_ttl_s", d.code_ttl_s, number(0), "a number of seconds > 0")),
        code_attempts=t.get("code_attempts", d.code_attempts, integer(1), "an integer >= 1"),
        codes_per_hour=t.get("codes_per_hour", d.codes_per_hour, integer(1), "an integer >= 1"),
    )
    t.done()
    return cfg
