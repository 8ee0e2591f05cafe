"""The acknowledgement's wording and the language guess: pure, no loop."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from templates_responses import acknowledgement, guess_language

JAKARTA = ZoneInfo("Asia/Jakarta")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=JAKARTA)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Halo, paket saya belum sampai. Mohon dicek ya, terima kasih.", "id"),
        ("Hello, my order has not arrived yet. Could you please check? Thanks", "en"),
        ("Selamat pagi Bapak/Ibu, apakah pesanan #1234 sudah dikirim?", "id"),
        ("Dear team, I was charged twice for order 1234.", "en"),
        ("#1234 ???", "id"),  # nothing to go on: the default asked for
        ("", "id"),
    ],
)
def test_the_language_of_a_customer_is_guessed_from_common_words(text: str, language: str):
    """Indonesian and English mail is told apart; without a clue the caller's default stands."""
    assert guess_language(text, default="id") == language


def test_the_english_acknowledgement_names_the_ticket_and_the_local_deadline():
    """Ticket in the subject and body, deadline as a local date and hour with the zone, said to be automatic."""
    ack = acknowledgement("en", "CS-1042", MONDAY_9, "Parcel not arrived", name="Ana")
    assert ack.subject == "[CS-1042] We have received your email: Parcel not arrived"
    assert ack.text.startswith("Hello Ana,\n\n")
    assert "by Monday 30 November 2026 at 09:00 WIB." in ack.text
    assert "Your ticket number is CS-1042." in ack.text
    assert "sent automatically" in ack.text


def test_the_indonesian_acknowledgement_reads_naturally():
    """Indonesian day and month names, 09.00 with a dot, no name: a plain greeting."""
    ack = acknowledgement("id", "CS-7", MONDAY_9, "")
    assert ack.subject == "[CS-7] Email Anda sudah kami terima"
    assert ack.text.startswith("Halo,\n\n")
    assert "paling lambat Senin, 30 November 2026 pukul 09.00 WIB." in ack.text
    assert "Nomor tiket Anda: CS-7." in ack.text


def test_an_unknown_language_is_refused_by_name():
    """A language without wording fails loudly, naming it."""
    with pytest.raises(ValueError, match="'fr'"):
        acknowledgement("fr", "CS-1", MONDAY_9, "x")


def test_the_package_stays_pure():
    """No module of templates_responses imports an event loop, a network client or the engine."""
    forbidden = {"asyncio", "aiohttp", "redis", "websockets", "aiosmtplib", "aioimaplib", "contact_center", "channels"}
    for path in Path("templates_responses").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not {n.split(".")[0] for n in names} & forbidden, f"{path} imports {names}"


def test_office_hours_are_written_as_people_write_them_in_each_language():
    from templates_responses.acknowledgement import office_hours

    nine_to_five, morning = ((8 * 3600, 17 * 3600),), ((8 * 3600, 12 * 3600),)
    week = (nine_to_five,) * 4 + (((8 * 3600, 11 * 3600 + 1800), (13 * 3600, 17 * 3600)),) + (morning, ())
    assert (
        office_hours(week, "en")
        == "Monday to Thursday 08:00-17:00; Friday 08:00-11:30, 13:00-17:00; Saturday 08:00-12:00"
    )
    assert (
        office_hours(week, "id") == "Senin sampai Kamis 08.00-17.00; Jumat 08.00-11.30, 13.00-17.00; Sabtu 08.00-12.00"
    )
    assert office_hours(((),) * 7, "en") == ""
