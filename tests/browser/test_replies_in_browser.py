"""Pre-written replies at the desk, in headless Chromium: suggested for the customer's message in their language,
inserted with the customer's name, the placeholder asked for before sending, and "/code" to find one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from contact_center.model import Role
from contact_center.web.keys import STORE
from tests.browser.test_chat_in_browser import open_desk
from tests.clients import WsClient, widget
from tests.conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"


async def chat_at_desk(
    browser: Browser, server: Server, language: str, text: str, name: str = "", **context: object
) -> tuple[Page, WsClient]:
    """Agent ayu at the desk has accepted a chat in which a customer (named ``name``, if given) wrote ``text``."""
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu", **context)
    customer, _ = await widget(server, {"topic": "general", "language": language})
    if name:
        await customer.send({"type": "identify", "name": name})
        await customer.expect("identified")
    await customer.send({"type": "message", "client_id": "c-1", "text": text})
    await desk.locator("#offers li button.accept").first.click()
    return desk, customer


async def test_the_agent_inserts_a_suggested_reply_fills_what_is_asked_and_finds_one_by_code(
    browser: Browser, server: Server
):
    desk, customer = await chat_at_desk(
        browser, server, "id", "Dompet saya dicuri, kartu debit ada di sana", "Siti Rahma"
    )

    suggested = desk.get_by_role("region", name="Suggested replies").get_by_role("button")
    await expect(suggested).to_have_count(3)
    await expect(suggested.first).to_contain_text("Card blocked or lost")
    await suggested.first.click()
    box = desk.locator("#reply-text")
    await expect(box).to_have_value(re.compile(r"^Halo Siti Rahma,"))
    value = await box.input_value()
    assert value.startswith("Halo Siti Rahma,") and "[[empat digit terakhir]]" in value, value
    await expect(desk.locator("#to-fill")).to_have_text("Fill in before sending: empat digit terakhir")
    await desk.click("#reply-send")
    await expect(desk.get_by_role("alert")).to_have_text("Fill in before sending: empat digit terakhir")
    await customer.nothing("message", wait=0.3, seq=2)  # nothing went out
    await desk.keyboard.type("4321")  # the placeholder is selected: typed over
    await expect(desk.locator("#to-fill")).to_have_count(0)
    await desk.click("#reply-send")
    got = await customer.expect("message", seq=2)
    assert got["text"].startswith("Halo Siti Rahma,") and "berakhiran 4321" in got["text"]

    await box.fill("/pin")
    found = desk.get_by_role("region", name="Replies found").get_by_role("button")
    await expect(found.first).to_contain_text("Forgotten PIN")
    await found.first.click()
    await expect(box).to_have_value(re.compile(r"^Halo Siti Rahma,\n\nPIN baru dapat Anda buat sendiri"))


async def test_an_english_message_gets_english_replies_and_the_panel_passes_the_accessibility_check(
    browser: Browser, server: Server
):
    # axe goes into the page as an inline script: the desk's policy is bypassed for it
    desk, _ = await chat_at_desk(browser, server, "en", "I can't remember the code for my card", bypass_csp=True)
    suggested = desk.get_by_role("region", name="Suggested replies").get_by_role("button")
    await expect(suggested).to_have_count(3)
    await expect(suggested.first).to_contain_text("Forgotten PIN")
    await suggested.first.click()
    await expect(desk.locator("#reply-text")).to_have_value(re.compile(r"^Hello there,\n\nyou can set a new PIN"))
    await desk.add_script_tag(path=str(AXE))
    result = await desk.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")] == []


async def test_the_draft_is_checked_as_the_agent_types_and_a_fix_is_one_click(browser: Browser, server: Server):
    desk, customer = await chat_at_desk(browser, server, "id", "Kartu saya belum sampai")
    box = desk.locator("#reply-text")
    await box.fill("🙂 Silahkan tunggu, kartu sudah di kirim.")
    checked = desk.get_by_role("region", name="Check before sending")
    await expect(checked.locator("mark")).to_have_text(["Silahkan", "di kirim"])
    await checked.get_by_role("button", name="Use “Silakan”").click()
    await expect(box).to_have_value("🙂 Silakan tunggu, kartu sudah di kirim.")
    await checked.get_by_role("button", name="Use “dikirim”").click()
    await expect(box).to_have_value("🙂 Silakan tunggu, kartu sudah dikirim.")
    await expect(checked).to_have_count(0)  # nothing left to say
    await desk.click("#reply-send")
    assert (await customer.expect("message", seq=2))["text"] == "🙂 Silakan tunggu, kartu sudah dikirim."


async def test_a_misspelling_is_underlined_in_the_box_fixed_with_a_click_and_a_word_kept_for_the_team(
    browser: Browser, server: Server
):
    desk, customer = await chat_at_desk(browser, server, "en", "Where is my new card?", "Siti Rahma")
    box = desk.locator("#reply-text")
    await box.fill("Hi Siti, we have recieved your request for the tapcash card.")
    underlined = desk.locator(".draft-marks mark")
    await expect(underlined).to_have_text(["recieved", "tapcash"])  # the customer's name is never flagged
    first = await underlined.first.bounding_box()
    area = await box.bounding_box()
    assert first and area and area["y"] <= first["y"] <= area["y"] + area["height"]  # inside the box, on the word
    checked = desk.get_by_role("region", name="Check before sending")
    await checked.get_by_role("button", name="Use “received”").click()
    await expect(box).to_have_value("Hi Siti, we have received your request for the tapcash card.")
    await expect(underlined).to_have_text(["tapcash"])
    await checked.get_by_role("button", name="Add “tapcash” to the team's dictionary").click()
    await expect(checked).to_have_count(0)
    await expect(underlined).to_have_count(0)
    assert "tapcash" in await server.app[STORE].team_words()
    await desk.click("#reply-send")
    sent = await customer.expect("message", seq=2)
    assert sent["text"] == "Hi Siti, we have received your request for the tapcash card."


async def test_a_supervisor_edits_a_reply_in_the_desk_and_the_next_suggestion_uses_the_new_text(
    browser: Browser, server: Server
):
    desk, customer = await chat_at_desk(browser, server, "en", "My new card has not arrived yet", "Siti Rahma")
    suggested = desk.get_by_role("region", name="Suggested replies").get_by_role("button")
    await expect(suggested.first).to_contain_text("a new card usually arrives within 7 working days")
    await server.add_agent("lead", Role.SUPERVISOR)
    lead = await open_desk(browser, server, "lead", available=False, bypass_csp=True)  # axe goes in inline
    await lead.click("#library-button")
    library = lead.get_by_role("main", name="Reply library")
    await library.get_by_role("button", name=re.compile("Card not arrived yet")).click()
    source = library.get_by_label(re.compile("The reply's file"))
    await expect(source).to_have_value(re.compile("usually arrives within 7 working days"))
    await expect(library.get_by_role("heading", name="card-arrival, version 1")).to_be_visible()
    text = await source.input_value()
    await source.fill(text.replace("{{customer_name|there}}", "{{customer_nme|there}}"))
    await library.get_by_role("button", name="Save").click()
    await expect(lead.locator("#library-error")).to_contain_text("unknown variable 'customer_nme'")
    await expect(lead.locator("#library-error")).to_contain_text("Line 10:")
    await source.fill(text.replace("usually arrives within 7 working days", "arrives within 3 working days"))
    await library.get_by_role("button", name="Save").click()
    await expect(library.get_by_role("status")).to_have_text("Saved as version 2")
    history = library.get_by_role("region", name="History").locator("li")
    await expect(history).to_have_count(2)
    await expect(history.first).to_contain_text("Version 2 by lead")
    await lead.add_script_tag(path=str(AXE))
    result = await lead.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")] == []
    await customer.send({"type": "message", "client_id": "c-2", "text": "Still no card, it has been a week"})
    await expect(suggested.first).to_contain_text("arrives within 3 working days", timeout=15_000)


async def test_a_reply_picked_goes_where_the_cursor_was_so_several_make_one_draft(browser: Browser, server: Server):
    desk, _ = await chat_at_desk(browser, server, "en", "I forgot my PIN, thanks", "Siti Rahma")
    box = desk.locator("#reply-text")
    await box.fill("First line.\nLast line.")
    await box.press("Control+Home")
    await box.press("End")  # the cursor at the end of the first line
    await box.press("ArrowRight")  # and to the start of the second
    await desk.locator("#suggestions").get_by_role("button", name=re.compile("Forgotten PIN")).click()
    value = await box.input_value()
    assert value.startswith("First line.\nHello Siti Rahma,\n\nyou can set a new PIN") and value.endswith(
        "\nLast line."
    )


async def test_a_key_inserts_the_second_suggestion(browser: Browser, server: Server):
    desk, _ = await chat_at_desk(browser, server, "en", "I forgot my PIN", "Siti Rahma")
    suggested = desk.locator("#suggestions button.pick")
    await expect(suggested).to_have_count(3)
    second = (await suggested.nth(1).get_attribute("title")) or ""
    await desk.locator("#reply-text").focus()
    await desk.keyboard.press("Alt+2")
    assert await desk.locator("#reply-text").input_value() == second


async def test_a_reply_with_its_file_goes_out_and_the_customer_saves_the_file_from_the_widget(
    browser: Browser, server: Server
):
    from tests.browser.test_widget_in_browser import shop_page, write

    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")
    shop = await shop_page(browser, server, locale="id-ID", accept_downloads=True)
    await shop.get_by_role("button", name="Chat dengan kami").click()
    await write(shop, "Apakah ada biaya transaksi di luar negeri?")
    await desk.locator("#offers li button.accept").first.click()
    suggested = desk.get_by_role("region", name="Suggested replies").get_by_role("button")
    await expect(suggested.first).to_contain_text("Exchange rate and fees abroad")
    await suggested.first.click()
    files = desk.get_by_role("list", name="Files sent with the reply")
    await expect(files).to_contain_text("fees-abroad.pdf · 2 KB")
    await desk.get_by_role("button", name="Do not send fees-abroad.pdf").click()  # taken off, and picked again
    await expect(files).to_have_count(0)
    await desk.locator("#reply-text").fill("")
    await suggested.first.click()
    await expect(files).to_contain_text("fees-abroad.pdf")
    await desk.click("#reply-send")
    await expect(files).to_have_count(0)  # sent with the reply; the next one starts without

    saved = shop.locator(".msg.agent .file").get_by_role("button")
    await expect(saved).to_have_text("📎 fees-abroad.pdf (2 KB)")
    await expect(saved).to_have_attribute("title", "Simpan fees-abroad.pdf")
    async with shop.expect_download() as started:
        await saved.click()
    download = await started.value
    assert download.suggested_filename == "fees-abroad.pdf"
    got = Path(await download.path()).read_bytes()
    assert got == (Path(__file__).parents[2] / "templates_responses/starter/attachments/fees-abroad.pdf").read_bytes()


async def test_a_supervisor_adds_a_file_to_the_library_and_one_a_reply_sends_is_not_removed(
    browser: Browser, server: Server
):
    await server.add_agent("lead", Role.SUPERVISOR)
    lead = await open_desk(browser, server, "lead", available=False)
    await lead.click("#library-button")
    files = lead.get_by_role("region", name="Files sent with replies")
    await expect(files.locator("li")).to_have_count(1)
    await expect(files.locator("li").first).to_contain_text("fees-abroad.pdf")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
    await files.get_by_label("Add a file").set_input_files({"name": "formulir.png", "mimeType": "image/png",
                                                                 "buffer": png})  # fmt: skip
    await expect(files.locator("li")).to_have_count(2)
    await expect(files.locator("li").nth(1)).to_contain_text("formulir.png")
    fake = {"name": "virus.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00 not a pdf \x00"}
    await files.get_by_label("Add a file").set_input_files(fake)
    await expect(files.get_by_role("alert")).to_have_text("this kind of file cannot be sent")
    await files.get_by_role("button", name="Remove fees-abroad.pdf from the library").click()
    await expect(files.get_by_role("alert")).to_contain_text("exchange-rate")
    await expect(files.locator("li")).to_have_count(2)  # still there: a reply sends it
    await files.get_by_role("button", name="Remove formulir.png from the library").click()
    await expect(files.locator("li")).to_have_count(1)
