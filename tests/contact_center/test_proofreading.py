"""Drafts checked by the two checkers: hunspell's dictionaries offline, and a LanguageTool server when named.

The LanguageTool server is :mod:`tests.languagetool`: it speaks LanguageTool's HTTP API from
responses written in its documented shape (no real server can be had here).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contact_center.config.work import DeskConfig
from contact_center.exceptions import ConfigError
from contact_center.proofreading import Proofreader
from tests.languagetool import LanguageToolServer


@pytest.fixture
async def offline() -> AsyncIterator[Proofreader]:
    proofreader = Proofreader(DeskConfig(product_names=("BankKu",)), ("en", "id"))
    proofreader.load()
    yield proofreader
    proofreader.close()


@pytest.fixture
async def languagetool() -> AsyncIterator[LanguageToolServer]:
    server = LanguageToolServer()
    await server.start()
    yield server
    await server.stop()


def shown(text: str, findings: list) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.rule, text[f.start : f.end], f.fixes) for f in findings]


async def test_english_misspellings_are_found_with_the_right_word_first(offline: Proofreader) -> None:
    text = "Dear Budi, we have recieved your request; the transfered amount comes back tommorow."
    found = shown(text, await offline.check(text, "en", "email"))
    assert [(rule, word, fixes[0]) for rule, word, fixes in found] == [
        ("spelling", "recieved", "received"),
        ("spelling", "transfered", "transferred"),
        ("spelling", "tommorow", "tomorrow"),
    ]


async def test_indonesian_misspellings_are_found_and_its_affixed_forms_are_not(offline: Proofreader) -> None:
    right = (
        "Selamat pagi Bapak Andi, kartunya sudah diblokir dan rekeningnya aman. Mohon maaf atas "
        "ketidaknyamanan ini; dananya diproses hari ini dan kami akan menghubungi Bapak lagi."
    )
    assert await offline.check(right, "id", "email") == []
    text = "Pembayran Bapak sudah kami terima dan rekning sudah aktif."
    found = shown(text, await offline.check(text, "id", "email"))
    assert [(rule, word) for rule, word, _ in found] == [("spelling", "Pembayran"), ("spelling", "rekning")]
    assert "Pembayaran" in found[0][2] and found[1][2][0] == "rekening"


async def test_product_names_the_teams_words_and_mixed_languages_are_not_flagged(offline: Proofreader) -> None:
    text = "Halo kak, BankKu sudah kirim e-Statement via email, silakan top up tapcash online ya."
    assert await offline.check(text, "id", "chat", ["TapCash"]) == []
    assert [(rule, word) for rule, word, _ in shown(text, await offline.check(text, "id", "chat"))] == [
        ("spelling", "tapcash")
    ]


@pytest.mark.parametrize(
    "text",
    ["", "   \n", "😀🎉🙏" * 50, "مرحبا، كيف يمكنني مساعدتك اليوم؟", "zzqx " * 25_000, "a" * 100_000],
    ids=["empty", "blank", "emoji", "arabic", "100KB-nonsense", "100KB-one-word"],
)
async def test_odd_drafts_get_a_result_in_bounded_time(offline: Proofreader, text: str) -> None:
    findings = await offline.check(text, "en", "chat")
    assert offline.cpu_s < 2.0  # the check's own CPU: neither a busy machine nor the process's other threads count
    assert all(0 <= f.start < f.end <= len(text) for f in findings)
    if not text.strip() or text.startswith(("😀", "م")):
        assert [f.rule for f in findings if f.rule == "spelling"] == []


def test_a_missing_dictionary_is_a_clear_error_naming_the_package(tmp_path: Path) -> None:
    proofreader = Proofreader(DeskConfig(spelling_dir=tmp_path), ("en", "id"))
    with pytest.raises(ConfigError, match=r"en_US\.dic or \.aff is missing .*apt-get install hunspell-en-us"):
        proofreader.load()


async def test_languagetool_adds_its_grammar_where_the_offline_checker_found_nothing(
    languagetool: LanguageToolServer,
) -> None:
    proofreader = Proofreader(DeskConfig(languagetool_url=languagetool.url, product_names=("BankKu",)), ("en", "id"))
    proofreader.load()
    try:
        text = "He go to the branch every Monday to pay in cash."
        found = await proofreader.check(text, "en", "chat")
        assert [(f.rule, text[f.start : f.end], f.fixes) for f in found] == [
            ("languagetool:HE_VERB_AGR", "go", ("goes", "went"))
        ]
        assert "third-person" in found[0].message
        text = "😀 Thank you, Siti! We has sent the new card to BankKu branch."  # an emoji: two UTF-16 units
        found = await proofreader.check(text, "en", "chat", ["Siti"])
        assert [(f.rule, text[f.start : f.end]) for f in found] == [("languagetool:NON3PRS_VERB", "has")]
        await proofreader.check("Kartu Anda sudah kami kirim.", "id", "chat")  # no Indonesian: not asked
        assert [form["language"] for form in languagetool.checked] == ["en-US", "en-US"]
    finally:
        proofreader.close()


async def test_a_slow_or_broken_languagetool_costs_only_its_own_findings(languagetool: LanguageToolServer) -> None:
    config = DeskConfig(languagetool_url=languagetool.url, languagetool_timeout_s=0.5)
    proofreader = Proofreader(config, ("en", "id"))
    proofreader.load()
    try:
        text = "He go to the bank, i think."
        languagetool.delay_s = 3.0
        started = time.monotonic()
        slow = await proofreader.check(text, "en", "chat")
        assert time.monotonic() - started < 2.5
        assert [f.rule for f in slow] == ["lowercase_i"]
        busy = await proofreader.check(text, "en", "chat")  # the first is still at the server: not asked again
        assert [f.rule for f in busy] == ["lowercase_i"] and len(languagetool.checked) == 1
        languagetool.delay_s, languagetool.broken = 0.0, True
        await asyncio.sleep(3.0)  # the slow one comes back
        broken = await proofreader.check(text, "en", "chat")
        assert [f.rule for f in broken] == ["lowercase_i"] and len(languagetool.checked) >= 2
    finally:
        proofreader.close()
