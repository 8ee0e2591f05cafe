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
