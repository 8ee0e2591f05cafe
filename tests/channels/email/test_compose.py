"""The mails the engine writes, read back as a mail program would; and the IMAP answers the poller reads."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import datetime
from zoneinfo import ZoneInfo

from channels.email import MailComposer
from channels.email.compose import ticket_in_subject
from channels.email.inbound import fetched_messages, read_mail
from channels.email.outbox import backoff_s
from channels.email.parse import parse
from contact_center.config import parse_config
from contact_center.mail import Arrival, Direction, MailRecord, MailSource
from contact_center.model import Channel, Contact, ContactState

BOX = {"name": "support", "host": "127.0.0.1", "username": "u", "password": "p", "address": "halo@toko.test"}
CONFIG = parse_config({"email": {"mailboxes": [BOX]}})
NOW = datetime(2026, 11, 30, 10, 15, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()
COMPOSER = MailComposer(CONFIG.email, CONFIG.sla.calendar)


def arrival(raw: bytes) -> Arrival:
    read = read_mail(raw, MailSource("support", 9, 1), CONFIG.email.mailboxes[0], CONFIG.email, NOW)
    assert isinstance(read, Arrival)
    return read


def contact() -> Contact:
    return Contact("c1", Channel.EMAIL, "ana", ContactState.ASSIGNED, NOW, NOW, [("general", 1)], ticket="CS-42")


CUSTOMER = (
    b"From: =?utf-8?q?Ana_Lestari_Wibowo?= <ana@pelanggan.test>\r\nTo: halo@toko.test\r\n"
    b"Subject: =?utf-8?q?Pengembalian_dana_=E2=80=94_pesanan_1234?=\r\nMessage-ID: <q1@pelanggan.test>\r\n"
    b"References: <q0@pelanggan.test>\r\nReply-To: ana.kantor@pelanggan.test\r\n\r\nHalo, dana saya belum kembali.\r\n"
)


def test_the_acknowledgement_reads_back_threaded_automatic_and_in_the_customers_language():
    """To the From address only (never Reply-To), the thread's ids carried, Auto-Submitted set; UTF-8 survives."""
    mail, outbound = COMPOSER.acknowledgement(arrival(CUSTOMER), contact(), NOW + 3600, NOW)
    message = email.message_from_bytes(outbound.raw, policy=email.policy.default)
    assert message["To"] == "ana@pelanggan.test" == outbound.recipients[0]
    assert message["From"].addresses[0].addr_spec == "halo@toko.test" == outbound.sender
    assert message["Subject"] == "[CS-42] Email Anda sudah kami terima: Pengembalian dana — pesanan 1234"
    assert message["In-Reply-To"] == "<q1@pelanggan.test>"
    assert message["References"].split() == ["<q0@pelanggan.test>", "<q1@pelanggan.test>"]
    assert (message["Auto-Submitted"], message["X-Loop"]) == ("auto-replied", "halo@toko.test")
    assert "Halo Ana Lestari Wibowo," in message.get_content()
    assert "Senin, 30 November 2026 pukul 11.15 WIB" in message.get_content()
    assert mail.direction == Direction.OUT and mail.message_id == message["Message-ID"]
    assert mail.message_id.endswith("@toko.test>") and mail.thread_ids == (mail.message_id,)
    assert all(len(line) <= 998 for line in outbound.raw.split(b"\r\n")) and b"\n" not in outbound.raw.replace(
        b"\r\n", b""
    )


def test_an_agents_reply_answers_the_latest_customer_mail_and_reads_back_through_our_own_parser():
    """Re: with the ticket, In-Reply-To the last mail, a long line and accents intact after our own parse."""
    first = MailRecord("m1", Direction.IN, NOW, "<q1@pelanggan.test>", "d", CUSTOMER, arrival(CUSTOMER).record.summary)
    text = "Baik Bu Ana, dana Anda sudah kami proses hari ini — " + "mohon ditunggu " * 20
    mail, outbound = COMPOSER.reply(
        contact(), [first], text, "Ayu Lestari", "reply:c1:r1", NOW, to="ana.kantor@pelanggan.test", cc=["b@x.id"]
    )
    back = parse(outbound.raw)
    assert back.subject == "Re: [CS-42] Pengembalian dana — pesanan 1234"
    assert back.in_reply_to == ("<q1@pelanggan.test>",) and back.references[-1] == "<q1@pelanggan.test>"
    assert back.text.startswith(text.rstrip()) and back.text.rstrip().endswith("Ayu Lestari")
    assert outbound.recipients == ("ana.kantor@pelanggan.test", "b@x.id") and outbound.key == "reply:c1:r1"
    assert back.to == ("ana.kantor@pelanggan.test",) and back.cc == ("b@x.id",) and mail.summary["cc"] == ["b@x.id"]
    assert b"Auto-Submitted" not in outbound.raw and mail.summary["key"] == "reply:c1:r1"
    assert ticket_in_subject(back.subject, "CS") == "CS-42"


def test_ticket_references_are_found_only_in_their_own_shape():
    """[CS-42] is a reference; CS-42 without brackets, another prefix or no number is not."""
    assert ticket_in_subject("Re: [CS-42] paket", "CS") == "CS-42"
    assert ticket_in_subject("Re: CS-42 paket", "CS") == ""
    assert ticket_in_subject("[XY-42] paket", "CS") == ""
    assert ticket_in_subject("[CS-] paket", "CS") == ""


def test_fetch_answers_are_read_whatever_the_order_of_uid_and_literal():
    """UID before the literal (Dovecot) or after it (other servers); flags-only lines are skipped."""
    lines = [
        b"1 FETCH (UID 7 BODY[] {5}",
        bytearray(b"hello"),
        b")",
        b"2 FETCH (BODY[] {3}",
        bytearray(b"abc"),
        b" UID 9)",
        b"3 FETCH (UID 10 FLAGS (\\Seen))",
        b"Fetch completed (0.001 + 0.000 secs).",
    ]
    assert list(fetched_messages(lines)) == [(7, b"hello"), (9, b"abc")]


def test_retries_back_off_from_the_first_wait_up_to_half_an_hour():
    """30 s, 60 s, 120 s ... never more than 30 minutes apart."""
    assert [backoff_s(n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert backoff_s(20) == 1800.0 and backoff_s(1, first_s=0.5) == 0.5


def test_the_acknowledgement_is_worded_by_the_librarys_reply_as_a_supervisor_left_it():
    """The library's ``acknowledgement`` words it (the name, ticket and deadline filled); without one, the built-in."""
    from contact_center.reply_files import STARTER, read_folder

    starter = {r.id: r for r in read_folder(STARTER, ("en", "id"))}["acknowledgement"]
    bodies = {
        "en": "Hi {{customer_name|}}, thanks: by {{answer_by}} ({{ticket}}).",
        "id": "Halo {{customer_name|}}, kami jawab paling lambat {{answer_by}} ({{ticket}}).",
    }
    edited = dataclasses.replace(starter, bodies=bodies)
    worded = MailComposer(CONFIG.email, CONFIG.sla.calendar, lambda: edited)
    _, outbound = worded.acknowledgement(arrival(CUSTOMER), contact(), NOW + 3600, NOW)
    message = email.message_from_bytes(outbound.raw, policy=email.policy.default)
    body = message.get_content()
    assert (
        body.strip()
        == "Halo Ana Lestari Wibowo, kami jawab paling lambat Senin, 30 November 2026 pukul 11.15 WIB (CS-42)."
    )
    assert message["Subject"].startswith("[CS-42] Email Anda sudah kami terima")
    starter_worded = MailComposer(CONFIG.email, CONFIG.sla.calendar, lambda: starter)
    _, same = starter_worded.acknowledgement(arrival(CUSTOMER), contact(), NOW + 3600, NOW)
    _, built_in = COMPOSER.acknowledgement(arrival(CUSTOMER), contact(), NOW + 3600, NOW)
    text = lambda o: email.message_from_bytes(o.raw, policy=email.policy.default).get_content()  # noqa: E731
    assert text(same) == text(built_in)  # the starter's wording is the built-in one
