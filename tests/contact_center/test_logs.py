"""Structured logs: ids are bound where input enters, so events carry them."""

from __future__ import annotations

import json
import subprocess
import sys

from structlog.testing import capture_logs

from tests.clients import desk, widget
from tests.conftest import Server


async def test_events_carry_contact_channel_and_agent_ids(server: Server):
    """Creating, offering and accepting a chat logs events with contact_id, channel and agent_id."""
    agent_user = await server.add_agent("ayu")
    with capture_logs() as logs:
        agent, _ = await desk(server, "ayu")
        customer, welcome = await widget(server)
        await customer.send({"type": "message", "client_id": "1", "text": "hello"})
        offer = await agent.expect("offer")
        await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
        await agent.expect("assigned")
    by_event = {entry["event"]: entry for entry in logs}
    created = by_event["contact.created"]
    assert created["channel"] == "chat" and created["customer_id"] == welcome["customer_id"]
    assert by_event["offer.made"]["agent_id"] == agent_user.id
    accepted = by_event["offer.accepted"]
    assert accepted["contact_id"] == offer["contact"]["id"] and accepted["agent_id"] == agent_user.id


def test_logs_are_json_lines_off_a_terminal(tmp_path):
    """With format auto and stderr not a terminal, every log line is a JSON object."""
    config = tmp_path / "config.toml"
    config.write_text('[store]\ndata_dir = "data"\n')
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from contact_center.config import load_config; from contact_center.logs import configure_logging;"
            "import structlog, sys; configure_logging(load_config(__import__('pathlib').Path(sys.argv[1])).logging);"
            "structlog.get_logger().info('probe', contact_id='c1', channel='chat')",
            str(config),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = json.loads(out.stderr.strip().splitlines()[-1])
    assert line["event"] == "probe" and line["contact_id"] == "c1" and line["level"] == "info"
