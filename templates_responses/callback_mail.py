"""The mail that confirms a callback, with its links to cancel or move it.

Written in the customer's language (English or Indonesian). The hour comes in as the office's
local time (a time zone-aware datetime) and is written with its zone named; nothing here knows
what time it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from templates_responses.acknowledgement import when as written

__all__ = ["CallbackMail", "callback_mail"]

_TEXT = {
    "en": {
        "subject": "Your callback {number}",
        "asap": "We will call you at {phone} as soon as an agent is free.",
        "booked": "We will call you at {phone} on {when}.",
        "body": (
            "Hello,\n\n"
            "Thank you for asking us to call you. Your number in our queue is {number}.\n"
            "{when_line}\n\n"
            "To choose another time: {reschedule}\n"
            "To cancel the call: {cancel}\n\n"
            "Each link works once. If you did not ask to be called, cancel the call with the link above.\n\n"
            "Customer Service\n"
        ),
    },
    "id": {
        "subject": "Panggilan balik Anda {number}",
        "asap": "Kami akan menelepon Anda di {phone} segera setelah agen kami tersedia.",
        "booked": "Kami akan menelepon Anda di {phone} pada {when}.",
        "body": (
            "Halo,\n\n"
            "Terima kasih telah meminta kami menelepon Anda. Nomor antrean Anda {number}.\n"
            "{when_line}\n\n"
            "Untuk memilih waktu lain: {reschedule}\n"
            "Untuk membatalkan panggilan: {cancel}\n\n"
            "Setiap tautan hanya berlaku satu kali. Jika Anda tidak meminta untuk ditelepon, batalkan panggilan "
            "dengan tautan di atas.\n\n"
            "Layanan Pelanggan\n"
        ),
    },
}


@dataclass(frozen=True, slots=True)
class CallbackMail:
    subject: str
    text: str
    language: str


def callback_mail(
    language: str, number: str, phone: str, when: datetime | None, cancel_url: str, reschedule_url: str
) -> CallbackMail:
    """The confirmation in ``language`` (anything but ``"id"``: English); ``when`` None: as soon as possible."""
    lang = language if language in _TEXT else "en"
    t = _TEXT[lang]
    if when is None:
        when_line = t["asap"].format(phone=phone)
    else:
        when_line = t["booked"].format(phone=phone, when=written(when, lang))
    text = t["body"].format(number=number, when_line=when_line, cancel=cancel_url, reschedule=reschedule_url)
    return CallbackMail(t["subject"].format(number=number), text, lang)
