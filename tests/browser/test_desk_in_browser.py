"""The agent desk as an agent uses it, in headless Chromium: each of its old traps, its languages, a phone, keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from contact_center.model import Role
from tests.browser.test_chat_in_browser import open_desk
from tests.channels.test_chat_files import PNG, upload
from tests.clients import desk as desk_client
from tests.clients import widget
from tests.conftest import PASSWORD, Server, make_config, start_server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PDF = b"%PDF-1.7\n" + b"1 0 obj\n" * 20


async def customer_writes(server: Server, text: str) -> tuple[object, dict]:
    client, welcome = await widget(server, {"topic": "general", "language": "id"})
    await client.send({"type": "message", "client_id": "c-1", "text": text})  # type: ignore[attr-defined]
    await client.expect("ack", client_id="c-1")  # type: ignore[attr-defined]
    return client, welcome


async def accept_next(desk: Page) -> None:
    await desk.locator("#offers li button.accept").first.click()


async def test_two_chats_keep_their_own_drafts_across_switching_and_reloading(browser: Browser, server: Server):
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")
    await customer_writes(server, "Saya Ani, soal tagihan")
    await accept_next(desk)
    await expect(desk.locator("#contact-title")).to_contain_text("Visitor")
    await desk.fill("#reply-text", "Bu Ani, tagihan Anda sudah")  # half an answer for customer A
    first = await desk.locator("#contacts li.active").get_attribute("data-contact")

    await customer_writes(server, "Saya Budi, paket hilang")
    await accept_next(desk)  # the view moves to B: B's reply box is B's own
    await expect(desk.locator("#transcript .msg.customer .text")).to_have_text(["Saya Budi, paket hilang"])
    await expect(desk.locator("#reply-text")).to_have_value("")
    await desk.locator("#reply-text").press("Enter")  # nothing of A's goes to B
    await expect(desk.locator("#transcript .msg.agent")).to_have_count(0)
    await desk.fill("#reply-text", "Pak Budi, saya cek")

    await desk.locator(f'#contacts li[data-contact="{first}"] button').click()
    await expect(desk.locator("#reply-text")).to_have_value("Bu Ani, tagihan Anda sudah")
    await desk.reload()
    await expect(desk.locator("#connection")).to_have_text("connected")
    await desk.locator(f'#contacts li[data-contact="{first}"] button').click()
    await expect(desk.locator("#reply-text")).to_have_value("Bu Ani, tagihan Anda sudah")
    await desk.locator("#contacts li:not(.active) button").click()
    await expect(desk.locator("#reply-text")).to_have_value("Pak Budi, saya cek")


async def test_wrap_up_counts_down_with_the_reply_box_closed_and_a_close_leaves_nothing(
    browser: Browser, server: Server
):
    await server.add_agent("ayu", wrap_up_s=4)
    desk = await open_desk(browser, server, "ayu")
    await customer_writes(server, "Terima kasih, sudah beres")
    await accept_next(desk)
    await expect(desk.locator("#customer")).not_to_be_empty()
    await desk.select_option("#disposition", "resolved")
    await desk.click("#close-contact")
    state = desk.locator("#contact-state")
    await expect(state).to_have_text("wrap-up · 4 s left")
    await expect(state).to_have_text("wrap-up · 2 s left")  # it moves
    await expect(desk.locator("#reply-text")).to_be_disabled()
    await expect(desk.locator("#reply-send")).to_be_disabled()
    # Closed: nothing of the finished chat is left on screen.
    await expect(desk.locator("#no-contact")).to_be_visible(timeout=10_000)
    await expect(desk.locator("#customer")).to_be_empty()
    await expect(desk.locator("#contacts li")).to_have_count(0)
    await expect(desk.get_by_role("alert")).to_have_count(0)
    assert "wrap_up" not in await desk.locator("body").inner_text()  # no internal state names, no ids


async def test_an_ignored_offer_says_why_the_agent_is_away(browser: Browser, tmp_path: Path):
    server = await start_server(make_config(tmp_path, routing={"offer_timeout_s": 2}))
    try:
        await server.add_agent("ayu")
        desk = await open_desk(browser, server, "ayu")
        await customer_writes(server, "Halo?")
        await expect(desk.locator("#offers li")).to_have_count(1)
        # Nobody answers it: the offer lapses, and the desk says why the agent is away now.
        await expect(desk.locator("#status-notice")).to_contain_text("because an offer went unanswered", timeout=15_000)
        await expect(desk.locator("#status")).to_have_value("away")
        await desk.select_option("#status", "available")
        await expect(desk.locator("#status-notice")).to_have_count(0)
    finally:
        await server.runner.cleanup()


async def test_a_desk_back_after_being_offline_is_told_it_is_away(browser: Browser, tmp_path: Path):
    server = await start_server(make_config(tmp_path, desk={"reconnect_grace_s": 0.5}))
    try:
        await server.add_agent("ayu")
        desk = await open_desk(browser, server, "ayu")
        await desk.context.close()  # the desk is gone past its reconnect grace: the agent is offline
        agent_id = next(iter(server.engine.replica.agents))
        async with asyncio.timeout(15):
            while server.engine.agent(agent_id).status.value != "offline":
                await asyncio.sleep(0.05)
        again = await open_desk(browser, server, "ayu", available=False)
        await expect(again.locator("#status")).to_have_value("away")
        await expect(again.locator("#status-notice")).to_contain_text("your desk was offline")
    finally:
        await server.runner.cleanup()


async def test_the_desk_in_indonesian_with_times_in_the_office_time_zone(browser: Browser, server: Server):
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")
    await desk.select_option("#language", "id")
    await expect(desk.get_by_role("heading", name="Tawaran")).to_be_visible()
    await expect(desk.get_by_role("heading", name="Kontak saya")).to_be_visible()
    await expect(desk.locator("#connection")).to_have_text("terhubung")
    await customer_writes(server, "Halo, jam berapa tutup?")
    await expect(desk.locator("#offers li .countdown")).to_contain_text("detik untuk menjawab")
    await accept_next(desk)
    stamp = await desk.locator("#transcript .msg.customer time").inner_text()
    assert "GMT+7" in stamp or "WIB" in stamp, stamp  # Asia/Jakarta, named
    await desk.reload()  # the choice is kept
    await expect(desk.get_by_role("heading", name="Tawaran")).to_be_visible()
    assert await desk.evaluate("document.documentElement.lang") == "id"


async def notifications(context: BrowserContext) -> None:
    """The test grants notifications and keeps what the page shows; the tab says it is hidden."""
    await context.grant_permissions(["notifications"])
    await context.add_init_script(
        """
        Object.defineProperty(document, 'hidden', {get: () => window.__hidden === true});
        window.__shown = [];
        const Real = window.Notification;
        window.Notification = function (title, options) {
            window.__shown.push([title, options.body]);
            return new Real(title, options);
        };
        Object.defineProperty(window.Notification, 'permission', {get: () => Real.permission});
        window.Notification.requestPermission = () => Real.requestPermission();
        """
    )


async def test_an_offer_and_a_message_in_a_hidden_tab_notify_and_mute_silences(browser: Browser, server: Server):
    await server.add_agent("ayu")
    context = await browser.new_context()
    await notifications(context)
    desk = await context.new_page()
    await desk.goto(f"{server.url}/desk")
    await desk.fill("#username", "ayu")
    await desk.fill("#password", PASSWORD)
    await desk.click("#login-button")
    await expect(desk.locator("#connection")).to_have_text("connected")
    await desk.select_option("#status", "available")
    await desk.evaluate("window.__hidden = true")
    client, _ = await customer_writes(server, "Ada yang bisa bantu?")
    await expect(desk.locator("#offers li")).to_have_count(1)
    assert await desk.evaluate("window.__shown") == [["New offer", "Chat: a customer is waiting"]]
    await accept_next(desk)
    await expect(desk.locator("#transcript .msg.customer")).to_have_count(1)  # the chat is the desk's now
    await client.send({"type": "message", "client_id": "c-2", "text": "Halo?"})  # type: ignore[attr-defined]
    await expect(desk.locator("#contacts li .badge")).to_have_text("1")  # unread while hidden
    async with asyncio.timeout(10):
        while await desk.evaluate("window.__shown.length") < 2:
            await asyncio.sleep(0.05)
    assert (await desk.evaluate("window.__shown"))[1] == ["New message", "Halo?"]

    await desk.click("#mute")
    await client.send({"type": "message", "client_id": "c-3", "text": "Masih di sana?"})  # type: ignore[attr-defined]
    await expect(desk.locator("#contacts li .badge")).to_have_text("2")
    assert await desk.evaluate("window.__shown.length") == 2


async def test_keyboard_only_accept_shortcuts_and_help(browser: Browser, server: Server):
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")
    await customer_writes(server, "Tolong")
    await expect(desk.locator("#offers li")).to_have_count(1)
    await desk.keyboard.press("Alt+a")
    await expect(desk.locator("#transcript .msg.customer .text")).to_have_text(["Tolong"])
    await desk.locator("#reply-text").focus()
    await desk.keyboard.type("Baik, saya bantu")
    await desk.keyboard.press("Enter")
    await expect(desk.locator("#transcript .msg.agent .text")).to_have_text(["Baik, saya bantu"])
    await desk.evaluate("document.activeElement.blur()")  # "?" typed in the reply box is text, not a key
    await desk.keyboard.press("?")
    help_box = desk.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(help_box).to_contain_text("Accept the first offer")
    await desk.keyboard.press("Escape")
    await expect(help_box).to_have_count(0)


async def test_on_a_phone_the_desk_is_not_cut_off(browser: Browser, server: Server):
    await server.add_agent("ayu")
    page = await (await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)).new_page()
    await page.goto(f"{server.url}/desk")
    await page.fill("#username", "ayu")
    await page.fill("#password", PASSWORD)
    await page.click("#login-button")
    await expect(page.locator("#connection")).to_have_text("connected")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await expect(page.locator("#reply-text").or_(page.locator("#no-contact"))).to_be_in_viewport()


async def test_the_desk_has_no_serious_accessibility_violations(browser: Browser, server: Server):
    await server.add_agent("ayu")
    context = await browser.new_context(bypass_csp=True)  # axe goes into the page as an inline script
    desk = await context.new_page()
    await desk.goto(f"{server.url}/desk")
    await desk.add_script_tag(path=str(AXE))
    assert await serious(desk) == []  # the sign-in form
    await desk.fill("#username", "ayu")
    await desk.fill("#password", PASSWORD)
    await desk.click("#login-button")
    await expect(desk.locator("#connection")).to_have_text("connected")
    await desk.select_option("#status", "available")
    await customer_writes(server, "Halo")
    await accept_next(desk)
    await expect(desk.locator("#transcript .msg.customer")).to_have_count(1)
    await desk.add_script_tag(path=str(AXE))
    assert await serious(desk) == []


async def serious(page: Page) -> list[tuple[str, list[object]]]:
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], [n["target"] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def test_the_waiting_queue_shows_read_only_and_a_supervisor_sees_the_agents(browser: Browser, server: Server):
    await server.add_agent("ayu")
    await server.add_agent("lead", role=Role.SUPERVISOR)
    agent = await open_desk(browser, server, "ayu")
    await agent.select_option("#status", "away")  # nobody takes it: it waits
    client, welcome = await widget(server, {"topic": "general", "language": "id"})
    await client.send({"type": "identify", "name": "Sari"})
    await client.expect("identified")
    await server.engine.set_customer_value(welcome["customer_id"], 500)  # between the thresholds: the middle band
    await client.send({"type": "message", "client_id": "c-1", "text": "Halo"})
    await client.expect("ack", client_id="c-1")

    waiting = agent.locator("#waiting li")
    await expect(waiting).to_have_count(1, timeout=10_000)
    await expect(waiting).to_contain_text("Sari")
    await expect(waiting.locator(".band")).to_have_text("Priority")  # by its configured name, not "500"
    await expect(waiting).to_contain_text("Chat")
    assert await waiting.locator("button").count() == 0  # read only: nothing to take from here
    await expect(agent.locator("#agents")).to_have_count(0)  # an agent does not see the others

    lead = await open_desk(browser, server, "lead", available=False)
    table = lead.locator("#dash-agents")  # the supervisor's dashboard lists the agents
    await expect(table.locator("tr[data-agent]")).to_have_count(1)
    status = lead.get_by_label("Status of ayu")
    await expect(status).to_have_value("away")
    await expect(lead.locator("#waiting li")).to_contain_text("Sari")
    await agent.select_option("#status", "available")  # ayu takes it: the supervisor sees it change
    await expect(status).to_have_value("available")
    await expect(lead.locator("#waiting li")).to_have_count(0, timeout=10_000)
    await agent.select_option("#language", "id")
    await expect(agent.locator("#offers li .band")).to_have_text("Prioritas")
    await expect(agent.locator("#offers li .offer-who")).to_have_text("Sari")  # who waits, and what they wrote
    await expect(agent.locator("#offers li .offer-first")).to_have_text("Halo")
    await agent.locator("#offers li button.accept").click()
    await expect(agent.locator("#customer .band")).to_have_text("Prioritas")
    await expect(agent.locator("#customer")).to_contain_text("Menulis dalam bahasa Indonesia")


async def test_an_internal_note_stays_with_the_agents_and_the_contact(browser: Browser, server: Server):
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")
    client, _ = await customer_writes(server, "Saya mau komplain")
    await accept_next(desk)
    await desk.click("#note-mode")
    await desk.fill("#reply-text", "Pelanggan ini sudah tiga kali komplain bulan ini")
    await desk.click("#reply-send")
    note = desk.locator("#transcript .msg.internal")
    await expect(note).to_contain_text("Internal note · You")
    await expect(note.locator(".text")).to_have_text("Pelanggan ini sudah tiga kali komplain bulan ini")
    await client.nothing("message", wait=1.0)  # type: ignore[attr-defined]  # the customer never sees it
    await desk.reload()
    await expect(desk.locator("#transcript .msg.internal .text")).to_have_text(
        ["Pelanggan ini sudah tiga kali komplain bulan ini"]  # kept with the contact, shown once
    )


async def test_a_transfer_to_a_colleague_from_the_desk(browser: Browser, server: Server):
    await server.add_agent("ayu")
    ayu = await open_desk(browser, server, "ayu")
    await customer_writes(server, "Saya perlu bantuan soal tagihan")
    await accept_next(ayu)
    await server.add_agent("budi")
    budi = await open_desk(browser, server, "budi", available=False)  # away: nobody to hand it to yet
    await ayu.click("#transfer")
    agents = ayu.locator("#transfer-agent option")
    await expect(agents).to_have_text(["Nobody is available"])
    await budi.select_option("#status", "available")
    await expect(budi.locator("#status")).to_have_value("available")
    await ayu.click("#transfer-refresh")
    await expect(agents).to_have_text(["Choose…", "budi"])  # the engine says who can take it now
    await ayu.select_option("#transfer-agent", label="budi")
    await ayu.click("#transfer-to-agent")
    await expect(ayu.locator("#contacts li")).to_have_count(0)
    await expect(ayu.locator("#no-contact")).to_be_visible()
    await accept_next(budi)
    await expect(budi.locator("#transcript .msg.customer .text")).to_have_text(["Saya perlu bantuan soal tagihan"])


async def test_a_supervisor_finds_a_customer_and_reads_their_past_chats(browser: Browser, server: Server):
    await server.add_agent("ayu")
    await server.add_agent("lead", role=Role.SUPERVISOR)
    agent, _ = await desk_client(server, "ayu")
    client, welcome = await widget(server, {"topic": "general", "language": "id"})
    await client.send({"type": "identify", "name": "Rina Kusuma"})
    await client.expect("identified")
    await client.send({"type": "message", "client_id": "c-1", "text": "Kartu kredit saya hilang"})
    offer = await agent.expect("offer")
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    contact_id = (await agent.expect("assigned"))["contact"]["id"]
    await agent.send({"type": "close", "contact_id": contact_id, "disposition": "resolved"})
    await agent.expect("contact_state", contact_id=contact_id, state="wrap_up")

    lead = await open_desk(browser, server, "lead", available=False)
    await lead.fill("#search", "kusu")
    await lead.press("#search", "Enter")
    result = lead.locator("#search-results .result")
    await expect(result).to_have_count(1)
    await expect(result).to_contain_text("Rina Kusuma")
    await result.click()
    await expect(lead.locator("#customer")).to_contain_text("Rina Kusuma")
    past = lead.locator("#history .past")
    await expect(past).to_have_count(1)
    await past.locator("summary").click()
    await expect(past).to_contain_text("Kartu kredit saya hilang")
    await lead.fill("#search", "x")
    await lead.press("#search", "Enter")
    await expect(lead.locator("#search-results")).to_have_count(0)  # too short to search: nothing sent


async def test_the_agent_sees_when_the_customer_has_read_a_reply(browser: Browser, server: Server):
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")
    shop = await (await browser.new_context()).new_page()
    await shop.goto(f"{server.url}/")
    await shop.get_by_role("button", name="Chat with us").click()
    await shop.fill("textarea", "Halo, ada promo?")
    await shop.keyboard.press("Enter")
    await accept_next(desk)
    await shop.get_by_role("button", name="Minimise the chat").click()  # the customer looks away
    await desk.fill("#reply-text", "Ada, diskon 10% minggu ini")
    await desk.click("#reply-send")
    receipt = desk.locator("#transcript .msg.agent .receipt")
    await expect(receipt).to_have_text("✓ sent")
    await shop.get_by_role("button", name="Chat with us").click()  # opens the window: the reply is seen
    await expect(receipt).to_have_text("✓✓ read")


async def test_the_agent_sees_a_photo_the_customer_sent_and_downloads_their_pdf(browser: Browser, server: Server):
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")
    customer, welcome = await customer_writes(server, "Bukti transfer terlampir")
    await accept_next(desk)
    await expect(desk.locator("#transcript .msg.customer .text")).to_have_text(["Bukti transfer terlampir"])
    ids = []
    for name, kind, data in (("bukti.png", "image/png", PNG), ("rekening.pdf", "application/pdf", PDF)):
        status, kept, _ = await upload(server, welcome["token"], data, kind, name)
        assert status == 201
        ids.append(kept["id"])
    await customer.send({"type": "message", "client_id": "c-2", "files": ids})  # type: ignore[attr-defined]
    photo = desk.get_by_role("img", name="bukti.png")
    await expect(photo).to_be_visible()
    assert (await photo.get_attribute("src") or "").startswith("data:image/png;base64,")
    async with desk.expect_download() as wait:
        await desk.get_by_role("button", name="Download rekening.pdf").click()
    download = await wait.value
    assert download.suggested_filename == "rekening.pdf"
    assert Path(await download.path()).read_bytes() == PDF
    await expect(desk.locator("#contacts li .preview")).to_have_text(["bukti.png, rekening.pdf"])


async def test_the_history_panel_follows_the_customers_other_contacts_live(browser: Browser, server: Server):
    """While the agent has the chat, the customer leaves a message: its email contact shows in History at once."""
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")
    customer, _ = await customer_writes(server, "Saya minta salinan tagihan")
    await accept_next(desk)
    await expect(desk.locator("#transcript .msg.customer .text")).to_have_text(["Saya minta salinan tagihan"])
    await expect(desk.locator("#history .past")).to_have_count(0)  # this chat's messages are in the transcript
    await customer.send({"type": "leave_message", "client_id": "l-1", "name": "Ani",  # type: ignore[attr-defined]
                         "email": "ani@contoh.test", "text": "Kirim lewat email saja"})  # fmt: skip
    await customer.expect("message_left")  # type: ignore[attr-defined]
    past = desk.locator("#history .past")
    await expect(past).to_have_count(1)
    await expect(past).to_contain_text("Email")
