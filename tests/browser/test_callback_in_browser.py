"""The call-me button as a customer and an agent use it, in headless Chromium: the shop page's button opens
the widget's call-me tab, a number gets a queue number and a place that follows the customer to the next
page, a booked hour is shown in the customer's own time zone and moved or cancelled there; the agent dials
from the desk and records that nobody answered, in English and Indonesian."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from contact_center.model import Channel, ContactState
from tests.browser.test_chat_in_browser import open_desk
from tests.conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


async def shop(browser: Browser, server: Server, **context: object) -> Page:
    page = await (await browser.new_context(**context)).new_page()  # type: ignore[arg-type]
    await page.goto(f"{server.url}/")
    return page


def callbacks(server: Server) -> list:
    return [c for c in server.engine.replica.contacts.values() if c.channel == Channel.CALLBACK]


async def test_the_page_button_asks_for_a_call_and_the_number_and_place_follow_the_customer(
    browser: Browser, server: Server
):
    page = await shop(browser, server, locale="en-US")
    await page.get_by_role("button", name="Call me back · Telepon saya").click()
    await expect(page.get_by_role("tab", name="Call me")).to_have_attribute("aria-selected", "true")
    await page.get_by_label("Your phone number").fill("12")
    await page.get_by_role("button", name="Call me", exact=True).click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Not booked: that phone number does not exist; check its digits"
    )
    assert callbacks(server) == []
    await page.get_by_label("Your phone number").fill("0812 3456 7890")
    await page.get_by_role("button", name="Call me", exact=True).click()
    await expect(page.locator(".callme-number")).to_contain_text("We will call +6281234567890.")
    number = callbacks(server)[0].details["queue_number"]
    await expect(page.locator(".callme-number")).to_have_text(f"Your number is {number}. We will call +6281234567890.")
    await expect(page.locator(".callme-place")).to_have_text("You are next in line")
    await page.goto(f"{server.url}/?page=billing")  # another page of the shop: the window opens at the callback
    await expect(page.locator(".callme-number")).to_contain_text(number)
    await page.get_by_role("button", name="Cancel the call").click()
    await page.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.get_by_role("status")).to_have_text(f"Your call {number} is cancelled.")
    assert callbacks(server) == []
    await page.get_by_role("button", name="Ask for another call").click()
    await expect(page.get_by_label("Your phone number")).to_be_visible()


async def test_a_booked_hour_is_chosen_and_shown_in_the_customers_time_zone_and_moved(browser: Browser, server: Server):
    page = await shop(browser, server, locale="id-ID", timezone_id="Asia/Makassar")  # an hour ahead of the office
    await page.evaluate("window.ContactCenterWidget.callMe()")
    await page.get_by_label("Nomor telepon Anda").fill("081234567890")
    await page.get_by_label("Pada waktu pilihan saya").check()
    await expect(page.locator(".callme-zone")).to_have_text("Waktu ditampilkan dalam zona waktu Anda (Asia/Makassar).")
    hours = await page.locator("select[name=hour] option").all_inner_texts()
    assert hours[0] in ("09.00", "09:00")  # the office opens at 08:00 in Jakarta: 09:00 in Makassar
    await page.get_by_role("button", name="Telepon saya", exact=True).click()
    await expect(page.locator(".callme-at")).to_contain_text("WITA")
    (booked,) = callbacks(server)
    assert booked.state == ContactState.SCHEDULED
    first = booked.details["slot"]
    await page.get_by_role("button", name="Ubah waktu").click()
    await page.select_option("select[name=hour]", index=1)
    await page.get_by_role("button", name="Pindahkan panggilan saya").click()
    await expect(page.locator(".callme-at")).to_contain_text("WITA")
    (moved,) = callbacks(server)
    assert moved.details["slot"] == first + 1800


async def test_the_agent_dials_from_the_desk_and_records_that_nobody_answered(browser: Browser, server: Server):
    await server.add_agent("sari", capacity={"callback": 1})
    desk = await open_desk(browser, server, "sari", connected="terhubung", locale="id-ID")
    page = await shop(browser, server, locale="en-US")
    await page.evaluate("window.ContactCenterWidget.callMe()")
    await page.get_by_label("Your phone number").fill("081234567890")
    await page.get_by_role("button", name="Call me", exact=True).click()
    await desk.locator("#offers li button.accept").first.click()
    await expect(desk.locator("#dial")).to_have_attribute("href", "tel:+6281234567890")
    await expect(desk.locator(".callback-try")).to_have_text("percobaan 1 dari 3")
    await desk.get_by_role("button", name="Tidak dijawab").click()
    await expect(desk.locator("#dial")).to_have_count(0)
    (tried,) = callbacks(server)
    assert tried.state == ContactState.SCHEDULED and tried.details["failed"] == 1
    await page.evaluate("window.ContactCenterWidget.callMe()")
    await expect(page.locator(".callme-at")).to_have_text(
        "We could not reach you and will try again soon.", timeout=12_000
    )  # asked again every 5 s


async def test_the_confirmations_links_move_and_cancel_the_call_once_each(browser: Browser, server: Server):
    from tests.contact_center.web.test_callbacks_api import call, first_slot

    slot = await first_slot(server)
    second = (await call(server, "GET", "/api/callbacks/slots"))[1]["slots"][1]["start"]
    _, body, _ = await call(server, "POST", "/api/callbacks", json={"phone": "081234567890", "at": slot["start"]})
    links, number = body["callback"]["links"], body["callback"]["queue_number"]
    page = await (await browser.new_context(locale="id-ID")).new_page()
    await page.goto(f"{server.url}/callback#reschedule={links['reschedule']}")
    await expect(page.get_by_role("heading")).to_have_text("Pilih waktu lain untuk panggilan balik Anda")
    assert "#" not in page.url  # the token is off the address bar and out of the history
    await page.select_option("select[name=hour]", index=1)
    await page.get_by_role("button", name="Pindahkan panggilan saya").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Panggilan {number} Anda dipindahkan")
    (moved,) = callbacks(server)
    assert moved.details["slot"] == second
    await page.goto(f"{server.url}/callback?lang=en#cancel={links['cancel']}")  # the old mail's link: spent
    await page.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.get_by_role("alert")).to_contain_text("this link was used already")
    assert callbacks(server)[0].state == ContactState.SCHEDULED
