"""The reply library's files: one TOML file per reply, read and checked whole, written back the same way.

A reply's file is named after its id (``card-blocked.toml``) and holds::

    title = "Card blocked"
    code = "blocked"                      # what "/blocked" (or "::blocked") finds in the reply box
    tags = ["cards"]
    skills = ["cards"]                    # who may use it: an agent with one of them (none: everyone)
    examples = ["My card is blocked", "Kartu saya terblokir"]
    attachments = ["fees.pdf"]            # files in the library's attachments/ folder sent with it
    owner = "..."                         # only for an agent's personal reply: that agent's id

    [body]
    en = \"\"\"Hello {{customer_name|there}}, ... [[the card's last four digits]] ...\"\"\"
    id = \"\"\"Halo {{customer_name|Bapak/Ibu}}, ...\"\"\"

(the variables and placeholders of a body: :mod:`templates_responses.replies`). A library is
checked whole (:func:`read_library`): every problem of every file is found, each named by file
and line, and if there is one, nothing of the library is taken. The text comes in as text: the
caller reads the files.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from templates_responses.replies import VARIABLES, Reply, tokens

__all__ = ["LibraryError", "Problem", "file_name_problem", "read_library", "read_reply", "write_reply"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_KEYS = {"title", "code", "tags", "skills", "examples", "attachments", "owner", "body"}
_AT_LINE = re.compile(r"at line (\d+)")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_ .-]{0,119}$")  # an attachment: a plain name, no folder


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in a library file, where it is."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class LibraryError(ValueError):
    """A library that cannot be taken, with every problem found in it."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _line_of(text: str, needle: str, default: int = 1) -> int:
    """The line of ``needle``'s first place at or after line ``default`` (its key's), else that line."""
    start = 0
    for _ in range(default - 1):
        start = text.find("\n", start) + 1
    at = text.find(needle, start)
    return text.count("\n", 0, at) + 1 if at >= 0 else default


def file_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as an attachment's (None: nothing)."""
    if _FILE.match(name) and ".." not in name and name == name.strip():
        return None
    return f"{name!r} is not a file name (letters, digits, _ . - and spaces, at most 120, no folder)"


def _key_line(text: str, key: str) -> int:
    found = re.search(rf"^[ \t]*(?:{re.escape(key)}[ \t]*=|\[[ \t]*{re.escape(key)}[ \t]*\])", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _texts(data: dict[str, Any], key: str, problems: list[str]) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{key}: must be a list of strings")
        return ()
    return tuple(v.strip() for v in value if v.strip())


def read_reply(file: str, text: str, languages: Sequence[str]) -> Reply:
    """One reply from its file's text; :class:`LibraryError` naming every problem in it."""
    stem = file.rsplit("/", 1)[-1].removesuffix(".toml")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _AT_LINE.search(str(exc))
        raise LibraryError([Problem(file, int(line.group(1)) if line else 1, f"not TOML: {exc}")]) from None
    found: list[Problem] = []

    def problem(key: str, message: str, needle: str | None = None) -> None:
        line = _line_of(text, needle, _key_line(text, key)) if needle else _key_line(text, key)
        found.append(Problem(file, line, message))

    if not _ID.match(stem):
        found.append(Problem(file, 1, f"the file's name {stem!r} is not an id (a-z, 0-9 and -, at most 64)"))
    for key in sorted(set(data) - _KEYS):
        problem(key, f"unknown key {key!r} (one of {', '.join(sorted(_KEYS))})")
    title, code = data.get("title"), data.get("code")
    if not isinstance(title, str) or not title.strip():
        problem("title", "title: a reply needs a title")
    if not isinstance(code, str) or not _CODE.match(code):
        problem("code", f"code: {code!r} is not a short code (a-z, 0-9, _ and -, at most 32)")
    listed: list[str] = []
    tags, skills, examples, attachments = (
        _texts(data, k, listed) for k in ("tags", "skills", "examples", "attachments")
    )
    for message in listed:
        problem(message.split(":")[0], message)
    for name in attachments:
        if said := file_name_problem(name):
            problem("attachments", f"attachments: {said}", name)
    owner = data.get("owner")
    if owner is not None and (not isinstance(owner, str) or not owner.strip()):
        problem("owner", "owner: the id of the agent whose personal reply it is (leave it out for the team's)")
    bodies = _bodies(data.get("body"), languages, text, problem)
    if found:
        raise LibraryError(found)
    return Reply(stem, str(title).strip(), str(code), bodies, tags, skills, examples, attachments,
                 owner.strip() if isinstance(owner, str) else None)  # fmt: skip


def _bodies(value: object, languages: Sequence[str], text: str, problem: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        problem("body", "body: a table of one text per language ([body] with en = ..., id = ...)")
        return {}
    bodies: dict[str, str] = {}
    for language in languages:
        body = value.get(language)
        if not isinstance(body, str) or not body.strip():
            problem("body", f"body: no text in {language!r} (every reply has one in {', '.join(languages)})")
            continue
        for token in tokens(body):
            raw = body[token.start : token.end]
            if token.kind == "broken":
                problem(language, f"body.{language}: {token.name}: {raw!r}", raw)
            elif token.kind == "variable" and token.name not in VARIABLES:
                known = ", ".join(VARIABLES)
                problem(language, f"body.{language}: unknown variable {token.name!r} (one of {known})", raw)
        bodies[language] = body.strip()
    for extra in sorted(set(value) - set(languages)):
        problem(extra, f"body: {extra!r} is not one of the languages ({', '.join(languages)})")
    return bodies


def read_library(
    files: Iterable[tuple[str, str]], languages: Sequence[str], attachments: Collection[str] | None = None
) -> list[Reply]:
    """Every reply of a library, from ``(file name, text)`` pairs; all or nothing.

    ``attachments``: the names of the library's attachments, when the replies' are to be checked.

    Raises:
        LibraryError: every problem of every file, every short code used twice (both places), and
            every attachment a reply names that is not among ``attachments``.
    """
    replies: list[tuple[str, str, Reply]] = []
    problems: list[Problem] = []
    for file, text in files:
        try:
            replies.append((file, text, read_reply(file, text, languages)))
        except LibraryError as exc:
            problems.extend(exc.problems)
    first: dict[str, str] = {}
    for file, text, reply in replies:
        if reply.code in first:
            problems.append(
                Problem(file, _key_line(text, "code"), f"code {reply.code!r} is used by {first[reply.code]} too")
            )
        else:
            first[reply.code] = file
        missing = [n for n in reply.attachments if attachments is not None and n not in attachments]
        for name in missing:
            line = _line_of(text, name, _key_line(text, "attachments"))
            problems.append(Problem(file, line, f"attachments: the library has no file {name!r}{_listed(attachments)}"))
    if problems:
        raise LibraryError(problems)
    return sorted((r for _, _, r in replies), key=lambda r: r.id)


def _listed(names: Collection[str] | None) -> str:
    shown = sorted(names or ())
    if not shown:
        return " (its attachments/ folder is empty)"
    return f" (it has {', '.join(shown[:10])}{', ...' if len(shown) > 10 else ''})"


def _string(value: str, multiline: bool = False) -> str:
    """A TOML string: a readable multi-line literal where the text allows it, else an escaped basic string."""
    plain = "'''" not in value and not any(ord(c) < 32 and c not in "\n\t" for c in value)
    if multiline and plain and "\n" in value:
        return f"'''\n{value}'''"
    return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's


def write_reply(reply: Reply) -> str:
    """The reply's file text (its name is ``{reply.id}.toml``); :func:`read_reply` reads it back the same."""
    lines = [f"title = {_string(reply.title)}", f"code = {_string(reply.code)}"]
    for key in ("tags", "skills", "examples", "attachments"):
        values: tuple[str, ...] = getattr(reply, key)
        lines.append(f"{key} = [{', '.join(_string(v) for v in values)}]")
    if reply.owner is not None:
        lines.append(f"owner = {_string(reply.owner)}  # a personal reply: only this agent sees it")
    lines += ["", "[body]"]
    lines += [f"{language} = {_string(body, multiline=True)}" for language, body in reply.bodies.items()]
    return "\n".join(lines) + "\n"
