"""Dialling a callback from the desk through a real SIP gateway on loopback, in headless Chromium with a fake
microphone: Kamailio takes the desk's SIP over a WebSocket with the engine's ephemeral credentials,
rtpengine bridges the browser's WebRTC to RTP, and baresip, the customer's phone, answers. The call reaches
the phone from the company's caller ID, sound flows both ways, hanging up at the desk ends the phone's leg,
and the agent records that the customer was reached. Without a gateway the desk offers the tel: link."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from contact_center.model import Channel
from tests.browser.test_chat_in_browser import open_desk
from tests.conftest import Server, make_config, start_server
from tests.contact_center.web.test_callbacks_api import call
from tests.sip import CALLER_ID, DOMAIN, Gateway, start_gateway

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = start_gateway(tmp_path / "sip")
    yield gw
    gw.stop()


@pytest.fixture
async def server(tmp_path: Path, gateway: Gateway) -> AsyncIterator[Server]:
    dialling = {"ws_url": gateway.ws_url, "domain": DOMAIN, "caller_id": CALLER_ID, "secret": gateway.secret}
    srv = await start_server(make_config(tmp_path, gateway=dialling))
    yield srv
    await srv.runner.cleanup()


def _loud(path: Path) -> bool:
    """Whether a recording holds sound: 16-bit samples well above silence."""
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
    samples = [int.from_bytes(frames[i : i + 2], "little", signed=True) for i in range(0, len(frames) - 1, 2)]
    return len(samples) > 8000 and max(abs(s) for s in samples) > 1000


async def test_the_agent_calls_the_number_from_the_desk_and_the_phone_answers_and_hears_them(
    browser: Browser, server: Server, gateway: Gateway
):
    await server.add_agent("sari", capacity={"callback": 1})
    desk = await open_desk(browser, server, "sari")
    await call(server, "POST", "/api/callbacks", json={"phone": "0812 3456 7890", "language": "en"})
    await desk.locator("#offers li button.accept").first.click()
    await desk.locator("#dial-desk").click()
    await expect(desk.locator("#dial-status")).to_contain_text("On the call", timeout=20_000)
    assert f"Call established: sip:{CALLER_ID}@{DOMAIN}" in gateway.phone_log()  # from the company's caller ID
    quality = desk.locator(".callback-dial .call-quality")
    await expect(quality).to_contain_text("ms round trip", timeout=10_000)
    await asyncio.sleep(1.5)
    await expect(quality).not_to_have_attribute("data-received", "0")  # the phone's tone reaches the desk
    received = int(await quality.get_attribute("data-received") or 0)
    assert received > 50
    await desk.locator("#dial-hangup").click()
    await expect(desk.locator("#dial-desk")).to_be_visible()
    ended = f"Call with sip:{CALLER_ID}@{DOMAIN} terminated"
    for _ in range(50):  # the phone's leg ends too
        if ended in gateway.phone_log():
            break
        await asyncio.sleep(0.1)
    assert ended in gateway.phone_log(), gateway.phone_log()[-2000:]
    heard = [p for p in gateway.recordings() if "dec" in p.name]
    assert heard and _loud(heard[0]), gateway.recordings()  # the phone heard the agent's microphone
    await desk.get_by_role("button", name="Reached").click()
    await expect(desk.locator("#dial-desk")).to_have_count(0)
    (contact,) = [c for c in server.engine.replica.contacts.values() if c.channel == Channel.CALLBACK]
    assert contact.state.value == "wrap_up" and contact.disposition == "reached"
    (dialled,) = [e for e in await server.engine.history(contact.customer_id) if e.kind == "callback.dialled"]
    assert dialled.data["by"] == "agent" and dialled.data["duration_s"] > 1  # how the call went, in the history
    assert dialled.data["packets_received"] > 50 and dialled.data["rtt_ms"] >= 0


async def test_the_agent_holds_the_call_and_when_the_customer_hangs_up_the_desk_says_so(
    browser: Browser, server: Server, gateway: Gateway
):
    await server.add_agent("sari", capacity={"callback": 1})
    desk = await open_desk(browser, server, "sari", connected="terhubung", locale="id-ID")
    await call(server, "POST", "/api/callbacks", json={"phone": "0812 3456 7890", "language": "id"})
    await desk.locator("#offers li button.accept").first.click()
    await desk.locator("#dial-desk").click()
    await expect(desk.locator("#dial-status")).to_contain_text("Sedang berbicara", timeout=20_000)
    await desk.locator("#dial-hold").click()  # a re-INVITE through the gateway: the phone hears nothing
    await expect(desk.locator("#dial-status")).to_have_text("Ditahan: pelanggan tidak mendengar apa pun")
    await desk.locator("#dial-hold").click()
    await expect(desk.locator("#dial-status")).to_contain_text("Sedang berbicara")
    assert '"ok": true' in gateway.press("hangup")  # the customer hangs up
    await expect(desk.locator(".dial-ended")).to_contain_text("Panggilan berakhir", timeout=10_000)
    await expect(desk.locator("#dial-desk")).to_be_visible()  # the number may be dialled again


async def test_a_gateway_that_cannot_be_reached_is_said_and_the_own_phone_remains(browser: Browser, tmp_path: Path):
    from tests.conftest import free_port

    nowhere = {"ws_url": f"ws://127.0.0.1:{free_port()}", "domain": DOMAIN, "caller_id": CALLER_ID, "secret": "x"}
    srv = await start_server(make_config(tmp_path, gateway=nowhere))
    try:
        await srv.add_agent("sari", capacity={"callback": 1})
        desk = await open_desk(browser, srv, "sari")
        await call(srv, "POST", "/api/callbacks", json={"phone": "0812 3456 7890"})
        await desk.locator("#offers li button.accept").first.click()
        await desk.locator("#dial-desk").click()
        await expect(desk.locator(".dial-ended")).to_contain_text("gateway_unreachable", timeout=10_000)
        await expect(desk.locator("#dial")).to_have_attribute("href", "tel:+6281234567890")
    finally:
        await srv.runner.cleanup()
