"""The reply library's files and a reply's text: read whole or not at all, every problem named by file and line."""

from __future__ import annotations

import pytest

from templates_responses.library_format import LibraryError, read_library, read_reply, write_reply
from templates_responses.replies import Reply, render, tokens

LANGS = ("en", "id")

GOOD = """title = "Card blocked"
code = "blocked"
tags = ["cards"]
skills = ["cards"]
examples = ["My card is blocked", "Kartu saya terblokir"]

[body]
en = '''
Hello {{customer_name|there}},
your card ending [[last four digits]] is blocked for your safety.
{{agent_name}}'''
id = '''
Halo {{customer_name|Bapak/Ibu}},
kartu Anda berakhiran [[empat digit terakhir]] kami blokir demi keamanan.
{{agent_name}}'''
"""


def test_a_reply_is_read_with_its_bodies_and_written_back_the_same():
    reply = read_reply("card-blocked.toml", GOOD, LANGS)
    assert reply.id == "card-blocked" and reply.code == "blocked" and reply.skills == ("cards",)
    assert reply.examples == ("My card is blocked", "Kartu saya terblokir")
    assert reply.bodies["id"].startswith("Halo {{customer_name|Bapak/Ibu}},")
    assert read_reply("card-blocked.toml", write_reply(reply), LANGS) == reply


def test_variables_are_filled_with_fallbacks_and_what_only_the_agent_knows_is_asked_for():
    reply = read_reply("card-blocked.toml", GOOD, LANGS)
    filled = render(reply.body("id"), {"agent_name": "Ayu"})
    assert filled.text.startswith("Halo Bapak/Ibu,\nkartu Anda berakhiran [[empat digit terakhir]]")
    assert filled.text.endswith("Ayu") and filled.to_fill == ("empat digit terakhir",)
    named = render(reply.body("en"), {"customer_name": "Siti"})
    assert named.text.startswith("Hello Siti,") and named.to_fill == ("last four digits", "agent name")
    assert render("Open{{opens_at|}}.", {}).text == "Open.", "an empty fallback stands for nothing"


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (GOOD.replace("{{agent_name}}'''\nid", "{{agent_nam}}'''\nid"), 11, "unknown variable 'agent_nam'"),
        (GOOD.replace("[[last four digits]]", "[[last four digits]"), 10, "not closed"),
        (GOOD.replace("[[empat digit terakhir]]", "[[ ]]"), 14, "must say what to fill"),
        (GOOD.replace("{{customer_name|there}}", "{{customer name}}"), 9, "is not a name"),
        (GOOD[: GOOD.index("id = '''")], 7, "no text in 'id'"),
        (GOOD.replace('code = "blocked"', 'code = "Blocked Card"'), 2, "is not a short code"),
        (GOOD.replace('tags = ["cards"]', "tags = 3"), 3, "tags: must be a list"),
        (GOOD.replace('title = "Card blocked"', 'titel = "Card blocked"'), 1, "unknown key 'titel'"),
        (GOOD.replace('code = "blocked"', 'code = "blocked'), 2, "not TOML"),
    ],
)
def test_each_problem_is_named_with_its_file_and_line(text: str, line: int, says: str):
    with pytest.raises(LibraryError) as raised:
        read_reply("card-blocked.toml", text, LANGS)
    problems = raised.value.problems
    assert any(p.file == "card-blocked.toml" and p.line == line and says in p.message for p in problems), problems


def test_a_library_is_taken_whole_or_not_at_all():
    """Two files with one code, and a broken file: every problem is said, and no reply is taken."""
    other = GOOD.replace('title = "Card blocked"', 'title = "Card blocked again"')
    broken = GOOD.replace("{{agent_name}}'''\nid", "{{agen}}'''\nid")
    with pytest.raises(LibraryError) as raised:
        read_library([("a.toml", GOOD), ("b.toml", other), ("c.toml", broken)], LANGS)
    said = [str(p) for p in raised.value.problems]
    assert said == [
        "c.toml:11: body.en: unknown variable 'agen' (one of customer_name, agent_name, ticket, answer_by, "
        "office_hours, opens_at, company)",
        "b.toml:2: code 'blocked' is used by a.toml too",
    ]
    assert [r.id for r in read_library([("b.toml", GOOD), ("a.toml", GOOD.replace("blocked", "lost"))], LANGS)] == [
        "a",
        "b",
    ]


@pytest.mark.parametrize(
    "body",
    ["", "🙂🙂🙂", "مرحبا {{customer_name}}", "x" * 100_000 + "{{", "{{{{}}}}", "[[[[x]]]]", "{{a|b|c}}"],
)
def test_odd_bodies_give_a_result_or_a_named_problem_never_a_crash(body: str):
    found = tokens(body)
    assert all(t.kind in ("variable", "placeholder", "broken") for t in found)
    render(body, {"customer_name": "Siti"})


def test_who_may_use_a_reply():
    team = Reply("r", "R", "r", {"en": "x"}, skills=("cards",))
    mine = Reply("p", "P", "p", {"en": "x"}, owner="ayu")
    assert team.may_use("budi", {"cards": 2}) and not team.may_use("budi", {"loans": 3, "cards": 0})
    assert Reply("e", "E", "e", {"en": "x"}).may_use("anyone", {})
    assert mine.may_use("ayu", {}) and not mine.may_use("budi", {"cards": 5})


def test_the_starter_library_is_whole_in_both_languages():
    """The bank's starter replies read without a problem, each the agents are offered with examples in both
    languages; the acknowledgement the engine sends has nothing an agent must fill."""
    from pathlib import Path

    from templates_responses.acknowledgement import AUTOMATIC, REPLY_ID, unsendable

    folder = Path(__file__).parents[2] / "templates_responses" / "starter"
    replies = read_library([(p.name, p.read_text()) for p in sorted(folder.glob("*.toml"))], LANGS)
    assert len(replies) >= 12
    assert [r.id for r in replies if AUTOMATIC in r.tags] == [REPLY_ID]
    for reply in replies:
        if AUTOMATIC in reply.tags:
            assert set(reply.bodies) == set(LANGS) and unsendable(reply) == []
            continue
        assert set(reply.bodies) == set(LANGS) and len(reply.examples) >= 4, reply.id
        assert "silahkan" not in reply.bodies["id"].lower() and "terimakasih" not in reply.bodies["id"].lower()


def test_the_library_goes_to_csv_and_back_and_a_bad_row_is_named_by_its_line():
    from templates_responses.library_csv import from_csv, to_csv

    blocked = read_reply("card-blocked.toml", GOOD, LANGS)
    bodies = {"en": "Sorry, {{customer_name}}.", "id": "Maaf, {{customer_name}}."}
    examples = ("I lost my card", "kartu saya hilang, sudah dicari")
    lost = Reply("card-lost", "Card lost", "lost", bodies, examples=examples)
    table = to_csv([blocked, lost], LANGS)
    assert from_csv("lib.csv", table, LANGS) == [blocked, lost]
    broken = table.replace("Maaf, {{customer_name}}.", "Maaf, {{nama}}.").replace('"lost"', "blocked")
    broken = broken.replace(",lost,", ",blocked,")
    with pytest.raises(LibraryError) as raised:
        from_csv("lib.csv", broken, LANGS)
    said = [str(p) for p in raised.value.problems]
    row = 2 + table.split("\ncard-lost")[0].count("\n")  # the line the second row starts on
    assert said[0].startswith(f"lib.csv:{row}: card-lost: body.id: unknown variable 'nama'"), said
    with pytest.raises(LibraryError) as raised:
        from_csv("lib.csv", "id,code\nx,y\n", LANGS)
    assert "the header must be" in str(raised.value)


def test_a_reply_names_only_files_the_library_has_each_a_plain_name():
    """A file no folder has is named by its line with what the library does have; a path is no file name."""
    named = GOOD.replace("examples = [", 'attachments = ["form.pdf", "fees.pdf"]\nexamples = [')
    with pytest.raises(LibraryError) as raised:
        read_library([("card-blocked.toml", named)], LANGS, {"fees.pdf", "terms.pdf"})
    assert [str(p) for p in raised.value.problems] == [
        "card-blocked.toml:5: attachments: the library has no file 'form.pdf' (it has fees.pdf, terms.pdf)"
    ]
    assert read_library([("card-blocked.toml", named)], LANGS, {"form.pdf", "fees.pdf"})[0].attachments == (
        "form.pdf",
        "fees.pdf",
    )
    assert read_library([("card-blocked.toml", named)], LANGS)[0].attachments  # no folder to check against
    for bad in ("../secret.pdf", "a/b.pdf", ".hidden", "x" * 121):
        with pytest.raises(LibraryError) as raised:
            read_reply("card-blocked.toml", named.replace("form.pdf", bad), LANGS)
        assert raised.value.problems[0].line == 5 and "is not a file name" in raised.value.problems[0].message
