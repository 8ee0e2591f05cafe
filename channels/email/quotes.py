"""Fold away what a reply repeats: the quoted earlier mail and the sender's signature.

An agent reading a customer's reply wants the new text; the history it quotes is already in
the contact. :func:`fold` splits a plain-text body at the first line that starts the quoted
part or the signature, in English and Indonesian as mail programs write them:

- an attribution line: ``On Mon, 23 Nov 2026 at 09:00, Ayu <ayu@x> wrote:`` /
  ``Pada Sen, 23 Nov 2026 pukul 09.00, Ayu <ayu@x> menulis:`` (also split over two lines);
- a forwarded or original-message rule: ``-----Original Message-----``, ``-----Pesan Asli-----``,
  ``---------- Forwarded message ---------``, ``---------- Pesan terusan ---------``;
- an Outlook header block: ``From:`` / ``Dari:`` followed by ``Sent:`` / ``Dikirim:`` or ``Date:`` / ``Tanggal:``;
- a run of ``>`` quoted lines that reaches the end of the text (lines quoted inline, with
  answers between them, stay);
- a signature: the ``-- `` delimiter, or a phone's ``Sent from my iPhone`` / ``Dikirim dari iPhone saya``.

Nothing is thrown away: the folded part is returned beside the visible one.
"""

from __future__ import annotations

import re

__all__ = ["fold"]

_ATTRIBUTION = re.compile(
    r"^\s*(on\s.{4,200}?\swrote|pada\s.{4,200}?\s(menulis|wrote))\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(on|pada)\s.{4,200}$", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"^.{0,200}\s?(wrote|menulis)\s*:\s*$", re.IGNORECASE)
_RULE = re.compile(
    r"^\s*-{2,}\s*(original message|pesan asli|forwarded message|pesan terusan|pesan yang diteruskan)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|dari)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\*?(sent|date|dikirim|tanggal|to|kepada|subject|perihal|subjek)\s*:", re.IGNORECASE)
_SIGNATURE = re.compile(r"^-- ?$")
_PHONE = re.compile(
    r"^\s*(sent from my \w[\w ]{0,40}|dikirim dari \w[\w ]{0,40}|get outlook for \w+"
    r"|sent from (mail|yahoo mail) for \w+)\s*$",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^\s*>")


def fold(text: str) -> tuple[str, str]:
    """Split ``text`` into what the sender wrote now and what is folded away (quoted history, signature).

    Returns:
        ``(visible, folded)``: ``visible + folded`` is the text, line for line. A text that
        would be folded away whole (a bare forward) is left visible.
    """
    lines = text.splitlines(keepends=True)
    cut = _cut(lines)
    if cut is None:
        return text, ""
    visible = "".join(lines[:cut])
    if not visible.strip():
        return text, ""
    return visible.rstrip() + "\n", "".join(lines[cut:])


def _cut(lines: list[str]) -> int | None:
    """Index of the first line of the folded part, or None."""
    tail = _quoted_tail(lines)
    for i, line in enumerate(lines[:tail]):
        bare = line.rstrip("\r\n")
        if _ATTRIBUTION.match(bare) or _RULE.match(bare) or _SIGNATURE.match(bare) or _PHONE.match(bare):
            return i
        if _ATTRIBUTION_START.match(bare) and i + 1 < len(lines) and _ATTRIBUTION_END.match(lines[i + 1]):
            return i
        if _HEADER_FROM.match(bare) and any(_HEADER_NEXT.match(x) for x in lines[i + 1 : i + 4]):
            return i
    return tail if tail < len(lines) else None


def _quoted_tail(lines: list[str]) -> int:
    """Where the final run of ``>`` lines (blank lines allowed inside) begins; ``len(lines)`` if none."""
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        if _QUOTED.match(lines[i]):
            start = i
        elif lines[i].strip():
            break
    return start
