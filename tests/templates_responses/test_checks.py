"""The writing rules of a draft: each one found where it is, with its fix; what is right is left alone."""

from __future__ import annotations

import time

import pytest

from templates_responses.checks import check


def fixes(text: str, language: str, channel: str = "chat", keep: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(rule, what was written, the first fix) for each finding."""
    return [
        (f.rule, text[f.start : f.end], f.fixes[0] if f.fixes else "") for f in check(text, language, channel, keep)
    ]


@pytest.mark.parametrize(
    ("text", "language", "channel", "found"),
    [
        ("Thank you for for waiting.", "en", "chat", ("repeated_word", "for for", "for")),
        ("Mohon hati hati dengan penipuan.", "id", "chat", ("repeated_word", "hati hati", "hati")),
        ("Done. your card is blocked.", "en", "chat", ("sentence_capital", "y", "Y")),
        ("Yes, i have checked it.", "en", "chat", ("lowercase_i", "i", "I")),
        ("Thank you , we checked it.", "en", "chat", ("space_before_punctuation", " ,", ",")),
        ("Thank you,we checked it.", "en", "chat", ("space_after_punctuation", ",", ", ")),
        ("It is done.Please check.", "en", "chat", ("space_after_punctuation", ".", ". ")),
        ("It is  done.", "en", "chat", ("double_space", "  ", " ")),
        ("We have checked the transfer and it arrives tomorrow", "en", "email", ("final_punctuation", "w", "w.")),
        ("Please DO NOT SHARE your code.", "en", "chat", ("shouting", "DO NOT SHARE", "Do not share")),
        (
            "Your card ending [[last four digits]] is blocked.",
            "en",
            "chat",
            ("unfilled_placeholder", "[[last four digits]]", ""),
        ),
        ("Your welcome!", "en", "chat", ("your_youre", "Your welcome", "You're welcome")),
        ("It is faster then a transfer.", "en", "chat", ("then_than", "faster then", "faster than")),
        ("You could of asked us.", "en", "chat", ("could_of", "could of", "could have")),
        ("Kartu sudah di kirim kemarin.", "id", "chat", ("di_apart", "di kirim", "dikirim")),
        ("Dana akan di kembalikan besok.", "id", "chat", ("di_apart", "di kembalikan", "dikembalikan")),
        ("Dimana Anda melihatnya?", "id", "chat", ("di_together", "Dimana", "Di mana")),
        ("Silahkan coba lagi.", "id", "chat", ("non_standard", "Silahkan", "Silakan")),
        ("Terimakasih sudah menunggu.", "id", "chat", ("non_standard", "Terimakasih", "Terima kasih")),
        ("Kami akan merubah alamat Anda.", "id", "chat", ("non_standard", "merubah", "mengubah")),
        ("Kartu Anda udah kami kirim.", "id", "email", ("slang_in_email", "udah", "sudah")),
    ],
)
def test_each_rule_finds_its_mistake_with_the_fix(text: str, language: str, channel: str, found: tuple[str, str, str]):
    assert found in fixes(text, language, channel)


@pytest.mark.parametrize(
    ("text", "language", "channel"),
    [
        ("Thank you for waiting. I have checked it, and your card is on its way.", "en", "chat"),
        ("Kartu Anda sudah dikirim ke rumah. Silakan tunggu di sini, terima kasih.", "id", "chat"),
        ("Kartu Anda udah kami kirim ya", "id", "chat"),  # slang is for chat, not for an email
        ("Your PIN and your ATM card: see https://bank.example/help.Page or mail cs@bank.example", "en", "chat"),
        ("Buka aplikasi BANKKU lalu pilih KARTU KREDIT SAYA.", "id", "chat"),
        ("Kami proses di kantor cabang.", "id", "chat"),
        ("Yes, i.e. the card, e.g. the one from March.", "en", "chat"),
    ],
)
def test_what_is_right_is_left_alone(text: str, language: str, channel: str):
    keep = ("BANKKU", "KARTU", "KREDIT", "SAYA")  # the product's menu, in the team's dictionary
    assert [f for f in fixes(text, language, channel, keep) if f[0] != "final_punctuation"] == []


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "مرحبا بك", "a " * 50_000, "x" * 100_000, "[[" * 1000])
def test_odd_drafts_are_checked_in_bounded_time(text: str):
    start = time.process_time()  # CPU, not the wall clock: a busy machine must not fail it
    check(text, "en", "email")
    check(text, "id", "email")
    assert time.process_time() - start < 1.0
