"""The in-process bus: delivery in order, and listeners that leave while a message is being delivered."""

from __future__ import annotations

from typing import Any

from contact_center.bus import Bus


def test_a_listener_leaving_during_delivery_misses_only_later_messages():
    """Every listener present when a message is published gets it, even if one leaves meanwhile."""
    bus = Bus()
    got: dict[str, list[Any]] = {"a": [], "b": []}
    stops = {}

    def a(message: dict[str, Any]) -> None:
        got["a"].append(message["n"])
        stops["a"]()  # leaves on its first message

    stops["a"] = bus.subscribe("agent:1", a)
    stops["b"] = bus.subscribe("agent:1", lambda m: got["b"].append(m["n"]))
    bus.publish("agent:1", {"n": 1})
    bus.publish("agent:1", {"n": 2})
    assert got == {"a": [1], "b": [1, 2]}
    stops["b"]()
    stops["b"]()  # a second stop is harmless
    bus.publish("agent:1", {"n": 3})
    assert got == {"a": [1], "b": [1, 2]}
    assert bus._subs == {}  # the topic is gone with its last listener
