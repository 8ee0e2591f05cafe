"""Click-to-call set-up in the browser: from the customer's click on "Call now" to the call connected.

One engine process (the embedded store, its office open at every hour) and one agent whose desk, in
headless Chromium, answers an offer as soon as it shows (a script clicks Accept: the time a person
takes is theirs, not the engine's). A customer's page, in the same browser with a fake microphone,
places CALLS calls one after the other, each hung up once connected. Each call's set-up is timed in
the customer's page in three steps: click to queued (``call_placed``: the microphone asked for, the
contact recorded), to answered (``agent_joined``: offered, rung, accepted), to connected (the
browsers' WebRTC set-up through the engine's signalling). Every message both pages send is counted
by its type (the pages' own ``WebSocket.send``), so the signalling of a call is counted where it
starts. Baseline in the same run, alternating with the calls: two RTCPeerConnections in one page
with the same fake microphone, their offer, answer and candidates handed over in memory, timed from
the offer to connected: WebRTC's own set-up on this machine, with no engine or network in between.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import orjson
from playwright.async_api import Browser, Page, async_playwright
from tqdm import tqdm

from bench.engine_proc import EngineProcess, chromium

CALLS = 20
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPEN_ALL_DAY = '[sla]\nholidays = ""\n[sla.hours]\n' + "".join(f'{d} = ["00:00-24:00"]\n' for d in DAYS)
ARGS = ["--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

_COUNT = """
window.__sent = {};
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  try { const m = JSON.parse(data); window.__sent[m.type] = (window.__sent[m.type] || 0) + 1; } catch (e) {}
  return send.call(this, data);
};
"""
_ANSWER = "setInterval(() => { const b = document.querySelector('#offers li button.accept'); if (b) b.click(); }, 5);"

_ONE_CALL = """
async () => {
  const root = document.querySelector('[data-contact-center-widget]').shadowRoot;
  window.ContactCenterWidget.call();
  const wait = (test) => new Promise((resolve) => {
    if (test()) return resolve();
    const seen = new MutationObserver(() => { if (test()) { seen.disconnect(); resolve(); } });
    seen.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await wait(() => root.querySelector('.call-start'));
  window.__sent = {};
  const phase = () => { const s = root.querySelector('.call-status'); return s ? s.dataset.phase : null; };
  const marks = {};
  const t0 = performance.now();
  root.querySelector('.call-start').click();
  await wait(() => {
    const p = phase(), now = performance.now() - t0;
    if (p === 'waiting' && marks.queued === undefined) marks.queued = now;
    if (p === 'connecting' && marks.answered === undefined) marks.answered = now;
    return p === 'talking';
  });
  marks.connected = performance.now() - t0;
  marks.answered = marks.answered ?? marks.connected;
  marks.queued = marks.queued ?? marks.answered;
  root.querySelector('.call-hangup').click();
  await wait(() => root.querySelector('.call-start'));
  await new Promise((r) => setTimeout(r, 300));  // the hang-up's stats and record
  return { marks, sent: window.__sent };
}
"""

_BARE = """
async () => {
  const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  for (const t of mic.getAudioTracks()) a.addTrack(t, mic);
  b.ontrack = () => {};
  const up = new Promise((resolve) => {
    a.onconnectionstatechange = () => a.connectionState === 'connected' && resolve();
  });
  const t0 = performance.now();
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await up;
  const took = performance.now() - t0;
  a.close(); b.close(); mic.getTracks().forEach((t) => t.stop());
  return took;
}
"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _desk(browser: Browser, engine: EngineProcess) -> Page:
    assert engine.tokens is not None
    context = await browser.new_context()
    await context.add_init_script(f"sessionStorage.setItem('desk-token', {orjson.dumps(engine.tokens[0]).decode()})")
    await context.add_init_script(_COUNT)
    await context.add_init_script(_ANSWER)
    page = await context.new_page()
    await page.goto(f"{engine.url}/desk")
    await page.wait_for_selector("#status")
    await page.select_option("#status", "available")
    return page


async def _calls(browser: Browser, engine: EngineProcess) -> dict[str, Any]:
    desk = await _desk(browser, engine)
    context = await browser.new_context()
    await context.add_init_script(_COUNT)
    shop = await context.new_page()
    await shop.goto(f"{engine.url}/")
    await shop.wait_for_function("window.ContactCenterWidget !== undefined")
    bare_page = await browser.new_page()
    await bare_page.goto(f"{engine.url}/api/health")  # a page of 127.0.0.1: a secure context, with a microphone
    first = await shop.evaluate(_ONE_CALL)  # the first call of the pages and the engine: told apart
    calls, bare, desk_sent = [], [], []
    rss_before = engine.rss_kib()
    for _ in tqdm(range(CALLS), desc="calls: set-up", unit="call"):
        bare.append(float(await bare_page.evaluate(_BARE)))
        await desk.evaluate("window.__sent = {}")
        calls.append(await shop.evaluate(_ONE_CALL))
        await asyncio.sleep(0.2)  # the desk's figures of the call, sent as the call leaves it
        desk_sent.append(await desk.evaluate("window.__sent"))
    rss_after = engine.rss_kib()
    await context.close()
    return {"first": first, "calls": calls, "bare": bare, "desk_sent": desk_sent,
            "rss_growth_kib": rss_after - rss_before}  # fmt: skip


async def run() -> dict[str, Any]:
    browser_path = chromium()
    engine = await EngineProcess.create(agents=1, extra=OPEN_ALL_DAY)
    await engine.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=browser_path, args=ARGS)
            found = await _calls(browser, engine)
            await browser.close()
    finally:
        engine.stop()
    return _figures(found)


def _figures(found: dict[str, Any]) -> dict[str, Any]:
    marks = [c["marks"] for c in found["calls"]]
    connected = [m["connected"] for m in marks]
    webrtc = [m["connected"] - m["answered"] for m in marks]
    bare = found["bare"]

    def signals(sent: dict[str, int]) -> int:
        return int(sent.get("call_signal", 0))

    def calls_messages(sent: dict[str, int]) -> int:
        return sum(n for kind, n in sent.items() if kind.startswith("call_") or kind == "accept")

    customer = [c["sent"] for c in found["calls"]]
    return {
        "calls": len(marks),
        "click_to_connected_p50_ms": round(statistics.median(connected), 1),
        "click_to_connected_p90_ms": round(_pct(connected, 0.9), 1),
        "click_to_connected_max_ms": round(max(connected), 1),
        "click_to_queued_p50_ms": round(statistics.median(m["queued"] for m in marks), 1),
        "queued_to_answered_p50_ms": round(statistics.median(m["answered"] - m["queued"] for m in marks), 1),
        "answered_to_connected_p50_ms": round(statistics.median(webrtc), 1),
        "answered_to_connected_p90_ms": round(_pct(webrtc, 0.9), 1),
        "bare_webrtc_p50_ms": round(statistics.median(bare), 1),
        "bare_webrtc_p90_ms": round(_pct(bare, 0.9), 1),
        "ratio": round(statistics.median(webrtc) / max(statistics.median(bare), 0.001), 2),
        "customer_signals_p50": statistics.median(signals(s) for s in customer),
        "agent_signals_p50": statistics.median(signals(s) for s in found["desk_sent"]),
        "customer_call_messages_p50": statistics.median(calls_messages(s) for s in customer),
        "agent_call_messages_p50": statistics.median(calls_messages(s) for s in found["desk_sent"]),
        "customer_sent_last": customer[-1],
        "agent_sent_last": found["desk_sent"][-1],
        "engine_rss_growth_kib_per_call": round(found["rss_growth_kib"] / max(1, len(marks)), 1),
        "first_call_ms": round(found["first"]["marks"]["connected"], 1),
    }


def section(r: dict[str, Any]) -> list[str]:
    """Click-to-call set-up time and signalling, against WebRTC's own set-up in one page."""
    return [
        "## Click-to-call: set-up time and signalling",
        "",
        "One engine (embedded store) and one agent whose desk, in headless Chromium, accepts as soon as a call is",
        "offered; a customer's page in the same browser, with a fake microphone, places a first call and then",
        f"{r['calls']} more, one after the other (`bench/calls.py`), each hung up once connected. Timed in the",
        "customer's page from the click on *Call now*; every message both pages send is counted by type.",
        "Baseline in the same run, alternating with the calls: two `RTCPeerConnection`s in one page, offer, answer",
        "and candidates handed over in memory (WebRTC's own set-up here, no engine or network between).",
        "",
        "| step | p50 | p90 |",
        "| --- | --- | --- |",
        f"| click to connected (the whole set-up) | **{r['click_to_connected_p50_ms']:.0f} ms** "
        f"| {r['click_to_connected_p90_ms']:.0f} ms |",
        f"| click to queued (microphone, the contact recorded) | {r['click_to_queued_p50_ms']:.0f} ms | |",
        f"| queued to answered (offered, rung, accepted) | {r['queued_to_answered_p50_ms']:.0f} ms | |",
        f"| answered to connected (WebRTC through the engine's signalling) "
        f"| {r['answered_to_connected_p50_ms']:.0f} ms | {r['answered_to_connected_p90_ms']:.0f} ms |",
        f"| baseline: WebRTC in one page, offer to connected | {r['bare_webrtc_p50_ms']:.0f} ms "
        f"| {r['bare_webrtc_p90_ms']:.0f} ms |",
        "",
        f"Answered to connected is {r['ratio']:.2f}× the baseline's set-up. Between them: the desk's microphone and",
        "ICE servers asked for on the answer, each message through the engine and a socket, the candidates trickled",
        "one by one where the baseline hands them over at once; how the time splits among these is not measured. The",
        f"slowest call took {r['click_to_connected_max_ms']:.0f} ms click to connected; the run's first call, not",
        f"counted above, {r['first_call_ms']:.0f} ms (the pages' and the engine's first). Signalling per call: the",
        f"customer's browser sent {r['customer_signals_p50']:.0f} `call_signal` messages and the desk",
        f"{r['agent_signals_p50']:.0f} (an offer or an answer, and the ICE candidates); with placing, connected,",
        f"stats and hang-up, {r['customer_call_messages_p50']:.0f} call messages from the customer and",
        f"{r['agent_call_messages_p50']:.0f} from the desk (its `accept` included). The engine's resident memory grew",
        f"{r['engine_rss_growth_kib_per_call']:.0f} KiB per call over the run.",
        "",
    ]


if __name__ == "__main__":
    print(orjson.dumps(asyncio.run(run()), option=orjson.OPT_INDENT_2).decode())
