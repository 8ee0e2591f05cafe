"""Counters, gauges and histograms, and GET /metrics in Prometheus's text format, for the configured addresses only."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from contact_center.config import Config
from contact_center.metrics import Metrics
from tests.clients import desk, widget
from tests.conftest import Server, start_server


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, read back by prometheus-client's own parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_every_declared_series_is_rendered_from_the_start_and_counts_add_up():
    """Before anything happened the unlabelled series are there at 0; counters add per label set; gauges are live."""
    m = Metrics()
    text = m.render()
    assert "# TYPE cc_offers_total counter" in text and samples(text)["cc_offers_total", ()] == 0
    m.inc("cc_offers_total", 3)
    count = m.counter("cc_redis_round_trips_total", client="store")
    for _ in range(5):
        count()
    m.inc("cc_redis_round_trips_total", client="bus")
    waiting = [7]
    m.gauge("cc_contacts_waiting", lambda: waiting[0])
    m.gauges("cc_queue_depth", lambda: {"chat": waiting[0], "email": 2})
    m.observe("cc_answer_wait_seconds", 12.0, channel="chat")
    m.observe("cc_answer_wait_seconds", 45.0, channel="chat")
    waiting[0] = 9
    got = samples(m.render())
    assert got["cc_offers_total", ()] == 3
    assert got["cc_redis_round_trips_total", (("client", "bus"),)] == 1
    assert got["cc_redis_round_trips_total", (("client", "store"),)] == 5
    assert got["cc_contacts_waiting", ()] == 9
    assert got["cc_queue_depth", (("channel", "chat"),)] == 9 and got["cc_queue_depth", (("channel", "email"),)] == 2
    assert got["cc_answer_wait_seconds_count", (("channel", "chat"),)] == 2
    assert got["cc_answer_wait_seconds_bucket", (("channel", "chat"), ("le", "30.0"))] == 1
    assert m.value("cc_redis_round_trips_total", client="store") == 5


def test_an_undeclared_name_is_refused():
    """A typo in a metric name fails where it is counted, not silently in a dashboard."""
    with pytest.raises(KeyError, match="cc_ofers_total"):
        Metrics().inc("cc_ofers_total")
    with pytest.raises(KeyError, match="cc_offers_total"):
        Metrics().gauge("cc_offers_total", lambda: 1)  # a counter is not a gauge


async def test_metrics_show_the_queue_the_offers_the_waits_and_the_service_level(server: Server):
    """A chat waits (queue depth 1), is offered and accepted (an answer wait observed, a routing pass timed);
    /metrics counts it all; on Redis, the store's round trips too."""
    waiting, _ = await widget(server, {"topic": "general", "language": "id"})
    await waiting.send({"type": "message", "client_id": "w-1", "text": "Halo"})
    await waiting.expect("ack")
    got = samples(await scrape(server))
    assert got["cc_queue_depth", (("channel", "chat"),)] == 1
    assert got["cc_queue_oldest_wait_seconds", (("channel", "chat"),)] >= 0
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    got = samples(await scrape(server))
    assert got["cc_offers_total", ()] == 1 and got["cc_queue_depth", (("channel", "chat"),)] == 0
    assert got["cc_answer_wait_seconds_count", (("channel", "chat"),)] == 1
    assert got["cc_routing_pass_seconds_count", ()] >= 1
    assert got["cc_sockets_open", ()] == 2  # the widget and the desk
    if server.engine.shared:
        assert got["cc_redis_round_trips_total", (("client", "store"),)] > 0


async def scrape(server: Server, headers: dict[str, str] | None = None) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/metrics", headers=headers or {}) as r:
            assert r.status == 200, await r.text()
            assert r.content_type == "text/plain" and "version=" in r.headers["Content-Type"]
            return await r.text()


async def test_metrics_are_refused_to_an_address_not_configured(config: Config):
    """With metrics_from naming another network, loopback gets 403 saying what to configure; a forged
    X-Forwarded-For changes nothing (no proxy is trusted)."""
    server = await start_server(replace(config, server=replace(config.server, metrics_from=("10.0.0.0/8",))))
    try:
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Forwarded-For": "10.1.2.3"}):
                async with http.get(f"{server.url}/metrics", headers=headers) as r:
                    assert r.status == 403
                    assert "server.metrics_from" in (await r.json())["message"]
    finally:
        await server.runner.cleanup()


async def test_metrics_time_the_collectors_pauses(server: Server):
    """A full collection while the engine runs is counted, with its pause, and the longest is kept; the objects it
    found in reference cycles are counted too."""
    import gc

    def found(text: str) -> float:  # in any generation: a young collection may come first
        return sum(float(x.split()[-1]) for x in text.splitlines() if x.startswith("cc_gc_collected_objects{"))

    before = found(await scrape(server))
    for _ in range(10):  # ten objects that hold each other: only the collector frees them
        ring: list[object] = []
        ring.append(ring)
    del ring
    gc.collect()
    text = await scrape(server)
    assert found(text) - before >= 10
    counted = [line for line in text.splitlines() if line.startswith('cc_gc_pause_seconds_count{generation="2"}')]
    assert counted and float(counted[0].split()[-1]) >= 1
    longest = [line for line in text.splitlines() if line.startswith('cc_gc_longest_pause_seconds{generation="2"}')]
    assert longest and float(longest[0].split()[-1]) > 0
