"""Dialling a callback from the desk through the SIP gateway (``[gateway]``), or on the agent's own phone.

The desk asks how to dial a callback it is calling (``dial_setup``): with a gateway configured, the
answer is what its softphone needs to call the number through it: the gateway's WebSocket address, the
company's caller ID as the SIP user, credentials made for this agent now (the TURN REST scheme that
Kamailio's ``auth_ephemeral`` checks, so the gateway needs no account per agent), the SIP address of the
number and the ICE servers; without one, only the ``tel:`` link. The gateway decides what may be called
(it holds the secret's other half); the engine gives credentials only to an agent holding the callback.
"""

from __future__ import annotations

from typing import Any

from channels.callback.kind import tel_link
from contact_center.clock import Clock
from contact_center.config import Config
from contact_center.engine import Engine
from contact_center.exceptions import NotHeld
from contact_center.fields import require_text
from contact_center.ice import ice_servers, turn_credentials
from contact_center.model import Channel, ContactState

__all__ = ["Dialling"]


class Dialling:
    def __init__(self, engine: Engine, config: Config, clock: Clock) -> None:
        self._engine = engine
        self._gateway = config.gateway
        self._call = config.call
        self._clock = clock

    async def setup(self, agent_id: str, msg: dict[str, Any]) -> dict[str, Any]:
        """``dial_setup`` for a callback the agent is calling: the gateway's way, or the tel: link alone."""
        cid = require_text("contact_id", msg.get("contact_id"), 64)
        contact = self._engine.held(agent_id, cid)
        if contact.channel != Channel.CALLBACK or contact.state != ContactState.ASSIGNED:
            raise NotHeld(f"contact {cid!r} is not a callback you are calling", contact_id=cid)
        phone = str(contact.details.get("phone", ""))
        answer: dict[str, Any] = {"type": "dial_setup", "contact_id": cid, "tel": tel_link(phone), "gateway": None}
        g = self._gateway
        if g.configured:
            now = self._clock.now()
            username, password = turn_credentials(g.secret, f"agent-{agent_id}", now, g.credential_ttl_s)
            answer["gateway"] = {
                "ws_url": g.ws_url,
                "uri": f"sip:{g.caller_id}@{g.domain}",
                "caller_id": g.caller_id,
                "username": username,
                "password": password,
                "target": f"sip:{phone}@{g.domain}",
                "ice_servers": ice_servers(self._call, f"agent-{agent_id}", now),
            }
        return answer
