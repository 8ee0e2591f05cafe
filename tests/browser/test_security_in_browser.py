"""Security as people meet it in the browser: a claimed identity at the desk, and a session that ends."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from contact_center.identities import Identities
from contact_center.model import IdentityKind, Role
from tests.browser.test_chat_in_browser import open_desk
from tests.clients import login
from tests.conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


async def test_a_claimed_email_shows_as_unverified_and_the_agent_links_it(browser: Browser, server: Server):
    """A visitor on the shop page says who they are; the desk shows it apart, and linking takes two clicks."""
    known = await server.engine.new_visitor()
    identities = Identities(server.engine, server.engine.store, server.engine.clock, server.engine.config)
    await identities.verified(known.id, IdentityKind.EMAIL, "vip@example.com", "code")
    await server.add_agent("ayu")
    desk = await open_desk(browser, server, "ayu")

    shop = await (await browser.new_context()).new_page()
    await shop.goto(f"{server.url}/")
    await shop.get_by_role("button", name="Chat with us").click()
    await shop.evaluate("window.ContactCenterWidget.identify({email: 'VIP@example.com', name: 'Budi'})")
    await shop.fill("textarea", "Saya pelanggan lama")
    await shop.keyboard.press("Enter")
    await desk.locator("#offers li button.accept").click()
    customer = desk.locator("#customer")
    await expect(customer).to_contain_text("Says they are vip@example.com (unverified)")
    assert "vip@example.com (verified)" not in await customer.inner_text()

    link = desk.get_by_role("button", name="Confirm vip@example.com and link")
    await link.click()
    await expect(link).to_have_text("Sure? Click again to link")
    await link.click()
    await expect(customer).to_contain_text("email: vip@example.com (verified)")
    await expect(customer).not_to_contain_text("unverified")
    contact_id = await desk.locator("#contacts li").get_attribute("data-contact")
    assert server.engine.contact(contact_id or "").customer_id == known.id


async def test_a_desk_whose_session_a_supervisor_ends_goes_back_to_sign_in(browser: Browser, server: Server):
    """The agent sees the sign-in form with the reason, and the desk stops reconnecting."""
    await server.add_agent("ayu")
    await server.add_agent("lead", role=Role.SUPERVISOR)
    desk = await open_desk(browser, server, "ayu")
    token = await login(server, "lead")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.delete(f"{server.url}/api/users/ayu/sessions") as r:
            assert r.status == 200
    await expect(desk.locator("#login")).to_be_visible()
    await expect(desk.locator("#login-error")).to_contain_text("Your session has ended")
    await expect(desk.locator("#desk")).to_be_hidden()
    assert await desk.evaluate("sessionStorage.getItem('desk-token')") is None
