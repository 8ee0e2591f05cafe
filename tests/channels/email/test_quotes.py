"""Quoted history and signatures folded away, in English and Indonesian, as mail programs write them."""

from __future__ import annotations

import pytest

from channels.email.quotes import fold

CASES = [
    (
        "gmail, English",
        "Thanks, it arrived today.\n\nOn Mon, 23 Nov 2026 at 09:00, Ayu <ayu@shop.example> wrote:\n"
        "> Your parcel left.\n",
        "Thanks, it arrived today.\n",
    ),
    (
        "gmail, Indonesian",
        "Terima kasih, sudah sampai.\n\nPada Sen, 23 Nov 2026 pukul 09.00 Ayu <ayu@shop.example> menulis:\n> Paket "
        "Anda sudah dikirim.\n",
        "Terima kasih, sudah sampai.\n",
    ),
    (
        "attribution over two lines",
        "Baik.\n\nPada tanggal Sen, 23 Nov 2026 pukul 09.00, Ayu Lestari <ayu@shop.example>\nmenulis:\n> halo\n",
        "Baik.\n",
    ),
    (
        "outlook, English",
        "Please cancel it.\n\nFrom: Support <help@shop.example>\nSent: Monday, 23 November 2026 09:00\nTo: Budi\n"
        "Subject: Your order\n\nYour order is on its way.\n",
        "Please cancel it.\n",
    ),
    (
        "outlook, Indonesian",
        "Mohon dibatalkan.\n\nDari: Support <help@shop.example>\nDikirim: Senin, 23 November 2026 09.00\n"
        "Kepada: Budi\nPerihal: Pesanan Anda\n\nPesanan Anda dalam perjalanan.\n",
        "Mohon dibatalkan.\n",
    ),
    ("original message rule", "See below.\n-----Original Message-----\nold text\n", "See below.\n"),
    ("pesan asli", "Lihat di bawah.\n-----Pesan Asli-----\nteks lama\n", "Lihat di bawah.\n"),
    ("signature delimiter", "Where is my refund?\n\n-- \nBudi Santoso\n0812-555-0101\n", "Where is my refund?\n"),
    ("iPhone", "Ok noted\n\nSent from my iPhone\n", "Ok noted\n"),
    ("dikirim dari", "Oke siap\n\nDikirim dari iPhone saya\n", "Oke siap\n"),
    ("quoted tail without attribution", "Yes please.\n\n> Shall we send a new one?\n> Regards\n", "Yes please.\n"),
]


@pytest.mark.parametrize(("name", "text", "visible"), CASES, ids=[c[0] for c in CASES])
def test_the_new_text_stays_and_the_rest_is_folded(name: str, text: str, visible: str):
    """What the customer wrote now is visible; the rest is folded, and nothing is lost."""
    shown, folded = fold(text)
    assert shown == visible
    assert folded.strip() and text.endswith(folded)  # the folded part is the text's end, kept whole
    assert text[: len(text) - len(folded)].rstrip() == shown.rstrip()  # and the rest is what is shown


def test_inline_answers_between_quotes_stay_visible():
    """A customer who answers between quoted lines keeps everything visible but the last quoted run."""
    text = "> Order number?\n12345\n> Address?\nJl. Merdeka 1, Bandung\n"
    assert fold(text) == (text, "")


def test_a_text_with_nothing_to_fold_is_left_whole():
    """No quote, no signature: all visible (including a line that merely mentions 'wrote')."""
    text = "Halo, saya wrote this in a hurry: the package is broken.\nFrom: my phone\n"
    assert fold(text) == (text, "")


def test_a_bare_forward_is_not_folded_to_nothing():
    """A mail that is only a forwarded message stays visible: there would be nothing left to read."""
    text = "---------- Forwarded message ---------\nFrom: Shop <help@shop.example>\nDate: today\n\nYour invoice\n"
    assert fold(text) == (text, "")
