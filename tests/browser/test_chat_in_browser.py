"""A customer and an agent, each in headless Chromium, as people use the widget and the desk."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from contact_center.web.app import SOCKETS
from tests.conftest import PASSWORD, Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

HOSTILE = '<img src=x onerror="window.pwned=1"> Halo, <b>tolong</b> bantu saya'


async def open_desk(
    browser: Browser,
    server: Server,
    username: str,
    *,
    available: bool = True,
    connected: str = "connected",
    **context: Any,
) -> Page:
    """An agent signed in at the desk (and, unless told otherwise, Available); ``context``: the browser context's."""
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(f"{server.url}/desk")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login-button")
    await expect(page.locator("#connection")).to_have_text(connected)  # in the desk's language
    if available:
        await page.select_option("#status", "available")
    return page


async def test_chat_from_widget_to_desk_and_back_with_a_dropped_socket(browser: Browser, server: Server):
    """Customer writes, agent accepts and replies, transcript in history, socket drops and resumes losslessly."""
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")

    shop = await (await browser.new_context()).new_page()
    await shop.goto(f"{server.url}/")
    # The widget's own stylesheet works under the page's strict CSP: the box is closed until asked for.
    await expect(shop.locator("textarea")).to_be_hidden()
    await shop.get_by_role("button", name="Chat with us").click()
    await expect(shop.locator("textarea")).to_be_visible()
    await shop.fill("textarea", HOSTILE)
    await shop.keyboard.press("Enter")

    offer = desk.locator("#offers li")
    await expect(offer).to_have_count(1)
    await expect(offer.locator(".countdown")).to_contain_text("s to answer")
    await offer.locator("button.accept").click()
    transcript = desk.locator("#transcript")
    await expect(transcript.locator(".msg.customer .text")).to_have_text(HOSTILE)
    assert await transcript.locator("img, b").count() == 0

    await desk.fill("#reply-text", "Selamat siang! Saya bantu cek ya.")
    await desk.click("#reply-send")
    widget_agent = shop.locator(".msg.agent .text")
    await expect(widget_agent).to_have_text(["Selamat siang! Saya bantu cek ya."])
    await expect(desk.locator("#history")).to_contain_text("Pages visited")
    await expect(desk.locator("#history")).to_contain_text("Demo shop – contact center")
    await shop.goto(f"{server.url}/?page=shipping")  # the customer opens another page of the shop
    await expect(desk.locator("#history .pages li")).to_have_count(2)  # the desk sees it as it happens

    # The customer's socket drops; the agent writes twice and the customer once while it is down.
    await shop.evaluate("window.ContactCenterWidget.dropConnection()")
    await desk.fill("#reply-text", "Pesanan Anda sedang dikirim.")
    await desk.click("#reply-send")
    await desk.fill("#reply-text", "Estimasi tiba besok.")
    await desk.click("#reply-send")
    await shop.fill("textarea", "Terima kasih!")
    await shop.keyboard.press("Enter")
    await expect(widget_agent).to_have_text(
        ["Selamat siang! Saya bantu cek ya.", "Pesanan Anda sedang dikirim.", "Estimasi tiba besok."]
    )
    await expect(transcript.locator(".msg.customer .text")).to_have_text([HOSTILE, "Terima kasih!"])
    await expect(shop.locator(".msg.customer .text")).to_have_text([HOSTILE, "Terima kasih!"])
    await expect(shop.locator(".msg.pending")).to_have_count(0)
    assert await shop.evaluate("window.pwned") is None and await desk.evaluate("window.pwned") is None

    # Now the server drops every socket (a restart, a load balancer): a reply written meanwhile is not lost.
    for sock in list(server.app[SOCKETS]):
        await sock.going_away()
    await desk.fill("#reply-text", "Maaf, koneksi sempat putus.")
    await desk.click("#reply-send")
    await expect(widget_agent).to_have_count(4)
    await expect(widget_agent.last).to_have_text("Maaf, koneksi sempat putus.")
    await expect(transcript.locator(".msg.agent")).to_have_count(4)
    await expect(transcript.locator(".msg.pending")).to_have_count(0)

    contact_id = await desk.locator("#contacts li").get_attribute("data-contact")
    messages = await server.engine.store.messages(contact_id or "")
    assert [m.data["text"] for m in messages] == [
        HOSTILE,
        "Selamat siang! Saya bantu cek ya.",
        "Pesanan Anda sedang dikirim.",
        "Estimasi tiba besok.",
        "Terima kasih!",
        "Maaf, koneksi sempat putus.",
    ]

    await desk.select_option("#disposition", "resolved")
    await desk.click("#close-contact")
    await expect(shop.locator(".note").last).to_contain_text("The chat has ended.")
    await expect(desk.locator("#contacts li")).to_have_count(0)
