"""The Grafana dashboard in deploy/: valid JSON whose every query reads a series the engine's /metrics serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp

from contact_center.metrics import DECLARED
from tests.conftest import Server

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "contact-center.json"
_SERIES = re.compile(r"\b(cc_[a-z_]+)")


def queried() -> set[str]:
    spec = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in spec["panels"] for t in p["targets"]]
    assert len({p["id"] for p in spec["panels"]}) == len(spec["panels"]), "panel ids are unique"
    return {m for e in exprs for m in _SERIES.findall(e)}


def test_every_query_names_a_declared_series():
    """No panel reads a name the engine does not declare (a histogram through its _bucket series)."""
    names = queried()
    assert names, "the dashboard queries the engine"
    for name in names:
        base = name.removesuffix("_bucket")
        assert base in DECLARED, f"{name} is not in contact_center.metrics.DECLARED"
        if name.endswith("_bucket"):
            assert DECLARED[base][0] == "histogram"


async def test_the_engine_serves_every_series_the_dashboard_reads(server: Server):
    """A scrape of a running engine names every series the panels query (those with labels once they are used)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/metrics") as r:
            text = await r.text()
    served = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    for name in queried():
        assert name.removesuffix("_bucket") in served, f"{name} is not served"
