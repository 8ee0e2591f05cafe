"""Counters and gauges, and GET /metrics in Prometheus's text format."""

from __future__ import annotations

import aiohttp
import pytest

from contact_center.metrics import Metrics
from tests.clients import offered_chat
from tests.conftest import Server


def test_every_declared_series_is_rendered_from_the_start_and_counts_add_up():
    """Before anything happened every series is there at 0; counters add per label set; gauges are read live."""
    m = Metrics()
    text = m.render()
    assert "# TYPE cc_offers_total counter" in text and "\ncc_offers_total 0\n" in text
    m.inc("cc_offers_total", 3)
    count = m.counter("cc_redis_round_trips_total", client="store")
    for _ in range(5):
        count()
    m.inc("cc_redis_round_trips_total", client="bus")
    waiting = [7]
    m.gauge("cc_contacts_waiting", lambda: waiting[0])
    waiting[0] = 9
    text = m.render()
    assert "\ncc_offers_total 3\n" in text
    assert '\ncc_redis_round_trips_total{client="bus"} 1\ncc_redis_round_trips_total{client="store"} 5\n' in text
    assert "\ncc_contacts_waiting 9\n" in text
    assert m.value("cc_redis_round_trips_total", client="store") == 5


def test_an_undeclared_name_is_refused():
    """A typo in a metric name fails where it is counted, not silently in a dashboard."""
    with pytest.raises(KeyError, match="cc_ofers_total"):
        Metrics().inc("cc_ofers_total")


async def test_metrics_show_the_offers_made_and_the_redis_round_trips(server: Server):
    """After a chat is offered and accepted, /metrics counts the offer; on Redis, the store's round trips too."""
    await offered_chat(server)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/metrics") as r:
            assert r.status == 200
            assert r.content_type == "text/plain"
            text = await r.text()
    values = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert values["cc_offers_total"] == "1"
    assert values["cc_contacts_waiting"] == "0"
    assert values["cc_sockets_open"] == "2"  # the widget and the desk
    if server.engine.shared:
        assert int(values['cc_redis_round_trips_total{client="store"}']) > 0
