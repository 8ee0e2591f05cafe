"""The ICE servers a voice call's browser is given (STUN, and TURN with credentials made for the call), and the
ephemeral credentials of the TURN REST convention that a SIP gateway's auth_ephemeral checks the same way.

TURN credentials follow the TURN REST convention that coturn's ``use-auth-secret`` checks: the user
name is the expiry time and a label (``{expiry}:{label}``), the password the base64 of the HMAC-SHA1
of that name under the secret both the engine and the TURN server know. Nothing is stored: the TURN
server checks the pair itself, and refuses it after the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from contact_center.config import CallConfig

__all__ = ["ice_servers", "turn_credentials"]


def turn_credentials(secret: str, label: str, now: float, ttl_s: float) -> tuple[str, str]:
    """The user name and password of a TURN REST credential for ``label``, good until ``now + ttl_s``."""
    username = f"{int(now + ttl_s)}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(config: CallConfig, label: str, now: float) -> list[dict[str, Any]]:
    """``RTCPeerConnection``'s ``iceServers`` for one side of a call (``label``: whose credentials)."""
    servers: list[dict[str, Any]] = []
    if config.stun_urls:
        servers.append({"urls": list(config.stun_urls)})
    if config.turn_urls:
        username, credential = turn_credentials(config.turn_secret, label, now, config.turn_ttl_s)
        servers.append({"urls": list(config.turn_urls), "username": username, "credential": credential})
    return servers
