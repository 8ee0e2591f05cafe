"""The chat widget as a customer uses it, in headless Chromium: its traps, its languages, a phone, accessibility."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from contact_center.model import Channel, Contact
from contact_center.web.keys import CONFIG
from tests.clients import WsClient, desk
from tests.conftest import Server, make_config, start_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


async def shop_page(browser: Browser, server: Server, path: str = "/", **context: object) -> Page:
    page = await (await browser.new_context(**context)).new_page()  # type: ignore[arg-type]
    await page.goto(f"{server.url}{path}")
    return page


async def open_chats(server: Server) -> list[Contact]:
    return [c for c in await server.engine.store.open_contacts() if c.channel is Channel.CHAT]


async def write(page: Page, text: str) -> None:
    await page.fill("textarea", text)
    await page.keyboard.press("Enter")


async def chat_taken(browser: Browser, server: Server, text: str) -> tuple[WsClient, Page, str]:
    """A customer of the Indonesian widget wrote ``text``; agent ayu (a desk socket) took the chat: its id."""
    await server.add_agent("ayu")
    agent, _ = await desk(server, "ayu")
    shop = await shop_page(browser, server, locale="id-ID")
    await shop.get_by_role("button", name="Chat dengan kami").click()
    await write(shop, text)
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    return agent, shop, (await agent.expect("assigned"))["contact"]["id"]


async def test_end_chat_shows_only_once_a_chat_exists_and_asks_before_it_ends(browser: Browser, server: Server):
    shop = await shop_page(browser, server)
    await shop.get_by_role("button", name="Chat with us").click()
    await expect(shop.get_by_text("Hello! How can we help you today?")).to_be_visible()
    await expect(shop.get_by_role("button", name="End chat")).to_have_count(0)

    await write(shop, "Halo, saya perlu bantuan")
    await expect(shop.locator(".msg.pending")).to_have_count(0)
    await expect(shop.get_by_text("You are next in the queue")).to_be_visible()  # told within a few seconds
    assert len(await open_chats(server)) == 1
    await shop.get_by_role("button", name="End chat").click()
    await shop.get_by_role("button", name="No, go on").click()  # asked first; nothing ended
    await shop.get_by_role("button", name="End chat").click()
    await shop.get_by_role("button", name="Yes, end it").click()
    await expect(shop.get_by_role("button", name="Chat with us")).to_be_visible()  # the window closes
    await shop.get_by_role("button", name="Chat with us").click()
    await expect(shop.locator(".note").last).to_contain_text("The chat has ended.")
    await expect(shop.get_by_role("button", name="End chat")).to_have_count(0)
    await expect(shop.locator(".note.error")).to_have_count(0)  # no "no open chat" error, ever
    assert await open_chats(server) == []  # abandoned: no agent had it


async def test_a_refused_message_is_shown_once_translated_and_never_sent_again(browser: Browser, server: Server):
    """The Indonesian widget: the engine refuses a message; the reason is in Indonesian, and a reload sends nothing."""
    shop = await shop_page(browser, server, locale="id-ID")
    await shop.get_by_role("button", name="Chat dengan kami").click()
    await write(shop, "Halo\u0007 ada bel")  # a control character: only the engine's check refuses it
    failed = shop.locator(".msg.failed")
    await expect(failed).to_have_count(1)
    await expect(failed).to_contain_text("Tidak terkirim: pesan berisi karakter yang tidak dapat dikirim")
    stored = json.loads(await shop.evaluate("localStorage.getItem('contact-center:' + location.host)"))
    assert stored["pending"] == []

    await shop.reload()
    await expect(shop.get_by_role("dialog", name="Layanan pelanggan")).to_be_visible()  # still open after the reload
    await asyncio.sleep(1)  # what a resend would take
    await expect(shop.locator(".msg")).to_have_count(0)
    await expect(shop.locator(".note.error")).to_have_count(0)
    assert await open_chats(server) == []


async def test_a_message_over_the_length_limit_is_not_sent_and_the_widget_says_why(browser: Browser, server: Server):
    shop = await shop_page(browser, server)
    await shop.get_by_role("button", name="Chat with us").click()
    limit = server.app[CONFIG].webchat.max_message_chars
    await shop.fill("textarea", "a" * (limit + 1))
    await expect(shop.get_by_role("alert")).to_contain_text(f"at most {limit:,} characters")
    await expect(shop.get_by_role("button", name="Send")).to_be_disabled()
    await shop.keyboard.press("Enter")
    await expect(shop.locator(".msg")).to_have_count(0)
    await shop.fill("textarea", "a" * (limit - 5))
    await expect(shop.get_by_text("5 characters left")).to_be_visible()
    await expect(shop.get_by_role("button", name="Send")).to_be_enabled()


async def test_the_window_and_the_conversation_follow_the_customer_to_the_next_page(browser: Browser, server: Server):
    shop = await shop_page(browser, server)
    await shop.get_by_role("button", name="Chat with us").click()
    await write(shop, "Apakah ongkir gratis?")
    await expect(shop.locator(".msg.pending")).to_have_count(0)
    await shop.get_by_role("link", name="billing · tagihan").click()
    await shop.wait_for_url("**/?page=billing")
    await expect(shop.locator(".msg.customer .text")).to_have_text(["Apakah ongkir gratis?"])
    await shop.get_by_role("button", name="Minimise the chat").click()
    await shop.get_by_role("link", name="shipping · pengiriman").click()
    await shop.wait_for_url("**/?page=shipping")
    await expect(shop.get_by_role("button", name="Chat with us")).to_be_visible()  # minimised stays minimised
    await expect(shop.get_by_role("dialog")).to_have_count(0)


async def test_on_a_phone_the_widget_fills_the_screen_and_its_input_does_not_make_the_page_zoom(
    browser: Browser, server: Server
):
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
    shop = await shop_page(browser, server, **phone)
    # The page has a viewport tag: laid out at the phone's width, not a shrunken desktop page.
    assert await shop.evaluate("document.documentElement.clientWidth") == 390
    await shop.get_by_role("button", name="Chat with us").click()
    box = await shop.get_by_role("dialog").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
    size = await shop.locator("textarea").evaluate("n => getComputedStyle(n).fontSize")
    assert float(size.removesuffix("px")) >= 16


async def test_the_widget_has_no_serious_accessibility_violations(browser: Browser, tmp_path: Path):
    """With everything the window can show: the greeting, the office closed, a message, the place in the queue."""
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    server = await start_server(make_config(tmp_path, sla={"exceptions": {today: []}}))  # closed all day
    try:
        await _accessible_and_keyboard_only(browser, server)
    finally:
        await server.runner.cleanup()


async def _accessible_and_keyboard_only(browser: Browser, server: Server) -> None:
    shop = await shop_page(browser, server, bypass_csp=True)  # axe is put into the page as an inline script
    await shop.get_by_role("button", name="Chat with us").click()
    await expect(shop.locator(".note.closed")).to_be_visible()
    await write(shop, "Halo")
    await expect(shop.locator(".msg.pending")).to_have_count(0)
    await expect(shop.get_by_text("You are next in the queue")).to_be_visible()
    await shop.add_script_tag(path=str(AXE))
    result = await shop.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    # Keyboard only: Tab reaches the reply box and Enter sends.
    await shop.get_by_role("button", name="Minimise the chat").focus()
    for _ in range(8):
        await shop.keyboard.press("Tab")
        if await shop.evaluate("document.activeElement.shadowRoot?.activeElement?.tagName") == "TEXTAREA":
            break
    await shop.keyboard.type("Lewat keyboard saja")
    await shop.keyboard.press("Enter")
    await expect(shop.locator(".msg.customer .text")).to_have_text(["Halo", "Lewat keyboard saja"])


async def test_after_the_chat_ends_the_customer_rates_it(browser: Browser, server: Server):
    agent, shop, contact_id = await chat_taken(browser, server, "Kartu saya terblokir")
    await agent.send({"type": "reply", "contact_id": contact_id, "client_id": "a-1", "text": "Sudah saya buka."})
    await expect(shop.locator(".msg.agent .text")).to_have_text(["Sudah saya buka."])
    await agent.send({"type": "close", "contact_id": contact_id, "disposition": "resolved"})

    rating = shop.get_by_role("form", name="Bagaimana layanan kami?")
    await expect(rating).to_be_visible()
    await rating.get_by_role("radio", name="4 dari 5 bintang").click()
    await rating.get_by_label("Ada tambahan? (opsional)").fill("Cepat sekali")
    await rating.get_by_role("button", name="Kirim penilaian").click()
    await expect(shop.get_by_text("Terima kasih atas penilaian Anda!")).to_be_visible()
    stored = await server.engine.store.get_contact(contact_id)
    assert stored is not None and stored.rating == 4


@pytest.mark.parametrize("hours", ["closed", "open"])
async def test_outside_office_hours_the_widget_says_when_the_office_opens(browser: Browser, tmp_path: Path, hours: str):
    always = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    weekdays = {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    sla = {"hours": always, "holidays": ""} if hours == "open" else {"hours": weekdays, "exceptions": {today: []}}
    server = await start_server(make_config(tmp_path, sla=sla))
    try:
        shop = await shop_page(browser, server, locale="id-ID")
        await shop.get_by_role("button", name="Chat dengan kami").click()
        notice = shop.locator(".note.closed")
        if hours == "open":
            await expect(shop.get_by_text("Halo! Ada yang bisa kami bantu hari ini?")).to_be_visible()
            await expect(notice).to_have_count(0)
            return
        opens = server.app[CONFIG].sla.calendar.add(time.time(), 0)
        day = datetime.fromtimestamp(opens, ZoneInfo("Asia/Jakarta"))
        await expect(notice).to_contain_text("Kami sedang tutup dan buka kembali pada")
        await expect(notice).to_contain_text(f"{day.day}")  # the day it opens, in the office's time zone
        await expect(notice).to_contain_text("08.00")  # the hour, written the Indonesian way
    finally:
        await server.runner.cleanup()


async def test_outside_office_hours_a_customer_leaves_a_message_that_becomes_an_email(browser: Browser, tmp_path: Path):
    """The offer in the closed notice, the form (a refused address said in Indonesian), the ticket kept across pages."""
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()
    server = await start_server(make_config(tmp_path, sla={"exceptions": {today: []}}))  # closed all day
    try:
        await server.add_agent("ayu")
        agent, _ = await desk(server, "ayu")
        shop = await shop_page(browser, server, locale="id-ID", bypass_csp=True)
        await shop.get_by_role("button", name="Chat dengan kami").click()
        await shop.get_by_role("button", name="Tinggalkan pesan").click()
        form = shop.get_by_role("form", name="Tinggalkan pesan: kami menjawab lewat email")
        await form.get_by_label("Nama Anda").fill("Siti")
        await form.get_by_label("Alamat email Anda").fill("siti@pelanggan")  # the browser lets it by; the engine not
        await form.get_by_label("Pesan Anda").fill("Kartu saya terblokir, mohon dibantu besok.")
        await shop.add_script_tag(path=str(AXE))
        result = await shop.evaluate("axe.run(document, {resultTypes: ['violations']})")
        assert [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")] == []
        await form.get_by_role("button", name="Kirim pesan").click()
        await expect(form.get_by_role("alert")).to_have_text("Tidak terkirim: itu bukan alamat email")
        assert server.engine.waiting() == [], "nothing is filed of a refused message"

        await form.get_by_label("Alamat email Anda").fill("siti@pelanggan.test")
        await form.get_by_role("button", name="Kirim pesan").click()
        done = shop.locator(".note.left")
        await expect(done).to_contain_text("Terima kasih, Siti. Pesan Anda bernomor tiket CS-")
        await expect(done).to_contain_text("siti@pelanggan.test")
        await expect(form).to_have_count(0)
        offer = await agent.expect("offer")
        assert offer["contact"]["channel"] == "email" and offer["contact"]["subject"].startswith("Kartu saya")
        ticket = offer["contact"]["ticket"]

        await shop.goto(f"{server.url}/?page=2")  # the next page: the ticket is still said, the offer not made again
        await expect(shop.locator(".note.left")).to_contain_text(ticket)
        await expect(shop.get_by_role("button", name="Tinggalkan pesan")).to_have_count(0)
    finally:
        await server.runner.cleanup()


async def test_a_customer_sends_a_photo_and_the_agent_sees_it_while_a_file_too_large_is_said_at_once(
    browser: Browser, tmp_path: Path
):
    """The widget uploads the photo and names it in a message; the desk shows it small; a big one never leaves."""
    server = await start_server(make_config(tmp_path, webchat={"attachment_max_mb": 0.01}))  # 10 KB
    try:
        agent, shop, _ = await chat_taken(browser, server, "Ini struknya")
        photo = {"name": "struk.png", "mimeType": "image/png", "buffer": PNG}
        await shop.locator("input.picker").set_input_files(photo)
        shown = await agent.expect("message", seq=2)
        assert shown["files"][0]["name"] == "struk.png" and shown["files"][0]["type"] == "image/png"
        await expect(shop.locator(".msg.customer .file")).to_have_text(["📎 struk.png (1 KB)"])
        await expect(shop.locator(".msg.pending")).to_have_count(0)

        big = {"name": "besar.png", "mimeType": "image/png", "buffer": PNG + bytes(20_000)}
        await shop.locator("input.picker").set_input_files(big)
        await expect(shop.locator(".msg.failed")).to_contain_text("berkas terlalu besar (paling besar 0,01 MB)")
        await agent.nothing("message", wait=0.3)
    finally:
        await server.runner.cleanup()
