"""Raw email bytes into what the engine keeps and an agent reads, surviving the real world.

:func:`parse` reads headers as raw text and decodes them itself (RFC 2047 words in any
charset, 8-bit junk included), walks every MIME part, and decodes each body by its declared
charset, or, when that is missing, unknown or wrong, by the charset the bytes look like
(``charset-normalizer``). It returns:

- the plain text (from the text part, or made from the HTML part by ``inscriptis``), and the
  same text with quoted history and signature folded away (:mod:`channels.email.quotes`);
- safe HTML (``nh3``): no script, no event handler, no style, no form, no remote resource.
  Images may only point at parts of the mail itself (``cid:``); links keep http, https and
  mailto, opened with ``rel="noopener noreferrer"``;
- attachments and inline images, each with its bytes, or, above the size limit, without
  them and with the reason (never dropped silently);
- threading headers, addresses, date, and what says the mail was sent by a machine.

Whatever it had to work around is listed in ``problems``. A message that cannot be read as
an email at all (no sender, headers over the limit, empty, or a "text" that is binary junk)
raises :class:`Unparseable` with the reason; the channel quarantines it and goes on with the next.
"""

from __future__ import annotations

import email
import email.utils
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message

import nh3
from charset_normalizer import from_bytes
from inscriptis import get_text

from channels.email.quotes import fold
from contact_center.exceptions import Unparseable

__all__ = ["Attachment", "Limits", "ParsedMail", "parse"]

_MSGID = re.compile(r"<[^<>\s]{1,900}>")
_TEXT_TYPES = ("text/plain", "text/html")
_MAX_PARTS = 1000
_MAX_DEPTH = 30
# Charsets to prefer, in order, among those that fit a text's bytes equally well (after cp1252).
_LIKELY = ("gb18030", "big5", "cp1251", "shift_jis", "euc_kr", "cp1250", "iso8859_15", "cp874")
_SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "q", "s",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "*": {"lang", "dir"},
}


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of a message is kept: attachments above ``attachment_bytes`` are recorded without their bytes."""

    attachment_bytes: int = 25 * 1024 * 1024
    header_bytes: int = 256 * 1024
    html_bytes: int = 5 * 1024 * 1024  # larger HTML is cut before it is made safe and turned into text


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes | None  # None: not kept (see ``refused``)
    content_id: str | None = None  # inline images are referred to by it from the HTML (cid:)
    inline: bool = False
    refused: str | None = None


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # with its angle brackets; made up from the bytes when the mail has none
    message_id_given: bool
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_addr: str  # lower-cased address
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    date: float | None
    text: str
    visible_text: str
    folded_text: str
    html: str | None  # safe HTML, or None when the mail had no HTML part
    attachments: tuple[Attachment, ...]
    headers: dict[str, str]  # the first value of each header, decoded, lower-case names
    digest: str  # sha256 of the raw bytes: the same bytes are the same mail
    problems: tuple[str, ...] = field(default=())
    auth_results: tuple[str, ...] = ()  # every Authentication-Results header, as written, topmost first


def parse(raw: bytes, limits: Limits = Limits()) -> ParsedMail:
    """Read ``raw`` (the bytes as fetched) into a :class:`ParsedMail`.

    Raises:
        Unparseable: the bytes are not an email one can answer (the message says why).
    """
    try:
        return _parse(raw, limits)
    except RecursionError:  # the standard library's parser recurses once per nested part
        raise Unparseable("MIME parts nested too deep to be read") from None


def _parse(raw: bytes, limits: Limits) -> ParsedMail:
    if not raw.strip():
        raise Unparseable("the message is empty")
    head_end = _header_end(raw)
    if head_end > limits.header_bytes:
        raise Unparseable(f"its headers take {head_end:,} bytes, over the limit of {limits.header_bytes:,}")
    msg = email.message_from_bytes(raw)
    problems: list[str] = [f"MIME defect: {type(d).__name__}" for d in msg.defects]
    headers = _headers(msg, problems)
    from_name, from_addr = _first_address(headers.get("from", ""))
    if not from_addr:
        sender = headers.get("from", "")
        raise Unparseable(f"no sender address in From: {sender[:200]!r}" if sender else "no From header")
    text, html, attachments = _body(msg, limits, problems)
    _not_junk(text)
    message_id, given = _message_id(headers.get("message-id", ""), raw)
    if not given:
        problems.append("no Message-ID: one was made from the message's bytes")
    visible, folded = fold(text)
    return ParsedMail(
        message_id=message_id,
        message_id_given=given,
        in_reply_to=tuple(_MSGID.findall(headers.get("in-reply-to", ""))),
        references=tuple(_MSGID.findall(headers.get("references", "")))[-50:],
        subject=" ".join(headers.get("subject", "").split())[:998],
        from_addr=from_addr,
        from_name=from_name,
        to=_addresses(headers.get("to", "")),
        cc=_addresses(headers.get("cc", "")),
        reply_to=_addresses(headers.get("reply-to", "")),
        date=_date(headers.get("date", "")),
        text=text,
        visible_text=visible,
        folded_text=folded,
        html=html,
        attachments=tuple(attachments),
        headers=headers,
        digest=hashlib.sha256(raw).hexdigest(),
        problems=tuple(problems),
        auth_results=tuple(
            " ".join(str(v).split()) for k, v in msg.raw_items() if k.strip().lower() == "authentication-results"
        ),
    )


def _header_end(raw: bytes) -> int:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return at
    return len(raw)


# ---------------------------------------------------------------------- headers


def _headers(msg: Message, problems: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.strip().lower()
        if key not in found:
            found[key] = _decoded(value, name, problems)
    return found


def _decoded(value: object, name: str, problems: list[str]) -> str:
    """A header's text: encoded words decoded, 8-bit bytes read as UTF-8 or what they look like.

    An encoded word in a charset nobody knows (``=?x-unknown?B?...?=``) or whose bytes are not
    in the charset it names is read as what its bytes look like, never shown as written.
    """
    raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):  # 8-bit bytes, kept by the parser as surrogates
        raw = _surrogates_to_text(raw)
    try:
        return str(make_header(decode_header(raw))).replace("\r", "").replace("\n", " ").strip()
    except (LookupError, UnicodeError, ValueError) as exc:
        problems.append(f"header {name}: {exc}; read as what its bytes look like")
    try:
        chunks = decode_header(raw)
    except (UnicodeError, ValueError):
        return raw.replace("\r", "").replace("\n", " ").strip()
    text = "".join(_chunk(data, charset) for data, charset in chunks)
    return " ".join(text.replace("\r", "").split())


def _chunk(data: bytes | str, charset: str | None) -> str:
    """One decoded piece of a header, in the charset it names if that works, else as its bytes look."""
    if isinstance(data, str):
        return data
    if charset and charset != "unknown-8bit":
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        guessed = _guess(data)
        return guessed if guessed is not None else data.decode("latin-1")


def _surrogates_to_text(value: str) -> str:
    """Raw 8-bit header bytes (kept by the parser as surrogates) as the text they most likely are."""
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        guessed = _guess(data)
        return guessed if guessed is not None else data.decode("latin-1")


def _guess(data: bytes) -> str | None:
    """Bytes in no charset said (or a wrong one), as the text they most likely are.

    Short texts fit several code pages equally well; among those that fit best, Windows-1252
    (what western mail programs write when they say nothing, or say ISO-8859-1) comes first,
    then the commonest others, in :data:`_LIKELY` order.
    """
    matches = list(from_bytes(data))
    if not matches:
        return None
    calmest = min(m.chaos for m in matches) + 0.01
    western = from_bytes(data, cp_isolation=["cp1252"]).best()
    if western is not None and western.chaos <= calmest:
        return str(western)
    fitting = [m for m in matches if m.chaos <= calmest]
    fitting.sort(key=lambda m: _LIKELY.index(m.encoding) if m.encoding in _LIKELY else len(_LIKELY))
    return str(fitting[0])


def _first_address(value: str) -> tuple[str, str]:
    pairs = email.utils.getaddresses([value])
    for name, addr in pairs:
        if "@" in addr:
            return name.strip(), addr.strip().lower()
    return "", ""


def _addresses(value: str) -> tuple[str, ...]:
    return tuple(addr.strip().lower() for _, addr in email.utils.getaddresses([value]) if "@" in addr)[:200]


def _date(value: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return when.timestamp()


def _message_id(value: str, raw: bytes) -> tuple[str, bool]:
    found = _MSGID.search(value)
    if found:
        return found.group(0), True
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>", False


# ---------------------------------------------------------------------- body


def _body(msg: Message, limits: Limits, problems: list[str]) -> tuple[str, str | None, list[Attachment]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in _leaves(msg, problems):
        kind = part.get_content_type()
        if kind.startswith("multipart/"):  # a multipart that could not be split: its text as it is
            kind = "text/plain"
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part, problems)
        # Text shown inline is the mail's text, even when it carries a file name (some mail programs add one).
        if kind in _TEXT_TYPES and (disposition == "inline" or (disposition != "attachment" and not filename)):
            (plain if kind == "text/plain" else html).append(_text_of(part, problems))
        else:
            attachments.append(_attachment(part, kind, disposition, filename, limits, len(attachments)))
    raw_html = "\n".join(html)
    if len(raw_html) > limits.html_bytes:
        problems.append(f"HTML of {len(raw_html):,} characters cut to {limits.html_bytes:,}")
        raw_html = raw_html[: limits.html_bytes]
    text = "\n".join(plain).strip() or (get_text(raw_html).strip() if raw_html else "")
    return text.replace("\r\n", "\n") + ("\n" if text else ""), _safe_html(raw_html) if html else None, attachments


_JUNK = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_JUNK_SHARE = 0.05  # of a mail's text, in control characters, beyond which it is not text at all
_JUNK_LEAST = 40


def _not_junk(text: str) -> None:
    """Refuse a "text" that is binary: agents must not be shown kilobytes of control characters.

    Raises:
        Unparseable: naming the share of control characters.
    """
    junk = len(_JUNK.findall(text))
    if junk >= _JUNK_LEAST and junk > _JUNK_SHARE * len(text):
        raise Unparseable(f"its text is binary, not text: {junk:,} of {len(text):,} characters are control characters")


def _leaves(msg: Message, problems: list[str]) -> Iterator[Message]:
    """Every part that holds content, in order; an attached mail (message/rfc822) is one part, not opened.

    At most ``_MAX_PARTS`` parts ``_MAX_DEPTH`` levels deep are read: a message built to nest
    forever costs no more than that.
    """
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > _MAX_PARTS:
            problems.append(f"more than {_MAX_PARTS} MIME parts: the rest not read")
            return
        nested = part.is_multipart() and (part is msg or part.get_content_type() != "message/rfc822")
        if nested and depth < _MAX_DEPTH:
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
        elif nested:
            problems.append(f"MIME parts nested deeper than {_MAX_DEPTH}: not read")
        else:
            yield part


def _filename(part: Message, problems: list[str]) -> str:
    try:
        name = part.get_filename() or ""
    except (LookupError, UnicodeError, ValueError) as exc:
        problems.append(f"attachment name unreadable: {exc}")
        return "unnamed"
    return _decoded(name, "filename", problems) if name else ""


def _text_of(part: Message, problems: list[str]) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset()
    if charset:
        try:
            return data.decode(charset)
        except LookupError:
            problems.append(f"unknown charset {charset!r}: read as what the bytes look like")
        except UnicodeDecodeError:
            problems.append(f"bytes that are not {charset}: read as what they look like")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        guessed = _guess(data)
        if guessed is not None:
            return guessed
        problems.append("text in no charset that could be told: undecodable bytes replaced")
        return data.decode("utf-8", "replace")


def _attachment(part: Message, kind: str, disposition: str, filename: str, limits: Limits, index: int) -> Attachment:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):  # an attached mail (message/rfc822), written out again whole
        data = _mail_bytes(part.get_payload())
    content_id = (part.get("Content-ID") or "").strip().strip("<>") or None
    name = filename or f"part-{index + 1}{_extension(kind)}"
    inline = disposition == "inline" or (content_id is not None and disposition != "attachment")
    if len(data) > limits.attachment_bytes:
        reason = f"{len(data):,} bytes, over the limit of {limits.attachment_bytes:,}: not kept"
        return Attachment(name, kind, len(data), None, content_id, inline, reason)
    return Attachment(name, kind, len(data), data, content_id, inline)


def _mail_bytes(payload: object) -> bytes:
    inner = payload[0] if isinstance(payload, list) and payload else payload
    if isinstance(inner, Message):
        try:
            return inner.as_bytes()
        except (LookupError, UnicodeError, ValueError):
            return str(inner).encode("utf-8", "replace")
    return str(payload or "").encode("utf-8", "replace")


def _extension(kind: str) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf"}.get(
        kind, ".eml" if kind == "message/rfc822" else ".bin"
    )


# ---------------------------------------------------------------------- safe HTML


def _safe_html(raw: str) -> str:
    return nh3.clean(
        raw,
        tags=_SAFE_TAGS,
        attributes=_SAFE_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        attribute_filter=_keep_attribute,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Images only from the mail itself (cid:); links never to cid: (nothing to open there)."""
    if tag == "img" and attribute == "src":
        return value if value.lower().startswith("cid:") else None
    if tag == "a" and attribute == "href" and value.lower().startswith("cid:"):
        return None
    return value
