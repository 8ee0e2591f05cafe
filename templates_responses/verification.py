"""The mail that carries a one-time code, so a chat visitor can prove an email address is theirs.

Written in the visitor's language (English or Indonesian). The code's lifetime comes in as a
number of minutes; nothing here knows what time it is.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CodeMail", "code_mail"]

_TEXT = {
    "en": {
        "subject": "Your verification code: {code}",
        "body": (
            "Hello,\n\n"
            "Someone chatting with our customer service asked to confirm that this email address is theirs. "
            "If that was you, type this code in the chat:\n\n"
            "    {code}\n\n"
            "The code works for {minutes} minutes. If it was not you, ignore this email: nothing happens "
            "without the code, and nobody can see your messages.\n\n"
            "Customer Service\n"
        ),
    },
    "id": {
        "subject": "Kode verifikasi Anda: {code}",
        "body": (
            "Halo,\n\n"
            "Seseorang yang sedang chat dengan layanan pelanggan kami meminta konfirmasi bahwa alamat email ini "
            "miliknya. Jika itu Anda, ketik kode ini di chat:\n\n"
            "    {code}\n\n"
            "Kode ini berlaku {minutes} menit. Jika itu bukan Anda, abaikan email ini: tanpa kode tersebut "
            "tidak ada yang terjadi, dan tidak ada yang dapat melihat pesan Anda.\n\n"
            "Layanan Pelanggan\n"
        ),
    },
}


@dataclass(frozen=True, slots=True)
class CodeMail:
    subject: str
    text: str
    language: str


def code_mail(language: str, code: str, minutes: int) -> CodeMail:
    """The code's mail in ``language`` (``"en"`` or ``"id"``; anything else: English)."""
    t = _TEXT.get(language, _TEXT["en"])
    lang = language if language in _TEXT else "en"
    return CodeMail(t["subject"].format(code=code), t["body"].format(code=code, minutes=minutes), lang)
