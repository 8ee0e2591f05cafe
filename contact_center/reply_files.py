"""The reply library's folder: its files read and checked whole, an import written only when all of it is good.

The folder is ``desk.replies_dir`` (empty: the starter library for a bank's customer service that
ships with the engine, ``templates_responses/starter``). One ``<id>.toml`` file per reply, in the
format of :mod:`templates_responses.library_format`; the library may also be exported and
imported as one CSV table (:mod:`templates_responses.library_csv`) or as another folder of files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from templates_responses.library_csv import from_csv, to_csv
from templates_responses.library_format import LibraryError, Problem, read_library, write_reply
from templates_responses.replies import Reply

__all__ = [
    "ATTACHMENTS",
    "STARTER",
    "export",
    "import_into",
    "read_attachments",
    "read_folder",
    "read_source",
    "read_texts",
    "remove",
    "write",
    "write_bytes",
]

STARTER = Path(__file__).resolve().parents[1] / "templates_responses" / "starter"
ATTACHMENTS = "attachments"  # the library's folder of files sent with replies
_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024  # what is read of one; the engine's own limit is checked when it is taken


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LibraryError([Problem(str(path), 1, f"not UTF-8 text: {exc}")]) from None


def read_texts(folder: Path) -> list[tuple[str, str]]:
    """The ``(file name, text)`` of each reply file in ``folder``; :class:`LibraryError` if there is no folder."""
    if not folder.is_dir():
        raise LibraryError([Problem(str(folder), 0, "no such folder")])
    return [(str(p), _text(p)) for p in sorted(folder.glob("*.toml"))]


def read_attachments(folder: Path) -> dict[str, bytes]:
    """The files of ``folder``'s ``attachments/`` folder by name (none: an empty one); hidden files left out."""
    files = folder / ATTACHMENTS
    if not files.is_dir():
        return {}
    found = {}
    for path in sorted(files.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.stat().st_size > _MAX_ATTACHMENT_BYTES:
            raise LibraryError([Problem(str(path), 0, f"over {_MAX_ATTACHMENT_BYTES >> 20} MB: too large to send")])
        found[path.name] = path.read_bytes()
    return found


def read_folder(folder: Path, languages: Sequence[str]) -> list[Reply]:
    """Every reply in ``folder`` (its ``*.toml`` files), each attachment named in ``attachments/``;
    :class:`LibraryError` naming every problem."""
    return read_library(read_texts(folder), languages, read_attachments(folder))


def read_source(source: Path, languages: Sequence[str]) -> list[Reply]:
    """Replies from a folder of reply files, one reply file, or a CSV table."""
    if source.is_dir():
        return read_folder(source, languages)
    if source.suffix.lower() == ".csv":
        return from_csv(str(source), _text(source), languages)
    return read_library([(str(source), _text(source))], languages)


def export(
    replies: Sequence[Reply], languages: Sequence[str], out: Path, attachments: dict[str, bytes] | None = None
) -> None:
    """The replies as a CSV table (``out`` ending in .csv) or as a folder of reply files, with ``attachments``."""
    if out.suffix.lower() == ".csv":
        _write(out, to_csv(replies, languages))
        return
    out.mkdir(parents=True, exist_ok=True)
    for reply in replies:
        _write(out / f"{reply.id}.toml", write_reply(reply))
    for name, data in (attachments or {}).items():
        write_bytes(out / ATTACHMENTS / name, data)


def import_into(
    folder: Path, incoming: Sequence[Reply], languages: Sequence[str], attachments: dict[str, bytes] | None = None
) -> list[Reply]:
    """Add or replace ``incoming`` replies (and ``attachments``) in the library ``folder``: checked with what
    is there, then written.

    The library as it would be afterwards is checked first (a short code taken twice, a file a
    reply names and neither has, say), so a bad import writes nothing. Each file is written whole
    (to a temporary name, then renamed), the attachments first.
    """
    existing = {r.id: r for r in read_folder(folder, languages)} if any(folder.glob("*.toml")) else {}
    merged = {**existing, **{r.id: r for r in incoming}}
    files = {**read_attachments(folder), **(attachments or {})}
    read_library([(f"{folder / rid}.toml", write_reply(r)) for rid, r in sorted(merged.items())], languages, files)
    for name, data in (attachments or {}).items():
        write_bytes(folder / ATTACHMENTS / name, data)
    for reply in incoming:
        _write(folder / f"{reply.id}.toml", write_reply(reply))
    return sorted(merged.values(), key=lambda r: r.id)


def write(folder: Path, reply_id: str, text: str) -> None:
    """A reply's file, written whole (a temporary name, then renamed)."""
    _write(folder / f"{reply_id}.toml", text)


def remove(folder: Path, reply_id: str) -> None:
    (folder / f"{reply_id}.toml").unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    """A file written whole: to a temporary name in its folder, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(path: Path, text: str) -> None:
    write_bytes(path, text.encode())
