"""Which of the engine's languages a text is written in: Indonesian or English.

Customers write short, informal mail, often mixing both languages. Counting each language's
most common function words (which a message cannot avoid) decides well for a few sentences
and costs nothing; a tie, or a text with none of them, goes to the default.
"""

from __future__ import annotations

import re

__all__ = ["LANGUAGES", "guess_language"]

LANGUAGES = ("en", "id")

_WORD = re.compile(r"[a-z]+")
_MARKERS = {
    "id": frozenset(
        "yang dan di ke dari ini itu saya kami kita anda tidak belum sudah ada untuk dengan pada "
        "apa apakah bisa mohon tolong terima kasih selamat pagi siang sore malam bapak ibu pesanan "
        "barang sampai kapan karena juga atau akan sedang masih saja hari bulan tahun".split()
    ),
    "en": frozenset(
        "the and of to in is are was were i we you my our your not no have has had for with on at "
        "this that what when where why how can could would please thank thanks hello hi dear order "
        "still yet be been will from it".split()
    ),
}


def guess_language(text: str, default: str = "en") -> str:
    """``"id"`` or ``"en"``: the language whose common words ``text`` uses more of; ``default`` on a tie."""
    counts = dict.fromkeys(_MARKERS, 0)
    for word in _WORD.findall(text.lower()[:4000]):
        for language, markers in _MARKERS.items():
            if word in markers:
                counts[language] += 1
    if counts["id"] == counts["en"]:
        return default
    return "id" if counts["id"] > counts["en"] else "en"
