"""The reply library as one CSV table, for spreadsheets: a row per reply, a column per language's body.

Columns: ``id, code, title, tags, skills, examples, attachments`` and ``body_<language>`` for each
language. ``tags``, ``skills`` and ``attachments`` are comma-separated; ``examples`` one per line
of the cell. Read back, each row is checked as a reply file is (:mod:`.library_format`), every
problem named by the file and the line its row starts on, and nothing is taken if there is one.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from templates_responses.library_format import LibraryError, Problem, read_library, write_reply
from templates_responses.replies import Reply

__all__ = ["from_csv", "to_csv"]

_FIXED = ("id", "code", "title", "tags", "skills", "examples", "attachments")


def to_csv(replies: Sequence[Reply], languages: Sequence[str]) -> str:
    """The replies as CSV text, in the order given."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*_FIXED, *(f"body_{lang}" for lang in languages)])
    for r in replies:
        lists = [", ".join(r.tags), ", ".join(r.skills), "\n".join(r.examples), ", ".join(r.attachments)]
        writer.writerow([r.id, r.code, r.title, *lists, *(r.bodies.get(lang, "") for lang in languages)])
    return out.getvalue()


def _split(cell: str, sep: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(sep) if part.strip())


def from_csv(file: str, text: str, languages: Sequence[str]) -> list[Reply]:
    """Every reply of a CSV table; all or nothing (:class:`LibraryError`, each problem at its row's line)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    wanted = [*_FIXED, *(f"body_{lang}" for lang in languages)]
    if header is None or [h.strip().lower() for h in header] != wanted:
        raise LibraryError([Problem(file, 1, f"the header must be: {','.join(wanted)}")])
    rows: list[tuple[str, str]] = []
    problems: list[Problem] = []
    line = reader.line_num + 1
    for row in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(wanted):
            problems.append(Problem(file, start, f"{len(row)} columns, not {len(wanted)}"))
            continue
        cells = dict(zip(wanted, row, strict=True))
        reply = Reply(
            cells["id"].strip(),
            cells["title"],
            cells["code"].strip(),
            {lang: cells[f"body_{lang}"] for lang in languages},
            _split(cells["tags"], ","),
            _split(cells["skills"], ","),
            _split(cells["examples"], "\n"),
            _split(cells["attachments"], ","),
        )
        rows.append((f"{file}@{start}/{reply.id}.toml", write_reply(reply)))
    try:
        replies = read_library(rows, languages) if not problems else []
    except LibraryError as exc:  # said at the row's line, not the line of the file a row would make
        problems += [_at_row(p) for p in exc.problems]
    if problems:
        raise LibraryError(problems)
    return replies


def _at_row(problem: Problem) -> Problem:
    """A problem of a row's reply, said at the row's line (and another row named by its line)."""
    where, reply = problem.file.rsplit("/", 1)
    file, start = where.rsplit("@", 1)
    others = re.sub(rf"{re.escape(file)}@(\d+)/([^ ']+)\.toml", r"the row at line \1 (\2)", problem.message)
    return Problem(file, int(start), f"{reply.removesuffix('.toml')}: {others}")
