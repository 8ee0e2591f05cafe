"""Who a request comes from: its peer's address, or, behind a trusted load balancer, the client's.

Every limit that counts per client address (connections, logins, new chat visitors) asks here.
``X-Forwarded-For`` is believed only from a peer in ``server.trusted_proxies``, and read from
the right: the first address that is not itself a trusted proxy is the client (what a client
wrote further left is its own claim, and is ignored).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web

__all__ = ["ClientAddresses"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class ClientAddresses:
    """Tells the client address of a request or a connection's peer."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._trusted: tuple[_Network, ...] = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)

    def trusted(self, peer: str) -> bool:
        """Whether ``peer`` is a load balancer whose ``X-Forwarded-For`` is believed."""
        address = _address(peer)
        return address is not None and any(address in network for network in self._trusted)

    def of(self, request: web.Request) -> str:
        """The client's address, as text ("unknown" when the transport has none)."""
        peer = request.remote or "unknown"
        if not self.trusted(peer):
            return peer
        hops = [h.strip() for value in request.headers.getall("X-Forwarded-For", []) for h in value.split(",")]
        for hop in reversed(hops):
            if _address(hop) is None:
                return peer  # a malformed chain: the proxy itself is all that is known
            if not self.trusted(hop):
                return str(_address(hop))
        return peer
