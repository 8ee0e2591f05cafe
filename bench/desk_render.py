"""The agent desk in headless Chromium: 50 contacts and a 1,000-message transcript, from opening the page to drawn.

The engine runs in its own process on the embedded store. One agent holds 50 chats; the one the
desk opens first has 1,000 messages. Each run opens the desk (its session already in the tab, as
after a sign-in) and measures, on the page's own clock, from the start of navigation until the
list shows all 50 contacts and the transcript all 1,000 messages. The baseline, in the same run
and the same browser: the same texts put into a blank page as plain elements by a loop, with no
components, no socket and no store (what drawing that much costs at the least).
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import aiohttp
import orjson
from playwright.async_api import Browser, async_playwright
from tqdm import tqdm

from bench.engine_proc import EngineProcess, chromium, messages

__all__ = ["run"]

CONTACTS = 50
MESSAGES = 1000
RUNS = 5

_DRAWN = """([contacts, messages]) => new Promise((done) => {
  const look = () => {
    const listed = document.querySelectorAll('#contacts li').length;
    const shown = document.querySelectorAll('#transcript .msg').length;
    if (listed >= contacts && shown >= messages) done(performance.now());
    else requestAnimationFrame(look);
  };
  look();
})"""

_BASELINE = """([contacts, messages]) => {
  const start = performance.now();
  const list = document.createElement('ul');
  for (let i = 0; i < contacts; i++) {
    const li = document.createElement('li'); li.textContent = 'Visitor ' + i; list.appendChild(li);
  }
  const box = document.createElement('div');
  for (let i = 0; i < messages; i++) {
    const m = document.createElement('div'); m.textContent = 'pesan ' + i; box.appendChild(m);
  }
  document.body.append(list, box);
  document.body.offsetHeight;  // laid out
  return new Promise((done) => requestAnimationFrame(() => done(performance.now() - start)));
}"""


async def _until(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive()
        for m in messages(frame.data):
            if m.get("type") == kind:
                return m


async def _floor(engine: EngineProcess) -> str:
    """One agent holding CONTACTS chats; returns the id of the one the desk opens first, with MESSAGES messages."""
    assert engine.tokens is not None
    origin = {"Origin": engine.url}
    async with aiohttp.ClientSession() as http:
        desk = await http.ws_connect(f"{engine.url.replace('http', 'ws')}/ws/desk")
        await desk.send_str(orjson.dumps({"type": "hello", "token": engine.tokens[0]}).decode())
        await _until(desk, "welcome")
        await desk.send_str('{"type": "set_status", "status": "available"}')
        chats: dict[str, aiohttp.ClientWebSocketResponse] = {}
        for i in tqdm(range(CONTACTS), desc="desk render: chats", unit="chat"):
            ws = await http.ws_connect(f"{engine.url.replace('http', 'ws')}/ws/chat", headers=origin)
            await ws.send_str('{"type": "hello"}')
            await _until(ws, "welcome")
            await ws.send_str(
                orjson.dumps({"type": "message", "client_id": "c-0", "text": f"Halo, saya pelanggan {i}"}).decode()
            )
            contact_id = (await _until(ws, "ack"))["contact_id"]
            offer = await _until(desk, "offer")
            await desk.send_str(orjson.dumps({"type": "accept", "offer_id": offer["offer_id"]}).decode())
            await _until(desk, "assigned")
            chats[contact_id] = ws
        first = min(chats)  # the desk lists what it holds by id: it opens this one
        ws = chats[first]
        for n in tqdm(range(1, MESSAGES), desc="desk render: messages", unit="msg", mininterval=1.0):
            await ws.send_str(
                orjson.dumps({"type": "message", "client_id": f"c-{n}", "text": f"pesan nomor {n}"}).decode()
            )
            if n % 50 == 0 or n == MESSAGES - 1:
                await _until(ws, "ack")
        await asyncio.sleep(0.5)
        for ws in chats.values():
            await ws.close()
        await desk.close()  # the agent keeps its contacts for the reconnect grace
    return first


async def _one_run(browser: Browser, engine: EngineProcess) -> float:
    assert engine.tokens is not None
    context = await browser.new_context()
    await context.add_init_script(f"sessionStorage.setItem('desk-token', {orjson.dumps(engine.tokens[0]).decode()})")
    page = await context.new_page()
    await page.goto(f"{engine.url}/desk", wait_until="commit")
    drawn = float(await page.evaluate(_DRAWN, [CONTACTS, MESSAGES]))
    await context.close()
    return drawn


async def _baseline(browser: Browser) -> float:
    page = await browser.new_page()
    took = float(await page.evaluate(_BASELINE, [CONTACTS, MESSAGES]))
    await page.close()
    return took


async def run() -> dict[str, Any]:
    browser_path = chromium()
    engine = await EngineProcess.create(agents=1, capacity_chat=CONTACTS)
    await engine.start()
    try:
        await _floor(engine)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
            desk, baseline = [], []
            for _ in tqdm(range(RUNS), desc="desk render: runs", unit="run"):
                baseline.append(await _baseline(browser))
                desk.append(await _one_run(browser, engine))
            await browser.close()
    finally:
        engine.stop()
    median, base = statistics.median(desk), statistics.median(baseline)
    return {
        "contacts": CONTACTS,
        "messages": MESSAGES,
        "desk_ms": round(median, 1),
        "desk_ms_each": [round(d, 1) for d in desk],
        "baseline_ms": round(base, 1),
        "baseline_ms_each": [round(b, 1) for b in baseline],
        "ratio": round(median / base, 1) if base else None,
    }


if __name__ == "__main__":
    print(orjson.dumps(asyncio.run(run()), option=orjson.OPT_INDENT_2).decode())
