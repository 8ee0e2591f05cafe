"""The supervisor's dashboard in Chromium, on an engine whose clock the test moves: contacts arrive, wait, breach
and are answered, and the page follows within a second; the supervisor opens a late email and sets a status."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from channels.email.inbound import read_mail
from contact_center.clock import ManualClock
from contact_center.config import MailboxConfig
from contact_center.mail import Arrival, MailSource
from contact_center.model import Role
from contact_center.web import build_app
from contact_center.web.server import serve_app
from tests.browser.test_chat_in_browser import open_desk
from tests.browser.test_desk_in_browser import AXE, serious
from tests.clients import desk, widget
from tests.conftest import Server, free_port, make_config

pytestmark = pytest.mark.browser

MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()  # office hours 08-17
BOX = MailboxConfig("support", "127.0.0.1", 1, "u", "p", "support@toko.test")
_uids = itertools.count(1)


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[tuple[Server, ManualClock]]:
    """An engine on the office's real calendar and a clock the test moves (sqlite store)."""
    config = make_config(tmp_path)
    port = free_port()
    config = replace(config, webchat=replace(config.webchat, allowed_origins=(f"http://127.0.0.1:{port}",)))
    clock = ManualClock(MONDAY_10)
    app = build_app(config, clock=clock)
    runner, guard = await serve_app(app, config, "127.0.0.1", port, access_log=None)
    yield Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app, runner, guard), clock
    await runner.cleanup()


async def email_arrives(server: Server, clock: ManualClock, sender: str, subject: str) -> str:
    data = (f"From: {sender}\r\nTo: support@toko.test\r\nSubject: {subject}\r\n\r\nMohon bantuannya.\r\n").encode()
    read = read_mail(data, MailSource("support", 1, next(_uids)), BOX, server.engine.config.email, clock.now())
    assert isinstance(read, Arrival)
    outcome = await server.engine.receive_mail(read)
    return outcome.contact_id


async def test_the_dashboard_follows_arrivals_waits_breaches_and_answers(browser: Browser, clocked):
    """An email waits, is at risk, then past due; a chat waits 40 s and is answered late; a callback is due; all
    live on the page. One click on the late email reads it; the supervisor sets an agent away."""
    server, clock = clocked
    sari = await server.add_agent("sari", role=Role.SUPERVISOR)
    await server.add_agent("ayu", capacity={"chat": 2, "email": 2})  # no callbacks: that one stays due
    page = await open_desk(browser, server, "sari", available=False, bypass_csp=True)  # axe is put in at the end
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    await expect(page.locator("#waiting-email")).to_have_text("0")

    email_id = await email_arrives(server, clock, "Ana <ana@pelanggan.test>", "Paket belum sampai")
    await expect(page.locator("#waiting-email")).to_have_text("1")
    await expect(page.locator("#promise-at-risk li")).to_have_count(0)
    clock.advance(95 * 60)  # 11:35: 25 working minutes left of 2 hours
    at_risk = page.locator("#promise-at-risk li")
    await expect(at_risk).to_have_count(1)
    await expect(at_risk).to_contain_text("Ana")
    clock.advance(30 * 60)  # 12:05: past due
    await expect(page.locator("#promise-at-risk li")).to_have_count(0)
    await expect(page.get_by_role("heading", name="Past due: 1 email")).to_be_visible()

    customer, _ = await widget(server, {"topic": "general", "language": "id"})
    await customer.send({"type": "message", "client_id": "c-1", "text": "Halo, kartu saya terblokir"})
    await customer.expect("ack")
    await expect(page.locator("#waiting-chat")).to_have_text("1")
    clock.advance(40)
    await expect(page.locator("#longest-chat")).to_have_text("40 sec")
    await request_callback(server)
    await expect(page.locator("#callbacks-due li")).to_have_count(1)

    agent, _ = await desk(server, "ayu")
    offers = {}
    for _ in range(2):  # the chat and the email
        offer = await agent.expect("offer", timeout=10)
        offers[offer["contact"]["channel"]] = offer
    await agent.send({"type": "accept", "offer_id": offers["chat"]["offer_id"]})
    await agent.expect("assigned")
    await expect(page.locator("#waiting-chat")).to_have_text("0")
    await expect(page.locator("#answered-chat")).to_have_text("1")
    await expect(page.locator("#sl-today-chat")).to_have_text("0%")  # answered after 40 s: past its 30 s
    await expect(page.locator("#dash-agents tr[data-agent]")).to_contain_text("Chat")  # what ayu holds

    await page.get_by_role("button", name="Open Ana's contact").click()  # the late email, one click away
    monitor = page.get_by_role("region", name="Listening in: Ana (Email)")
    await expect(monitor).to_contain_text("Paket belum sampai")
    await page.get_by_role("button", name="Stop listening").click()
    await expect(monitor).to_have_count(0)

    await agent.send({"type": "accept", "offer_id": offers["email"]["offer_id"]})
    await agent.expect("assigned")
    await agent.send({"type": "email_reply", "contact_id": email_id, "text": "Baik, kami cek.", "client_id": "e-1"})
    await agent.expect("email_queued")
    await expect(page.locator("#promise-breached li")).to_have_count(0)  # answered: no longer waiting
    await expect(page.locator("#promise-today")).to_have_text("0%")  # but late: the promise today is 0 of 1

    await page.get_by_label("Status of ayu").select_option("away")
    await agent.expect("status", status="away", reason=f"by_supervisor:{sari.id}")  # her desk says who set it
    await expect(page.get_by_label("Status of ayu")).to_have_value("away")
    await page.select_option("#language", "id")  # the dashboard in Indonesian too
    await expect(page.get_by_role("heading", name="Dasbor")).to_be_visible()
    await expect(page.get_by_role("heading", name="Lewat tenggat: 0 email")).to_be_visible()
    await page.add_script_tag(path=str(AXE))
    assert await serious(page) == []  # charts, tables and forms all named


async def closed(server: Server, clock: ManualClock) -> None:
    """Move the clock past the wrap-up until the store has the chat closed."""
    for _ in range(100):
        clock.advance(10)
        await asyncio.sleep(0.1)
        facts = await server.engine.store.contact_facts(MONDAY_10 - 60, clock.now() + 1)
        if "closed" in facts.state.tolist():
            return
    raise AssertionError("the chat never closed")


async def request_callback(server: Server) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/callbacks", json={"phone": "0812-3456-7890"}) as r:
            assert r.status == 201, await r.text()


async def test_a_supervisor_reviews_a_chat_and_the_agent_reads_it(browser: Browser, clocked):
    """The supervisor opens this week's sample, reviews the chat ayu closed on the form and saves it; ayu's desk
    says so at once and her reviews show the score and the comment, in Indonesian too."""
    server, clock = clocked
    await server.add_agent("sari", role=Role.SUPERVISOR)
    await server.add_agent("ayu", capacity={"chat": 2})
    agent_page = await open_desk(browser, server, "ayu")
    customer, _ = await widget(server, {"topic": "general", "language": "id"})
    await customer.send({"type": "message", "client_id": "c-1", "text": "Kartu saya terblokir"})
    await agent_page.locator("#offers li button.accept").click()
    await agent_page.fill("#reply-text", "Baik, kartu Anda sudah aktif kembali")
    await agent_page.click("#reply-send")
    await expect(agent_page.locator("#transcript .msg")).to_have_count(2)
    await agent_page.locator("#close-contact").click()  # the first disposition: to wrap-up
    await closed(server, clock)

    page = await open_desk(browser, server, "sari", available=False)
    await page.get_by_role("button", name="Show this week's sample").click()
    await page.get_by_role("button", name="Review ayu's Chat").click()
    review = page.get_by_role("region", name="Reviewing ayu")
    await expect(review).to_contain_text("Baik, kartu Anda sudah aktif kembali")
    for label in ("Greeting and name", "Understood the request", "Right and complete answer", "Courteous, clear tone",
                  "Spelling and grammar", "Closing and next steps"):  # fmt: skip
        await review.get_by_label(label).select_option("4")
    await review.get_by_label("Comment for the agent").fill("Sapaan bagus; sebut nama pelanggan")
    await review.get_by_role("button", name="Save the review").click()
    await expect(page.locator("#review-score")).to_have_text("Score 75 of 100")

    await expect(agent_page.locator("#review-notice")).to_contain_text("75 of 100")
    await agent_page.locator("#review-notice button").click()
    mine = agent_page.locator("#my-reviews li")
    await expect(mine).to_contain_text("Sapaan bagus; sebut nama pelanggan")
    await agent_page.select_option("#language", "id")
    await expect(agent_page.get_by_role("heading", name="Tinjauan saya")).to_be_visible()
    await expect(mine).to_contain_text("Nilai 75 dari 100")


async def test_the_reports_page_shows_the_days_figures_with_a_chart_csv_and_png(browser: Browser, clocked):
    """From the dashboard, Reports: today's chat in the table (answered, its service level), the chart drawn, the
    CSV downloaded with the same row, the PNG shown; how soon it was answered, its agent, the promise and the
    ratings below; in Indonesian too."""
    server, clock = clocked
    await server.add_agent("sari", role=Role.SUPERVISOR)
    await server.add_agent("ayu", capacity={"chat": 2, "email": 1})
    agent, _ = await desk(server, "ayu")
    customer, _ = await widget(server, {"topic": "general", "language": "id"})
    await customer.send({"type": "message", "client_id": "c-1", "text": "Halo"})
    offer = await agent.expect("offer", timeout=10)
    clock.advance(12)
    await agent.send({"type": "accept", "offer_id": offer["offer_id"]})
    await agent.expect("assigned")
    email_id = await email_arrives(server, clock, "Ana <ana@pelanggan.test>", "Paket belum sampai")
    mail = await agent.expect("offer", timeout=10)
    await agent.send({"type": "accept", "offer_id": mail["offer_id"]})
    await agent.expect("assigned")
    await agent.send({"type": "email_reply", "contact_id": email_id, "text": "Baik, kami cek.", "client_id": "e-1"})
    await agent.expect("email_queued")

    page = await open_desk(browser, server, "sari", available=False, bypass_csp=True)
    await page.get_by_role("button", name="Reports").click()
    form = page.get_by_role("main", name="Reports")
    await form.get_by_label("By", exact=True).select_option("day")
    await form.get_by_label("From", exact=True).fill("2026-11-30")
    await form.get_by_label("To", exact=True).fill("2026-11-30")
    await page.get_by_role("button", name="Show the report").click()
    row = page.locator("#report-table tbody tr", has_text="Chat")
    await expect(row).to_contain_text("2026-11-30")
    await expect(row.locator("td").nth(2)).to_have_text("1")  # answered
    await expect(row.locator("td").nth(3)).to_have_text("100%")  # in 12 s, within 30
    await expect(page.locator("#report-chart canvas").first).to_be_visible()
    async with page.expect_download() as got:
        await page.get_by_role("button", name="Download CSV").click()
    csv_text = Path(await (await got.value).path()).read_text()
    assert csv_text.startswith("period_start,channel,arrived") and "2026-11-30,chat,1,1,1,1" in csv_text
    await page.get_by_role("button", name="Show the chart as PNG").click()
    await expect(page.locator("#report-image")).to_be_visible()
    answered = page.locator("#report-answer-times tbody tr", has_text="Chat").locator("td")
    await expect(answered.nth(0)).to_have_text("0%")  # within 10 s: none (it took 12)
    await expect(answered.nth(1)).to_have_text("100%")  # within 20 s: all
    await expect(page.locator("#report-answer-chart canvas").first).to_be_visible()
    await expect(page.locator("#report-agents tbody tr", has_text="ayu")).to_have_count(1)
    kept = page.locator("#report-promise tbody tr", has_text="2026-11-30").locator("td")
    await expect(kept.nth(0)).to_have_text("1")  # arrived
    await expect(kept.nth(1)).to_have_text("1")  # answered within the promise
    await expect(kept.nth(4)).to_have_text("100%")
    ratings = page.get_by_role("region", name="Customers' ratings: 0, satisfied –")
    await expect(ratings).to_contain_text("Nothing in this span.")
    await page.select_option("#language", "id")
    await expect(page.get_by_role("heading", name="Laporan")).to_be_visible()
    await expect(page.get_by_role("heading", name="Seberapa cepat kontak dijawab")).to_be_visible()
    await page.add_script_tag(path=str(AXE))
    assert await serious(page) == []


def erlang_c_level(agents: int, traffic: float, within_s: float, handle_s: float) -> float:
    """The service level Erlang C gives, from the factorial formula (not the engine's recurrence)."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    waiting = top / (sum(traffic**k / math.factorial(k) for k in range(agents)) + top)
    return 1 - waiting * math.exp(-(agents - traffic) * within_s / handle_s)


async def test_a_supervisor_works_out_the_agents_that_entered_figures_need(browser: Browser, clocked):
    """On the dashboard's staffing what-if: 100 calls an hour of 3 minutes, 80 % within 20 s need 8 agents, each row
    of the table as Erlang C gives it; with a patience the table shows who gives up; a bad figure is named; email
    takes today's backlog; in Indonesian too."""
    server, clock = clocked
    await server.add_agent("sari", role=Role.SUPERVISOR)
    page = await open_desk(browser, server, "sari", available=False, bypass_csp=True)
    await email_arrives(server, clock, "Ana <ana@pelanggan.test>", "Paket belum sampai")
    await expect(page.locator("#waiting-email")).to_have_text("1")
    what_if = page.get_by_role("region", name="What if: the agents that figures you enter need")
    await what_if.get_by_label("Channel").select_option("call")
    within = f"{server.engine.config.call.service_level_s:g}"  # today's figures: the call channel's threshold
    await expect(what_if.get_by_label("Answered within (s)")).to_have_value(within)
    for label, value in (("Arrivals an hour", "100"), ("Handle time (s)", "180"), ("Target (%)", "80"),
                         ("Answered within (s)", "20"), ("Shrinkage: paid time away (%)", "25")):  # fmt: skip
        await what_if.get_by_label(label, exact=True).fill(value)
    await what_if.get_by_role("button", name="Work out").click()
    await expect(page.locator("#staffing-needed")).to_have_text("8 agents needed for 80% answered within 20 s")
    await expect(page.locator("#staffing-scheduled")).to_have_text("Schedule 11 agents with 25% shrinkage")
    rows = page.locator("#staffing-table tbody tr")
    await expect(rows).to_have_count(5)
    for row, agents in zip(range(5), range(6, 11), strict=True):
        level = round(erlang_c_level(agents, 5.0, 20, 180) * 100, 1)
        await expect(rows.nth(row).locator("td").first).to_have_text(f"{level:g}%")
    await expect(page.locator("#staffing-table tr[aria-current=true] th")).to_have_text("8")

    await what_if.get_by_label("Mean patience (s)").fill("60")
    await what_if.get_by_role("button", name="Work out").click()
    await expect(page.locator("#staffing-table thead")).to_contain_text("Give up")
    await what_if.get_by_label("Arrivals an hour").fill("-5")
    await what_if.get_by_role("button", name="Work out").click()
    error = what_if.get_by_role("alert")
    await expect(error).to_have_text("Arrivals an hour: must be from 0 to 10,000.")
    await what_if.get_by_label("Arrivals an hour").fill("100")
    await what_if.get_by_role("button", name="Work out").click()
    await expect(error).to_have_count(0)
    await expect(page.locator("#staffing-needed")).to_contain_text("agents needed")

    await what_if.get_by_label("Channel").select_option("email")
    await expect(what_if.get_by_label("Emails waiting")).to_have_value("1")  # today's backlog
    await what_if.get_by_label("Arrivals an hour").fill("30")
    await what_if.get_by_label("Handle time (s)").fill("360")
    await what_if.get_by_label("Emails waiting").fill("40")
    await what_if.get_by_role("button", name="Work out").click()
    await expect(page.locator("#staffing-needed")).to_have_text(
        f"{math.ceil(5 / 0.85)} agents on email, at most 85% occupied"
    )
    await page.select_option("#language", "id")
    await page.get_by_role("button", name="Hitung").click()  # the region is named in Indonesian now
    await expect(page.locator("#staffing-needed")).to_have_text(
        f"{math.ceil(5 / 0.85)} agen di email, okupansi paling tinggi 85%"
    )
    await page.add_script_tag(path=str(AXE))
    assert await serious(page) == []
