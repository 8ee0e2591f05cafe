"""An agent works an email in headless Chromium: the mail's HTML shown in a sandboxed frame, its own
inline image there and nothing remote, attachments on request, and a reply that reaches the customer."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from contact_center.web import EMAIL
from tests.browser.test_chat_in_browser import open_desk
from tests.channels.email.test_email_channel import email_config
from tests.conftest import start_server
from tests.mailserver import Mailbox, SmtpSink, deliver

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# A 1x1 PNG, red.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc0000003010100"
    "c9fe92ef0000000049454e44ae426082"
)

HOSTILE_HTML = """<html><head><script>parent.pwned = 1</script><style>body{display:none}</style></head>
<body onload="parent.pwned = 2"><p>Halo, <b>paket saya</b> rusak. Lihat fotonya:</p>
<img src="cid:foto@pelanggan.test" alt="foto" id="inline">
<img src="http://127.0.0.1:9/track.gif" alt="pelacak" id="remote">
<a href="javascript:parent.pwned=3">klik</a>
<form action="http://127.0.0.1:9/"><input name="x"></form></body></html>"""


def hostile_mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Ana Lestari <ana@pelanggan.test>"
    msg["To"] = "support@shop.test"
    msg["Subject"] = "Paket rusak"
    msg["Message-ID"] = "<rusak@pelanggan.test>"
    msg.set_content("Halo, paket saya rusak.")
    msg.add_alternative(HOSTILE_HTML, subtype="html")
    msg.get_payload()[1].add_related(PIXEL, "image", "png", cid="<foto@pelanggan.test>", filename="foto.png")
    msg.add_attachment(b"%PDF-1.4 nota", maintype="application", subtype="pdf", filename="nota.pdf")
    return msg


async def test_an_agent_reads_a_hostile_html_mail_safely_and_answers_it(
    browser: Browser, tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """Nothing from the mail runs or loads from outside; the inline photo shows; the reply is threaded."""
    server = await start_server(email_config(tmp_path, [mailbox], smtp_sink))
    try:
        await server.add_agent("ayu")
        desk = await open_desk(browser, server, "ayu")
        await deliver(mailbox, hostile_mail())
        server.app[EMAIL].wake()
        offer = desk.locator("#offers li")
        await expect(offer).to_have_count(1, timeout=15_000)
        await expect(offer).to_contain_text("Email")
        await offer.locator("button.accept").click()

        card = desk.locator("article.mail.in")
        await expect(card.locator(".mail-subject")).to_have_text("Paket rusak")
        frame_el = card.locator("iframe.mail-html")
        assert await frame_el.get_attribute("sandbox") == ""
        frame = desk.frame_locator("article.mail.in iframe.mail-html")
        await expect(frame.locator("b")).to_have_text("paket saya")
        await expect(frame.locator("img[alt=foto]")).to_have_attribute("src", "data:image/png;base64," + _b64(PIXEL))
        width = await frame.locator("img[alt=foto]").evaluate("img => img.complete && img.naturalWidth")
        assert width == 1
        assert await frame.locator("img[alt=pelacak]").get_attribute("src") is None
        assert await frame.locator("script, form, input, style").count() == 0
        assert await frame.locator("a").get_attribute("href") is None
        assert await desk.evaluate("window.pwned") is None
        await expect(card.locator(".attachment button")).to_have_text("nota.pdf (1 KB)")
        async with desk.expect_download() as download:
            await card.locator(".attachment button").click()
        assert (await download.value).suggested_filename == "nota.pdf"

        await desk.fill("#reply-text", "Mohon maaf Bu Ana.\nKami kirim pengganti hari ini.")
        await desk.click("#reply-send")
        await expect(desk.locator("article.mail.out:not(.automatic)")).to_have_count(1)
        await expect(desk.locator(".msg.pending")).to_have_count(0)
        ack, answer = await smtp_sink.wait_for(2)
        assert answer["In-Reply-To"] == "<rusak@pelanggan.test>"
        assert "Kami kirim pengganti hari ini." in answer.get_content()
        await expect(desk.locator(".ticket")).to_contain_text("answered")
    finally:
        await server.runner.cleanup()


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


async def test_a_forged_mail_shows_its_warning_and_a_reply_to_is_only_offered(
    browser: Browser, tmp_path: Path, mailbox: Mailbox, smtp_sink: SmtpSink
):
    """A guessed ticket from an unauthenticated sender: a red warning on the card; its Reply-To is a choice."""
    server = await start_server(email_config(tmp_path, [mailbox], smtp_sink, trusted_authserv_id="mx.shop.test"))
    try:
        await server.add_agent("ayu")
        desk = await open_desk(browser, server, "ayu")
        first = EmailMessage()
        first["From"], first["To"], first["Subject"] = "Ana <ana@pelanggan.test>", "support@shop.test", "Refund"
        first.set_content("Dana saya belum kembali.")
        await deliver(mailbox, first)
        server.app[EMAIL].wake()
        await desk.locator("#offers li button.accept").click(timeout=15_000)
        await expect(desk.locator(".ticket")).to_contain_text("CS-1")
        forged = EmailMessage()
        forged["From"], forged["To"] = "Ana <ana@pelanggan.test>", "support@shop.test"
        forged["Subject"], forged["Reply-To"] = "Re: [CS-1] Refund", "ana.refunds@evil.test"
        forged.set_content("Kirim dananya ke rekening baru saya.")
        await deliver(mailbox, forged)
        server.app[EMAIL].wake()
        offer = desk.locator("#offers li")
        await offer.locator("button.accept").click(timeout=15_000)
        warning = desk.get_by_role("alert").filter(has_text="Unverified sender")
        await expect(warning).to_contain_text("names CS-1 but was not let into it")
        await expect(desk.locator("#recipient")).to_contain_text("To: ana@pelanggan.test")
        choice = desk.get_by_label("Send to ana.refunds@evil.test instead (asked for in Reply-To)")
        assert not await choice.is_checked()
        await desk.fill("#reply-text", "Kami tidak mengubah rekening lewat email.")
        await desk.click("#reply-send")
        await smtp_sink.wait_for(3)
        assert smtp_sink.received[2][1] == ["ana@pelanggan.test"]
    finally:
        await server.runner.cleanup()
