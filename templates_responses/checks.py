"""The writing rules agents break most, checked in a draft before it goes out (English and Indonesian).

Each rule finds a span of the draft and, where it can, the fix (:class:`Finding`): a repeated
word, a sentence that starts in lower case, "i" for "I", a space before a comma or none after a
full stop, two spaces, a long message with no final punctuation, shouting in capitals, a
placeholder left unfilled, the English confusions a spell checker cannot see (your/you're,
then/than, could of), and what formal Indonesian checks first: the prefix *di-* written apart
("di kirim") or the preposition *di* written together ("dimana"), non-standard spellings
(*silahkan*, *terimakasih*, *merubah*), and chat slang in an email (*nggak*, *gimana*, *udah*).

Words the team keeps (product names, its dictionary) are never flagged. Spelling is checked
against the dictionaries given (:mod:`templates_responses.spelling`, a port), where no other rule
has found something in the same place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass

from templates_responses.spelling import Dictionary, misspellings

__all__ = ["Finding", "check"]

_MAX_CHARS = 20_000  # of a draft checked: longer ones are checked that far (in bounded time)


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem at ``text[start:end]``: the rule's id (the desk words it), and the fixes, best first.

    ``message`` is the checker's own wording, where it has one (LanguageTool's); else the desk's for ``rule``.
    """

    start: int
    end: int
    rule: str
    fixes: tuple[str, ...] = ()
    message: str = ""


_ACRONYMS = frozenset(
    "PIN ATM KTP NIK CS VIP SMS OTP NPWP BI OJK IBAN SWIFT USD IDR EUR SGD PDF ID OK QR QRIS KYC FAQ".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_URLISH = re.compile(r"\S*(?:://|www\.|@)\S*")

# Indonesian: the preposition di written together with the place it names, and the standard forms (KBBI).
_DI_TOGETHER = {
    w: f"di {w[2:]}"
    for w in "dimana disini disana disitu diatas dibawah didalam diluar dirumah dikantor didepan dibelakang disamping "
    "diantara disekitar ditengah".split()
}
_STANDARD = {
    "silahkan": "silakan", "terimakasih": "terima kasih", "merubah": "mengubah", "dirubah": "diubah",
    "ijin": "izin", "resiko": "risiko", "praktek": "praktik", "nasehat": "nasihat", "kwitansi": "kuitansi",
    "jadual": "jadwal", "analisa": "analisis", "antri": "antre", "sekedar": "sekadar", "trima": "terima",
}  # fmt: skip
_SLANG = {
    "nggak": "tidak", "ngga": "tidak", "gak": "tidak", "ga": "tidak", "enggak": "tidak", "gimana": "bagaimana",
    "udah": "sudah", "udh": "sudah", "sdh": "sudah", "aja": "saja", "banget": "sekali", "bgt": "sekali",
    "makasih": "terima kasih", "kalo": "kalau", "gitu": "begitu", "tdk": "tidak", "yg": "yang", "dgn": "dengan",
    "sy": "saya", "krn": "karena", "bisa2": "bisa-bisa", "emang": "memang", "kok": "mengapa",
}  # fmt: skip
# Verb roots agents write after the prefix di- (so "di kirim" is "dikirim"); and -kan forms are verbs too.
_VERB_ROOTS = frozenset(
    "kirim proses blokir cek periksa terima tunggu bantu transfer bayar buka tutup ganti ubah hubungi tindaklanjuti "
    "lacak batalkan verifikasi konfirmasi setujui tolak catat minta isi tagih potong kembalikan teruskan".split()
)
_NOT_VERBS = frozenset("sini situ sana mana atas bawah dalam luar antara samping depan belakang sekitar tengah".split())


def _repeated(text: str, language: str) -> Iterator[Finding]:
    for m in re.finditer(r"\b([^\W\d_]+)(\s+)(\1)\b", text, re.IGNORECASE | re.UNICODE):
        word = m.group(1)
        fixes = (word, f"{word}-{word}") if language == "id" else (word,)  # Indonesian repeats with a hyphen
        yield Finding(m.start(), m.end(), "repeated_word", fixes)


_ABBREVIATIONS = frozenset("i.e. e.g. etc. dll. dsb. dst. yth. no. a.n. mr. mrs. dr. bpk. tgl. hlm. vs.".split())


def _sentence_starts(text: str, language: str) -> Iterator[Finding]:
    for m in re.finditer(r"(?:^|[.!?]\s+)([a-z])", text):
        before = text[: m.start(1)].split()
        last = before[-1].lower() if before else ""
        if _URLISH.search(last) or last in _ABBREVIATIONS:
            continue
        yield Finding(m.start(1), m.start(1) + 1, "sentence_capital", (m.group(1).upper(),))


def _lowercase_i(text: str, language: str) -> Iterator[Finding]:
    if language != "en":
        return
    for m in re.finditer(r"(?<![\w.])i(?=['’]|\s|[,.!?]|$)(?!\.e\.)", text):
        yield Finding(m.start(), m.end(), "lowercase_i", ("I",))


def _spacing(text: str, language: str) -> Iterator[Finding]:
    for m in re.finditer(r"[ \t]+([,.!?;:])(?=\s|$)", text):
        yield Finding(m.start(), m.end(), "space_before_punctuation", (m.group(1),))
    for m in re.finditer(r"(?<=[^\W\d_])([,;]|[.!?](?=[A-Z]))(?=[^\W\d_])", text, re.UNICODE):
        word_start = text.rfind(" ", 0, m.start()) + 1
        if _URLISH.match(text, word_start):
            continue
        yield Finding(m.start(), m.end(), "space_after_punctuation", (f"{m.group(1)} ",))
    for m in re.finditer(r"(?<=\S) {2,}(?=\S)", text):
        yield Finding(m.start(), m.end(), "double_space", (" ",))


def _final_punctuation(text: str, language: str) -> Iterator[Finding]:
    body = text.rstrip()
    if len(_WORD.findall(body)) > 6 and body[-1:].isalnum() and not _URLISH.search(body.split()[-1]):
        yield Finding(len(body) - 1, len(body), "final_punctuation", (f"{body[-1]}.",))


def _shouting(text: str, keep: Collection[str]) -> Iterator[Finding]:
    loud = [m for m in _WORD.finditer(text) if len(m.group()) > 1 and m.group().isupper()
            and m.group() not in _ACRONYMS and m.group() not in keep]  # fmt: skip
    runs: list[list[re.Match[str]]] = []
    for m in loud:
        if runs and text[runs[-1][-1].end() : m.start()].strip(" ,!?.") == "":
            runs[-1].append(m)
        else:
            runs.append([m])
    for run in runs:
        if len(run) >= 3:
            start, end = run[0].start(), run[-1].end()
            yield Finding(start, end, "shouting", (text[start:end].capitalize(),))


def _placeholders(text: str) -> Iterator[Finding]:
    for m in re.finditer(r"\[\[[^\[\]]*\]\]", text):
        yield Finding(m.start(), m.end(), "unfilled_placeholder")


_CONFUSIONS: tuple[tuple[re.Pattern[str], str, Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\byour\s+(welcome|right|wrong|not|going|sure)\b", re.I), "your_youre",
     lambda m: f"{'You' if m.group()[0] == 'Y' else 'you'}'re {m.group(1)}"),
    (re.compile(r"\b(more|less|better|worse|faster|slower|later|earlier|rather|higher|lower|greater|fewer|longer|"
                r"shorter|other)\s+then\b", re.I), "then_than", lambda m: f"{m.group(1)} than"),
    (re.compile(r"\b(could|would|should|must)\s+of\b", re.I), "could_of", lambda m: f"{m.group(1)} have"),
    (re.compile(r"\bits\s+(a|an|been|not|going|ok|okay|done|fine)\b", re.I), "its_its",
     lambda m: f"{'It' if m.group()[0] == 'I' else 'it'}'s {m.group(1)}"),
    (re.compile(r"\balot\b", re.I), "alot", lambda m: "A lot" if m.group()[0] == "A" else "a lot"),
)  # fmt: skip


def _english(text: str) -> Iterator[Finding]:
    for pattern, rule, fix in _CONFUSIONS:
        for m in pattern.finditer(text):
            yield Finding(m.start(), m.end(), rule, (fix(m),))


def _indonesian(text: str, channel: str, keep: Collection[str]) -> Iterator[Finding]:
    for m in re.finditer(r"\b[Dd]i\s+([a-z]+)\b", text):
        word = m.group(1)
        if word not in _NOT_VERBS and (word in _VERB_ROOTS or word.endswith("kan")):
            yield Finding(m.start(), m.end(), "di_apart", (f"{m.group()[0]}i{word}",))
    for m in _WORD.finditer(text):
        word = m.group()
        lower = word.lower()
        if word in keep or lower in keep:
            continue
        if lower in _DI_TOGETHER:
            yield Finding(m.start(), m.end(), "di_together", (_cased(word, _DI_TOGETHER[lower]),))
        elif lower in _STANDARD:
            yield Finding(m.start(), m.end(), "non_standard", (_cased(word, _STANDARD[lower]),))
        elif channel == "email" and lower in _SLANG:
            yield Finding(m.start(), m.end(), "slang_in_email", (_cased(word, _SLANG[lower]),))


def _cased(original: str, fix: str) -> str:
    return fix[:1].upper() + fix[1:] if original[:1].isupper() else fix


def _spelling(
    text: str, language: str, dictionaries: Mapping[str, Dictionary], keep: Collection[str], found: list[Finding]
) -> Iterator[Finding]:
    taken = [(f.start, f.end) for f in found]
    for start, end, fixes in misspellings(text, language, dictionaries, keep):
        if text[start:end].lower() in _SLANG or any(a < end and start < b for a, b in taken):
            continue  # slang is the email rule's; where another rule found something, its fix is better
        yield Finding(start, end, "spelling", fixes)


def check(
    text: str, language: str, channel: str = "chat", keep: Collection[str] = (),
    dictionaries: Mapping[str, Dictionary] | None = None,
) -> list[Finding]:  # fmt: skip
    """Every finding in ``text`` (``language`` "en" or "id"; ``channel`` "chat" or "email"), in order.

    ``keep``: words never flagged (product names, the team's dictionary); ``dictionaries``: by
    language, the spelling dictionaries (none: no spelling).
    """
    text = text[:_MAX_CHARS]
    if not text.strip():
        return []
    keep = {word.lower() for word in keep} | set(keep)
    found = [
        *_repeated(text, language),
        *_sentence_starts(text, language),
        *_lowercase_i(text, language),
        *_spacing(text, language),
        *_final_punctuation(text, language),
        *_shouting(text, keep),
        *_placeholders(text),
        *(_english(text) if language == "en" else _indonesian(text, channel, keep)),
    ]
    if dictionaries:
        found.extend(_spelling(text, language, dictionaries, keep, found))
    return sorted(found, key=lambda f: (f.start, f.end, f.rule))
