"""Click-to-call as a customer and an agent use it, in two headless Chromium pages with fake microphones:
the shop page's button opens the call tab, the call waits, rings on the desk and is answered; the sound
flows both ways (getStats), the agent holds and resumes it, the customer hangs up and the agent records the
outcome; the set-up time and both sides' call quality are in the history. A call whose sound cannot get
through is ended for both sides and the customer is offered a callback instead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from contact_center.model import Channel
from tests.browser.test_chat_in_browser import open_desk
from tests.conftest import ALWAYS_OPEN, Server, make_config, start_server
from tests.turn import start_turn

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# No candidate leaves the customer's page and none is taken in: the two browsers cannot find each other,
# as behind firewalls with no relay.
NO_CANDIDATES = """
const Real = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Real(...args);
  Object.defineProperty(pc, "onicecandidate", { set() {}, get() { return null; } });
  pc.addIceCandidate = async () => {};
  return pc;
};
window.RTCPeerConnection.prototype = Real.prototype;
"""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    config = make_config(tmp_path, sla=ALWAYS_OPEN, call={"connect_timeout_s": 4})
    srv = await start_server(config)
    yield srv
    await srv.runner.cleanup()


def the_call(server: Server):
    (call,) = [c for c in server.engine.replica.contacts.values() if c.channel == Channel.CALL]
    return call


async def shop(browser: Browser, server: Server, locale: str = "en-US", script: str = "") -> Page:
    page = await (await browser.new_context(locale=locale)).new_page()
    if script:
        await page.add_init_script(script)
    await page.goto(f"{server.url}/")
    return page


async def test_a_call_from_the_shop_page_is_answered_on_the_desk_and_the_sound_flows_both_ways(
    browser: Browser, server: Server
):
    await server.add_agent("ayu", wrap_up_s=60)
    desk = await open_desk(browser, server, "ayu")
    page = await shop(browser, server)
    await page.get_by_role("button", name="Call us · Telepon kami").click()
    await expect(page.get_by_role("tab", name="Talk now")).to_have_attribute("aria-selected", "true")
    await page.get_by_role("button", name="Call now").click()
    await expect(desk.locator("#offers li")).to_contain_text("Call")  # it rings on the desk
    await expect(page.locator(".call-status")).to_have_text("Calling… an agent will answer soon.")
    await desk.locator("#offers li button.accept").first.click()
    await expect(page.locator(".call-status")).to_contain_text("On the call", timeout=15_000)
    await expect(desk.locator("#call-status")).to_contain_text("On the call", timeout=15_000)
    await expect(desk.locator(".call-quality")).to_contain_text("ms round trip", timeout=10_000)
    sound = await page.evaluate("window.ContactCenterWidget.callFigures()")
    assert sound["packets_received"] > 0 and sound["packets_sent"] > 0  # the agent's voice comes, the customer's goes

    await desk.locator("#call-hold").click()
    await expect(page.locator(".call-status")).to_have_text("On hold. Please stay on the line.")
    await desk.locator("#call-hold").click()
    await expect(page.locator(".call-status")).to_contain_text("On the call")
    await page.get_by_role("button", name="Hang up").click()
    await expect(page.locator(".call-status")).to_have_text("You ended the call.")
    await expect(desk.locator("#call-status")).to_have_text("The customer hung up (hung up). Choose the outcome.")
    call = the_call(server)
    quality = call.details["call"]["quality"]
    assert quality["customer"]["packets_received"] > 0 and quality["agent"]["packets_received"] > 0
    assert quality["customer"]["signals"] >= 2 and quality["agent"]["signals"] >= 2  # offer/answer and candidates
    await desk.select_option("#disposition", "resolved")
    await desk.locator("#close-contact").click()
    kinds = {e.kind: e for e in await server.engine.history(call.customer_id)}
    steps = {"contact.offered", "contact.assigned", "call.answered", "call.connected", "call.held", "call.resumed",
             "call.ended", "call.quality", "contact.disposition"}  # fmt: skip
    assert steps <= set(kinds), steps - set(kinds)
    assert 0 < kinds["call.connected"].data["setup_s"] < 15
    assert kinds["call.ended"].data["by"] == "customer" and kinds["call.ended"].data["duration_s"] > 0


async def test_a_call_whose_sound_cannot_get_through_ends_for_both_and_offers_a_callback(
    browser: Browser, server: Server
):
    await server.add_agent("ayu", wrap_up_s=60)
    desk = await open_desk(browser, server, "ayu", connected="terhubung", locale="id-ID")
    page = await shop(browser, server, locale="id-ID", script=NO_CANDIDATES)
    await page.evaluate("window.ContactCenterWidget.call()")
    await page.get_by_role("button", name="Telepon sekarang").click()
    await desk.locator("#offers li button.accept").first.click()
    await expect(page.locator(".call-status")).to_have_text("Agen sudah menjawab. Menyambungkan…")
    await expect(page.locator(".call-status")).to_have_text(
        "Suara tidak dapat tersambung, jadi panggilan berakhir. Kami dapat menelepon Anda kembali.", timeout=15_000
    )
    await expect(desk.locator("#call-status")).to_contain_text("Pelanggan menutup telepon (suara gagal)")
    await page.get_by_role("button", name="Telepon saya kembali saja").click()
    await expect(page.get_by_role("tab", name="Telepon saya")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_label("Nomor telepon Anda")).to_be_visible()
    assert the_call(server).details["call"]["reason"] == "media_failed"


async def test_with_relay_only_the_sound_goes_through_a_real_turn_server_with_the_calls_credentials(
    browser: Browser, tmp_path: Path
):
    turn = start_turn(tmp_path)
    relayed = {"turn_urls": [turn.url], "turn_secret": turn.secret, "ice_transport_policy": "relay"}
    server = await start_server(make_config(tmp_path, sla=ALWAYS_OPEN, call=relayed))
    try:
        await server.add_agent("ayu", wrap_up_s=60)
        desk = await open_desk(browser, server, "ayu")
        page = await shop(browser, server)
        await page.evaluate("window.ContactCenterWidget.call()")
        await page.get_by_role("button", name="Call now").click()
        await desk.locator("#offers li button.accept").first.click()
        await expect(page.locator(".call-status")).to_contain_text("On the call", timeout=15_000)
        await expect(desk.locator(".call-quality")).to_contain_text("ms round trip", timeout=10_000)
        sound = await page.evaluate("window.ContactCenterWidget.callFigures()")
        assert sound.get("route") == "relay" and sound["packets_received"] > 0, sound
        await page.get_by_role("button", name="Hang up").click()
        await expect(desk.locator("#call-status")).to_contain_text("The customer hung up")
        quality = the_call(server).details["call"]["quality"]
        assert quality["customer"]["route"] == quality["agent"]["route"] == "relay"
    finally:
        await server.runner.cleanup()
        turn.stop()


async def test_without_a_microphone_no_call_is_queued_and_a_callback_is_offered(server: Server):
    from playwright.async_api import async_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, chromium_path

    args = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]  # the browser asks, and is refused
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=args, headless=True)
        try:
            page = await shop(browser, server)
            await page.evaluate("window.ContactCenterWidget.call()")
            await page.get_by_role("button", name="Call now").click()
            await expect(page.get_by_role("alert")).to_have_text(
                "We could not use your microphone. Allow it in your browser, or ask us to call you back."
            )
            assert not [c for c in server.engine.replica.contacts.values() if c.channel == Channel.CALL]
            await page.get_by_role("button", name="Call me back instead").click()
            await expect(page.get_by_label("Your phone number")).to_be_visible()
        finally:
            await browser.close()
