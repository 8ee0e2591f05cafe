"""Suggestions from the starter library with the real sentence encoder: by meaning in both languages, by code."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from contact_center.embeddings import SentenceEncoder
from templates_responses.library_format import read_library
from templates_responses.replies import Reply
from templates_responses.suggest import Suggester

STARTER = Path(__file__).parents[2] / "templates_responses" / "starter"


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    files = [(p.name, p.read_text()) for p in sorted(STARTER.glob("*.toml"))]
    return Suggester(read_library(files, ("en", "id")), SentenceEncoder())


def anyone(reply: Reply) -> bool:
    return True


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        ("Somebody took my wallet with my debit card in it", "card-blocked"),
        ("dompet saya dicuri, kartu debit ada di dalamnya", "card-blocked"),
        ("I can't remember the code for my card", "pin-forgotten"),
        ("sudah dua minggu kartu baru belum datang juga", "card-arrival"),
        ("jam berapa CS buka besok?", "office-hours"),
        ("I sent money to my sister yesterday and she still has not got it", "transfer-not-received"),
    ],
)
def test_the_reply_that_answers_a_message_comes_first_in_either_language(
    suggester: Suggester, message: str, reply: str
):
    found = suggester.suggest(message, anyone)
    assert len(found) == 3 and found[0].reply.id == reply, [s.reply.id for s in found]


def test_only_replies_the_agent_may_use_are_suggested(suggester: Suggester):
    found = suggester.suggest("I lost my card", lambda r: r.id != "card-blocked")
    assert "card-blocked" not in [s.reply.id for s in found] and len(found) == 3


def test_a_reply_picked_for_a_message_is_found_for_it_next_time(suggester: Suggester):
    message = "mohon dibantu, ada potongan 1 % waktu belanja di Singapura"
    suggester.learn("exchange-rate", message)
    assert suggester.suggest(message, anyone)[0].reply.id == "exchange-rate"


def test_a_short_code_or_a_title_finds_a_reply(suggester: Suggester):
    assert suggester.find("card-blocked", anyone)[0].id == "card-blocked"
    assert "card-blocked" in [r.id for r in suggester.find("block", anyone)]
    assert "office-hours" in [r.id for r in suggester.find("hours", anyone)]
    assert suggester.find("zzzzqqq", anyone) == []


@pytest.mark.parametrize(
    "message", ["", "   ", "🙂🙂🙂", "مرحبا، بطاقتي لا تعمل", "x" * 100_000, "kartu my card hilang lost"]
)
def test_odd_messages_give_a_result_in_bounded_time(suggester: Suggester, message: str):
    start = time.perf_counter()
    found = suggester.suggest(message, anyone)
    assert time.perf_counter() - start < 2.0
    assert (found == []) == (not message.strip())
