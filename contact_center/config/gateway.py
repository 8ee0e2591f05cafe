"""The ``[gateway]`` section: the SIP gateway the desk's softphone dials customers' phones through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers

from contact_center.config.checks import Table, number
from contact_center.exceptions import ConfigError

__all__ = ["GatewayConfig", "read_gateway"]


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """With ``ws_url`` set, an agent calls a callback's number from the desk: the desk's softphone connects to
    the gateway's SIP-over-WebSocket address, as the user ``caller_id`` (the company's number, E.164, which the
    customer sees) at ``domain``, with credentials the engine makes for that agent and call, good
    ``credential_ttl_s``: the user name ``{expiry}:agent-{id}``, the password an HMAC-SHA1 of it under ``secret``,
    which the gateway shares (Kamailio's ``auth_ephemeral``). Without it the agent dials on their own phone."""

    ws_url: str = ""
    domain: str = ""
    caller_id: str = ""
    secret: str = ""
    credential_ttl_s: float = 3600.0

    @property
    def configured(self) -> bool:
        return bool(self.ws_url)


def _ws(value: Any) -> bool:
    """A ws(s) address, with nothing that would end the pages' Content-Security-Policy's source list."""
    if not isinstance(value, str) or any(c in value for c in " ;,'\"\t\n"):
        return False
    return value == "" or value.startswith(("wss://", "ws://"))


def _e164(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if value == "":
        return True
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == value


def read_gateway(t: Table) -> GatewayConfig:
    d = GatewayConfig()
    cfg = GatewayConfig(
        ws_url=t.get("ws_url", d.ws_url, _ws, "a WebSocket address like wss://sip.example.com:8443"),
        domain=t.get("domain", d.domain, lambda v: isinstance(v, str), "the gateway's SIP domain"),
        caller_id=t.get("caller_id", d.caller_id, _e164, "the company's number in E.164, like +622150000"),
        secret=t.get("secret", d.secret, lambda v: isinstance(v, str), "the secret the gateway shares"),
        credential_ttl_s=float(t.get("credential_ttl_s", d.credential_ttl_s, number(59), "seconds >= 60")),
    )
    t.done()
    if cfg.configured and not (cfg.domain and cfg.caller_id and cfg.secret):
        raise ConfigError(f"{t.key('ws_url')}: a gateway needs its domain, the caller_id and the shared secret")
    return cfg
