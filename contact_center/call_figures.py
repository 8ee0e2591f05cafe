"""What a browser says of a voice call's line (from WebRTC's ``getStats``), checked before it is recorded.

Both voice paths record it: a click-to-call call's two sides, and a callback dialled from the desk through
the SIP gateway. The known figures only, each a number from 0 to the largest believed; ``route`` is how the
browser's sound went (its ICE candidate type: ``relay`` through TURN). Anything else is refused by name.
"""

from __future__ import annotations

import math
from typing import Any

from contact_center.exceptions import ClientError

__all__ = ["quality"]

_FIGURES = {  # name: the largest value believed
    "rtt_ms": 60_000.0, "jitter_ms": 60_000.0, "packets_lost": 1e9, "packets_received": 1e9, "packets_sent": 1e9,
    "bytes_received": 1e12, "bytes_sent": 1e12, "signals": 1e6,
}  # fmt: skip


_ROUTES = frozenset({"host", "srflx", "prflx", "relay"})


def quality(msg: dict[str, Any]) -> dict[str, float | str]:
    """A browser's figures of a call (from ``getStats``): the known ones, each a number from 0 to its bound;
    ``route``, how its sound went (the ICE candidate type of this side: ``relay`` through TURN)."""
    found: dict[str, float | str] = {}
    route = msg.get("route")
    if route is not None:
        if route not in _ROUTES:
            raise ClientError(f"route: one of {', '.join(sorted(_ROUTES))}", "invalid_field", field="route")
        found["route"] = str(route)
    for name, most in _FIGURES.items():
        value = msg.get(name)
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise ClientError(f"{name}: must be a number", "invalid_field", field=name, problem="not_number")
        if not 0 <= value <= most:
            raise ClientError(f"{name}: must be from 0 to {most:g}, got {value:g}", "invalid_field", field=name,
                              problem="out_of_range")  # fmt: skip
        found[name] = round(float(value), 3)
    return found
