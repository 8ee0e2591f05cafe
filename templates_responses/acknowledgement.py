"""The automatic acknowledgement: the ticket and the time by which an answer will come.

Written in the customer's language (English or Indonesian), in plain words, with the deadline
as a local date and hour in the office's time zone. The caller works out the deadline from the
SLA clock and passes it in as an aware ``datetime``; nothing here knows what time it is.

Its wording is the reply library's ``acknowledgement`` (:data:`REPLY_ID`), which supervisors edit
like any reply: :func:`from_reply` fills it. A body no one could send unattended
(:func:`unsendable`: a placeholder, or a variable the engine cannot fill and without fallback)
is refused when saved; the built-in wording (:func:`acknowledgement`) serves when there is none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from templates_responses.replies import Reply, render, tokens

__all__ = [
    "AUTOMATIC", "REPLY_ID", "Acknowledgement", "acknowledgement", "from_reply", "office_hours", "unsendable", "when",
]  # fmt: skip

REPLY_ID = "acknowledgement"  # the library's reply that words it
AUTOMATIC = "automatic"  # the tag of replies the engine sends itself (never suggested to agents)
_FILLED = frozenset({"ticket", "answer_by"})  # always known when an acknowledgement goes

_DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
}  # fmt: skip

_TEXT = {
    "en": {
        "subject": "We have received your email",
        "greeting": "Hello {name},",
        "anonymous": "Hello,",
        "received": (
            "Thank you for writing to us. We have received your email, and a member of our team will answer "
            "it by {due}."
        ),
        "ticket": (
            "Your ticket number is {ticket}. If you write to us about this again, please keep it in the "
            "subject line, so that your messages stay together."
        ),
        "automatic": "This message was sent automatically; there is no need to reply to it.",
        "signature": "Customer Service",
    },
    "id": {
        "subject": "Email Anda sudah kami terima",
        "greeting": "Halo {name},",
        "anonymous": "Halo,",
        "received": (
            "Terima kasih telah menghubungi kami. Email Anda sudah kami terima, dan tim kami akan membalasnya "
            "paling lambat {due}."
        ),
        "ticket": (
            "Nomor tiket Anda: {ticket}. Jika Anda menulis lagi tentang hal ini, mohon tetap cantumkan nomor "
            "ini di subjek email, agar pesan Anda tetap terkumpul."
        ),
        "automatic": "Pesan ini dikirim secara otomatis; Anda tidak perlu membalasnya.",
        "signature": "Layanan Pelanggan",
    },
}


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    subject: str
    text: str
    language: str


def when(at: datetime, language: str) -> str:
    """``at`` as people write it: "Monday 30 November 2026 at 09:00 WIB", "Senin, 30 November 2026 pukul 09.00 WIB"."""
    day = _DAYS[language][at.weekday()]
    month = _MONTHS[language][at.month - 1]
    zone = at.tzname() or ""
    if language == "id":
        return f"{day}, {at.day} {month} {at.year} pukul {at:%H.%M} {zone}".rstrip()
    return f"{day} {at.day} {month} {at.year} at {at:%H:%M} {zone}".rstrip()


def acknowledgement(language: str, ticket: str, due: datetime, subject: str, name: str = "") -> Acknowledgement:
    """The acknowledgement of a new email.

    Args:
        language: ``"en"`` or ``"id"``.
        ticket: the thread's ticket reference, put in the subject as ``[ticket]``.
        due: the first-response deadline, in the office's time zone.
        subject: the customer's subject (kept after ours, so the thread is recognisable).
        name: the customer's name, when known.

    Raises:
        ValueError: an unknown language.
    """
    if language not in _TEXT:
        raise ValueError(f"no acknowledgement in language {language!r} (one of {', '.join(_TEXT)})")
    t = _TEXT[language]
    greeting = t["greeting"].format(name=name.strip()) if name.strip() else t["anonymous"]
    body = "\n\n".join(
        [
            greeting,
            t["received"].format(due=when(due, language)),
            t["ticket"].format(ticket=ticket),
            t["automatic"],
            t["signature"],
        ]
    )
    title = f"[{ticket}] {t['subject']}"
    if subject.strip():
        title += f": {subject.strip()}"
    return Acknowledgement(title, body + "\n", language)


def unsendable(reply: Reply) -> list[tuple[str, str]]:
    """What stops ``reply`` from going out unattended, per language: ``(language, problem)``."""
    found = []
    for language, body in reply.bodies.items():
        for token in tokens(body):
            if token.kind == "placeholder":
                found.append((language, f"[[{token.name}]]: no agent is there to fill a placeholder"))
            elif token.kind == "variable" and token.name not in _FILLED and token.fallback is None:
                found.append((language, f"{{{{{token.name}}}}} needs a fallback ({{{{{token.name}|...}}}})"))
    return found


def from_reply(
    bodies: Mapping[str, str], language: str, ticket: str, due: datetime, subject: str, name: str = ""
) -> Acknowledgement | None:
    """The acknowledgement worded by the library's reply (``bodies`` per language); None if it cannot go."""
    body = bodies.get(language)
    if language not in _TEXT or not body:
        return None
    values = {"ticket": ticket, "answer_by": when(due, language)}
    if name.strip():
        values["customer_name"] = name.strip()
    filled = render(body, values)
    if filled.to_fill:
        return None
    text = filled.text.replace(" ,", ",")  # "Hello {{customer_name|}}," with no name: "Hello,"
    title = f"[{ticket}] {_TEXT[language]['subject']}"
    if subject.strip():
        title += f": {subject.strip()}"
    return Acknowledgement(title, text.strip() + "\n", language)


def _clock(seconds: int, language: str) -> str:
    h, m = divmod(seconds // 60, 60)
    return f"{h:02d}.{m:02d}" if language == "id" else f"{h:02d}:{m:02d}"


def office_hours(week: Sequence[Sequence[tuple[int, int]]], language: str) -> str:
    """The working week as people write it: "Monday to Friday 08:00-17:00; Saturday 08:00-12:00".

    ``week``: seven days (Monday first) of ``(start, end)`` spans in seconds since local midnight.
    """
    days, joiner = _DAYS[language], (" sampai " if language == "id" else " to ")
    groups: list[tuple[int, int, Sequence[tuple[int, int]]]] = []
    for n, spans in enumerate(week):
        if groups and groups[-1][2] == spans and groups[-1][1] == n - 1:
            groups[-1] = (groups[-1][0], n, spans)
        else:
            groups.append((n, n, spans))
    parts = []
    for first, last, spans in groups:
        if not spans:
            continue
        named = days[first] if first == last else f"{days[first]}{joiner}{days[last]}"
        hours = ", ".join(f"{_clock(a, language)}-{_clock(b, language)}" for a, b in spans)
        parts.append(f"{named} {hours}")
    return "; ".join(parts)
