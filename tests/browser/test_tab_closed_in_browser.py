"""A customer closes the browser tab: a waiting chat is abandoned, its agent told; a reload is not a leave."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from contact_center.config import Config
from contact_center.model import Channel, Contact
from tests.browser.test_chat_in_browser import open_desk
from tests.conftest import Server, make_config

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

GRACE_S = 1.0


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, webchat={"leave_grace_s": GRACE_S})


async def until(check: Callable[[], Awaitable[Any]], within: float = 15.0) -> Any:
    async with asyncio.timeout(within):
        while not (found := await check()):
            await asyncio.sleep(0.05)
    return found


async def open_chats(server: Server) -> list[Contact]:
    return [c for c in await server.engine.store.open_contacts() if c.channel is Channel.CHAT]


async def test_closing_the_tab_abandons_a_waiting_chat_and_a_reload_does_not(browser: Browser, server: Server):
    context = await browser.new_context()
    shop = await context.new_page()
    await shop.goto(f"{server.url}/")
    await shop.get_by_role("button", name="Chat with us").click()
    await shop.fill("textarea", "Halo, saya tunggu ya")
    await shop.keyboard.press("Enter")
    await expect(shop.locator(".msg.pending")).to_have_count(0)
    for _ in range(3):  # reloads, each a socket closed and another opened: the chat stays
        await shop.reload()
        await expect(shop.locator(".msg.customer .text")).to_have_text(["Halo, saya tunggu ya"])
    await asyncio.sleep(GRACE_S * 2)
    assert len(await open_chats(server)) == 1

    await shop.close()
    assert await until(lambda: _none_open(server))


async def test_closing_the_tab_of_an_assigned_chat_tells_the_agent(browser: Browser, server: Server):
    await server.add_agent("ayu", wrap_up_s=60)  # the wrap-up lasts while the test looks
    desk = await open_desk(browser, server, "ayu")
    shop = await (await browser.new_context()).new_page()
    await shop.goto(f"{server.url}/")
    await shop.get_by_role("button", name="Chat with us").click()
    await shop.fill("textarea", "Tolong cek pesanan saya")
    await shop.keyboard.press("Enter")
    await desk.locator("#offers li button.accept").click()
    await expect(desk.locator("#transcript .msg.customer .text")).to_have_text("Tolong cek pesanan saya")
    await shop.close()
    await expect(desk.locator("#transcript")).to_contain_text("The customer left the chat.", timeout=15_000)
    await expect(desk.locator("#contacts li")).to_contain_text("customer left")


async def _none_open(server: Server) -> bool:
    return await open_chats(server) == []
