"""The console script: it explains itself and names what is wrong."""

from __future__ import annotations

import subprocess
import sys


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contact_center", *args], input=stdin, capture_output=True, text=True)


def test_help_explains_the_commands():
    """--help names serve and user, and user add explains its options."""
    top = cli("--help")
    assert top.returncode == 0 and "serve" in top.stdout and "user" in top.stdout
    add = cli("user", "add", "--help")
    assert "--skill NAME=LEVEL" in add.stdout and "--password-stdin" in add.stdout


def test_bad_config_is_named(tmp_path):
    """A wrong config value stops the command with the key in the message and exit code 2."""
    config = tmp_path / "config.toml"
    config.write_text("[routing]\noffer_timeout_s = -1\n")
    result = cli("--config", str(config), "serve")
    assert result.returncode == 2
    assert "routing.offer_timeout_s: must be a number > 0, got -1" in result.stderr


def test_user_add_refuses_bad_input(tmp_path):
    """A malformed --skill or a short password is refused with a clear message; nothing is created."""
    config = tmp_path / "config.toml"
    config.write_text('[store]\ndata_dir = "data"\n')
    bad_skill = cli(
        "--config", str(config), "user", "add", "ayu", "--skill", "general", "--password-stdin", stdin="long-password\n"
    )
    assert bad_skill.returncode != 0 and "--skill 'general': write NAME=NUMBER" in bad_skill.stderr
    short = cli("--config", str(config), "user", "add", "ayu", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "password: at least 8 characters" in short.stderr
    ok = cli(
        "--config",
        str(config),
        "user",
        "add",
        "ayu",
        "--skill",
        "general=4",
        "--password-stdin",
        stdin="long-password\n",
    )
    assert ok.returncode == 0 and "created agent ayu" in ok.stdout
    again = cli("--config", str(config), "user", "add", "ayu", "--password-stdin", stdin="long-password\n")
    assert again.returncode == 2 and "username 'ayu' is taken" in again.stderr


def test_user_add_without_a_terminal_says_how_to_give_the_password(tmp_path):
    """No terminal and no --password-stdin: a clear message and exit code 1, not an EOFError traceback."""
    config = tmp_path / "config.toml"
    config.write_text('[store]\ndata_dir = "data"\n')
    result = subprocess.run(
        [sys.executable, "-m", "contact_center", "--config", str(config), "user", "add", "ayu"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "--password-stdin" in result.stderr and "Traceback" not in result.stderr
    assert "EOFError" not in result.stderr


def test_users_are_listed_disabled_enabled_and_given_passwords(tmp_path):
    """user list, disable, enable, passwd and sessions --end work on the configured store."""
    config = tmp_path / "config.toml"
    config.write_text('[store]\ndata_dir = "data"\n')
    base = ("--config", str(config), "user")
    assert cli(*base, "add", "ayu", "--password-stdin", stdin="long-password\n").returncode == 0
    lead = cli(*base, "add", "lead", "--role", "supervisor", "--password-stdin", stdin="long-password\n")
    assert lead.returncode == 0
    listed = cli(*base, "list")
    assert listed.returncode == 0
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert rows["ayu"][1:3] == ["agent", "active"] and rows["lead"][1:3] == ["supervisor", "active"]
    disabled = cli(*base, "disable", "ayu")
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    assert cli(*base, "list").stdout.count("disabled") == 1
    assert cli(*base, "enable", "ayu").returncode == 0
    changed = cli(*base, "passwd", "ayu", "--password-stdin", stdin="another-password\n")
    assert changed.returncode == 0 and "sessions ended" in changed.stdout
    ended = cli(*base, "sessions", "ayu", "--end")
    assert ended.returncode == 0 and "0 sessions ended" in ended.stdout
    missing = cli(*base, "disable", "nobody")
    assert missing.returncode == 2 and "no user 'nobody'" in missing.stderr


def test_the_reply_library_is_checked_exported_and_imported_whole(tmp_path):
    """The starter checks clean; exported to CSV, imported into the team's folder; a bad import changes nothing."""
    library = tmp_path / "replies"
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\ndata_dir = "data"\n[desk]\nreplies_dir = "{library.name}"\n')
    starter = cli("--config", str(config), "replies", "check", "--library", "templates_responses/starter")
    assert starter.returncode == 0 and "14 replies, no problems" in starter.stdout
    table = tmp_path / "replies.csv"
    exported = cli("--config", str(config), "replies", "export", str(table), "--library", "templates_responses/starter")
    assert exported.returncode == 0 and table.read_text().startswith("id,code,title,tags,skills,examples")
    library.mkdir()
    alone = cli("--config", str(config), "replies", "import", str(table))  # a table carries no files
    assert alone.returncode == 2 and "the library has no file 'fees-abroad.pdf'" in alone.stderr
    assert list(library.iterdir()) == []
    folder = tmp_path / "exported"
    exported = cli(
        "--config", str(config), "replies", "export", str(folder), "--library", "templates_responses/starter"
    )
    assert exported.returncode == 0 and "14 replies and 1 attachments" in exported.stdout
    imported = cli("--config", str(config), "replies", "import", str(folder))
    assert imported.returncode == 0 and "14 replies, 1 attachments taken" in imported.stdout
    assert (library / "attachments" / "fees-abroad.pdf").read_bytes().startswith(b"%PDF-")
    imported = cli("--config", str(config), "replies", "import", str(table))
    assert imported.returncode == 0 and "14 replies" in imported.stdout
    assert (library / "card-blocked.toml").read_text().startswith('title = "Card blocked or lost"')
    before = {p.name: p.read_bytes() for p in library.rglob("*") if p.is_file()}

    bad = table.read_text().replace("{{agent_name}}", "{{agent}}", 1).replace(",pin,", ",hours,")
    table.write_text(bad)
    refused = cli("--config", str(config), "replies", "import", str(table))
    assert refused.returncode == 2 and "unknown variable 'agent'" in refused.stderr
    assert "code 'hours' is used by" in refused.stderr and f"{table}:" in refused.stderr
    assert {p.name: p.read_bytes() for p in library.rglob("*") if p.is_file()} == before, "nothing half-imported"
    assert cli("--config", str(config), "replies", "check").stdout.startswith(str(library))


def test_replies_evaluate_holds_the_suggester_against_labelled_messages(tmp_path):
    """A CSV of text,category in any language: top-1, top-3 and latency are printed; a bad CSV is named."""
    table = tmp_path / "mine.csv"
    table.write_text(
        "text,category\n"
        "Kartu saya dicuri tadi pagi,card-blocked\n"
        "I forgot the PIN of my debit card,pin_forgotten\n"
        "Kapan kartu baru saya dikirim?,card-arrival\n"
        "Where is the refund the shop promised me?,refund\n"
    )
    config = tmp_path / "config.toml"
    config.write_text('[store]\ndata_dir = "data"\n')
    result = cli("--config", str(config), "replies", "evaluate", "--test", str(table))
    assert result.returncode == 0, result.stderr
    assert "messages: 4" in result.stdout and "top-1: 100.0%" in result.stdout and "p95" in result.stdout
    (tmp_path / "bad.csv").write_text("message,label\nx,y\n")
    bad = cli("--config", str(config), "replies", "evaluate", "--test", str(tmp_path / "bad.csv"))
    assert bad.returncode != 0 and "the columns must include text and category" in bad.stderr
