"""Files a customer sends in a chat: what they are, and whether one may be kept.

A browser's word for a file's type is a claim like any other: a file is what its first bytes
say it is (:func:`sniff`), and it is kept only when that is one of ``webchat.attachment_types``
and agrees with the type the browser gave. Its name is only a label: cut to a plain name of at
most 120 characters, with no path and no control characters. Kept files are shown to agents
as the mail attachments are (``contact_center.web.rest_mail``): plain images inline, anything
else as a download, never run in the desk's origin.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from contact_center.exceptions import ClientError

__all__ = ["ChatFile", "accepted_type", "clean_name", "content_id", "sniff"]

_NAME_CHARS = 120
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|]")


@dataclass(frozen=True, slots=True)
class ChatFile:
    """A file a customer sent, kept in the store; ``data`` None when only its description was read."""

    id: str
    customer_id: str
    filename: str
    content_type: str
    size: int
    at: float
    data: bytes | None = None

    def described(self) -> dict[str, object]:
        """What a message says of it: enough to show it and to fetch it."""
        return {"id": self.id, "name": self.filename, "type": self.content_type, "size": self.size}


def sniff(data: bytes) -> str | None:
    """The type a file's first bytes say it is, among those a chat may carry; None: none of them."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/plain"
    return None


def accepted_type(data: bytes, declared: str, allowed: Collection[str]) -> str:
    """The file's type, if it may be kept: what its bytes are, allowed, and what the browser said.

    Raises:
        ClientError: ``invalid_field`` on ``file`` with ``problem`` ``empty``, ``type_not_allowed``
            or ``type_mismatch``.
    """
    if not data:
        raise ClientError("file: the file is empty", "invalid_field", field="file", problem="file_empty")
    found = sniff(data)
    said = declared.split(";", 1)[0].strip().lower()
    if found is None or found not in allowed:
        kinds = ", ".join(sorted(allowed))
        raise ClientError(
            f"file: a {found or 'file of an unknown type'} may not be sent (only {kinds})",
            "invalid_field",
            field="file",
            problem="type_not_allowed",
        )
    if said and said != found and said != "application/octet-stream":
        raise ClientError(
            f"file: it was sent as {said} but its contents are {found}",
            "invalid_field",
            field="file",
            problem="type_mismatch",
        )
    return found


def clean_name(name: str) -> str:
    """A file name fit to show and to offer as a download's name: no path, no control characters, short."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    plain = " ".join(_UNSAFE.sub("_", base).split()).strip(". ")
    if len(plain) > _NAME_CHARS:
        stem, dot, ext = plain.rpartition(".")
        plain = (stem[: _NAME_CHARS - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else plain[:_NAME_CHARS]
    return plain or "file"


def content_id(data: bytes) -> str:
    """The id of a file kept by what it holds (the reply library's): the same bytes, the same id, on any node."""
    return "lib-" + hashlib.sha256(data).hexdigest()[:40]
