"""The ``[call]`` section: click-to-call, a voice call from the customer's browser to an agent's desk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contact_center.config.checks import Table, number, text_list
from contact_center.exceptions import ConfigError

__all__ = ["CallConfig", "read_call"]


@dataclass(frozen=True, slots=True)
class CallConfig:
    """A call waiting for an agent is due ``service_level_s`` after it was placed, at risk from
    ``at_risk_fraction`` of that; after ``offer_callback_after_s`` in the queue the customer is offered a
    callback instead. Both sides find each other through ``stun_urls`` and, behind a firewall that lets no
    media through, relay it through ``turn_urls``: a TURN server sharing ``turn_secret`` with the engine (coturn's
    ``use-auth-secret``), whose credentials the engine makes for each call, valid ``turn_ttl_s``; with
    ``ice_transport_policy = "relay"`` all sound goes through TURN, and neither side learns the other's
    address. A call whose
    media is not flowing ``connect_timeout_s`` after it was answered has failed. A page whose socket dropped
    mid-call (its sound may still flow) takes the call back on a new socket within ``resume_grace_s``, or
    the call ends."""

    service_level_s: float = 30.0
    at_risk_fraction: float = 0.8
    offer_callback_after_s: float = 120.0
    connect_timeout_s: float = 20.0
    resume_grace_s: float = 10.0
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    turn_ttl_s: float = 3600.0
    ice_transport_policy: str = "all"


def _urls(scheme: tuple[str, ...]) -> Any:
    return lambda v: text_list(v) and all(u.split(":", 1)[0] in scheme and ":" in u for u in v)


def _fraction(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _policy(value: Any) -> bool:
    return value in ("all", "relay")


def read_call(t: Table) -> CallConfig:
    d = CallConfig()
    cfg = CallConfig(
        service_level_s=float(t.get("service_level_s", d.service_level_s, number(0), "a number of seconds > 0")),
        at_risk_fraction=float(t.get("at_risk_fraction", d.at_risk_fraction, _fraction, "a number from 0 to 1")),
        offer_callback_after_s=float(
            t.get("offer_callback_after_s", d.offer_callback_after_s, number(0), "a number of seconds > 0")
        ),
        connect_timeout_s=float(t.get("connect_timeout_s", d.connect_timeout_s, number(0), "a number of seconds > 0")),
        resume_grace_s=float(t.get("resume_grace_s", d.resume_grace_s, number(-1), "a number of seconds >= 0")),
        stun_urls=tuple(
            t.get("stun_urls", list(d.stun_urls), _urls(("stun", "stuns")), 'a list like ["stun:host:3478"]')
        ),
        turn_urls=tuple(
            t.get(
                "turn_urls", list(d.turn_urls), _urls(("turn", "turns")), 'a list like ["turn:host:3478?transport=udp"]'
            )
        ),
        turn_secret=t.get(
            "turn_secret", d.turn_secret, lambda v: isinstance(v, str), "the TURN server's shared secret"
        ),
        turn_ttl_s=float(t.get("turn_ttl_s", d.turn_ttl_s, number(59), "a number of seconds >= 60")),
        ice_transport_policy=t.get("ice_transport_policy", d.ice_transport_policy, _policy, '"all" or "relay"'),
    )
    t.done()
    if cfg.ice_transport_policy == "relay" and not cfg.turn_urls:
        raise ConfigError(f"{t.key('ice_transport_policy')}: relay needs a TURN server in turn_urls")
    if cfg.turn_urls and not cfg.turn_secret:
        raise ConfigError(f"{t.key('turn_secret')}: turn_urls are set, so the TURN server's shared secret is needed")
    return cfg
