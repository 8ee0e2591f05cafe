"""The shipped widget, in headless Chromium, when the agent's replies come after the customer's own ack."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, expect

from contact_center.events import Event, MessagePosted
from contact_center.web.app import BUS
from tests.clients import desk
from tests.conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def slow_replies(server: Server, seconds: float) -> None:
    """The agent's messages to the customer are published ``seconds`` late (a busy path between nodes)."""
    bus, loop = server.app[BUS], asyncio.get_running_loop()
    publish = bus.publish

    def slow(topic: str, message: Event) -> None:
        posted = message.message if isinstance(message, MessagePosted) else None
        late = posted is not None and topic.startswith("customer:") and posted.actor != "customer"
        if late:
            loop.call_later(seconds, publish, topic, message)
        else:
            publish(topic, message)

    bus.publish = slow  # type: ignore[method-assign]


async def test_replies_that_come_after_the_customers_own_message_are_shown_in_their_place(
    browser: Browser, server: Server
):
    """Replies 2-3 are on their way when message 4 is acked; the socket drops meanwhile: all shown, once, in order."""
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    shop = await (await browser.new_context()).new_page()
    await shop.goto(f"{server.url}/")
    await shop.get_by_role("button", name="Chat with us").click()
    await shop.fill("textarea", "Halo, paket saya belum sampai")
    await shop.keyboard.press("Enter")
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    contact_id = (await agent.expect("assigned"))["contact"]["id"]
    await expect(shop.locator(".msg.pending")).to_have_count(0)

    slow_replies(server, 1.5)
    for i, text in enumerate(["Baik, saya cek dulu.", "Paket Anda di gudang Bekasi."], start=1):
        await agent.send({"type": "reply", "contact_id": contact_id, "client_id": f"r-{i}", "text": text})
        await agent.expect("ack", client_id=f"r-{i}")
    await shop.fill("textarea", "Kapan sampainya?")
    await shop.keyboard.press("Enter")
    await expect(shop.locator(".msg.pending")).to_have_count(0)  # acked as 4, before 2 and 3 came
    await shop.evaluate("window.ContactCenterWidget.dropConnection()")  # and the socket drops before they come

    messages = shop.locator(".msg")
    await expect(messages.locator(".text")).to_have_text(
        ["Halo, paket saya belum sampai", "Baik, saya cek dulu.", "Paket Anda di gudang Bekasi.", "Kapan sampainya?"],
        timeout=10_000,
    )
    assert await messages.evaluate_all("ns => ns.map(n => n.getAttribute('data-seq'))") == ["1", "2", "3", "4"]
    await asyncio.sleep(2)  # the late copies have come by now: each shown once
    await expect(messages).to_have_count(4)
