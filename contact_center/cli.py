"""``contact-center``: run the engine, manage accounts, keep the reply library.

contact-center serve [--config config.toml] [--demo]
contact-center user add USERNAME --role agent --skill general=4 --skill lang_id=5 --password-stdin
contact-center user list
contact-center user disable USERNAME      (its sessions end; enable gives the account back)
contact-center user passwd USERNAME [--password-stdin]   (its sessions end, a lockout is lifted)
contact-center user sessions USERNAME --end
contact-center replies check [--library DIR]            (every problem of the reply library, by file and line)
contact-center replies export OUT [--library DIR]       (OUT.csv: one table; else a folder of reply files)
contact-center replies import SOURCE [--into DIR]       (a .csv table, a reply file or a folder; all or nothing)
contact-center replies evaluate --test CSV [--library DIR]   (top-1, top-3 and latency on labelled messages)
contact-center staffing --arrivals-per-hour 100 --handle-s 180 --target 0.8 --within-s 20   (Erlang C / A advice)
contact-center report --period quarter --format csv|json|png [--from D] [--to D] [--out FILE]
contact-center simulate --arrivals-per-hour chat=120 --handle-s chat=240 --agents 12 [--policy all] [--chart F]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import structlog

from contact_center.auth import Accounts
from contact_center.cli_simulate import add_simulate_parser, simulate_day
from contact_center.cli_supervisors import add_report_parser, add_staffing_parser, report, staffing
from contact_center.clock import SystemClock
from contact_center.config import Config, load_config
from contact_center.exceptions import ContactCenterError
from contact_center.logs import configure_logging
from contact_center.model import Role
from contact_center.redis_bus import RedisBus
from contact_center.reply_files import STARTER, export, import_into, read_attachments, read_folder, read_source
from contact_center.store import open_store
from contact_center.web import build_app
from contact_center.web.access_log import AccessLogger
from contact_center.web.server import serve_app
from templates_responses.library_format import LibraryError

__all__ = ["main"]


def _pairs(values: list[str], what: str) -> dict[str, int]:
    out = {}
    for item in values:
        name, sep, number = item.partition("=")
        if not sep or not name or not number.isdigit():
            raise SystemExit(f"--{what} {item!r}: write NAME=NUMBER, e.g. {what}=3")
        out[name] = int(number)
    return out


async def _serve(config: Config, demo: bool) -> None:
    app = build_app(config, demo=demo)
    runner, _ = await serve_app(app, config, config.server.host, config.server.port, access_log_class=AccessLogger)
    # Everything made so far (modules, the app, the store) lives as long as the process:
    # keep it out of the garbage collector's full passes, which otherwise pause the loop
    # for tens of milliseconds (measured: the longest gen-2 pause fell from ~40 to ~20 ms),
    # and run those full passes a hundred times less often. Young collections keep the
    # default rhythm: at 10,000 allocations instead of 700 they cost 10 % less CPU per relayed
    # message but each paused the loop for 10-17 ms (measured), which is worse for latency.
    # Almost everything the engine drops is freed by reference counting; the collector
    # only has reference cycles to find.
    gc.freeze()
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, 1000)
    log = structlog.get_logger("contact_center")
    log.info("engine.listening", url=f"http://{config.server.host}:{config.server.port}", demo=demo)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("engine.stopping")
    await runner.cleanup()


def _password(args: argparse.Namespace) -> str:
    """The password from standard input (``--password-stdin``) or asked at the terminal; never echoed."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise SystemExit("contact-center: --password-stdin: standard input gave no password")
        return password
    if not sys.stdin.isatty():
        raise SystemExit("contact-center: no terminal to ask for the password on; pipe it in with --password-stdin")
    try:
        first = getpass.getpass("password: ")
        again = getpass.getpass("again: ")
    except EOFError:
        raise SystemExit("contact-center: no password given") from None
    if first != again:
        raise SystemExit("contact-center: the two passwords differ; nothing was changed")
    return first


async def _accounts(config: Config) -> tuple[Accounts, Any, RedisBus | None]:
    """The accounts on the configured store; with Redis, a bus so running nodes hear of ended sessions."""
    store = await open_store(config.store)
    bus = None
    if config.store.backend == "redis":
        bus = RedisBus(config.store.redis_url, config.store.redis_prefix, "cli")
        await bus.start()
    return Accounts(store, SystemClock(), config.auth, bus), store, bus


async def _users(config: Config, args: argparse.Namespace) -> None:
    password = _password(args) if args.user_command in ("add", "passwd") else ""
    accounts, store, bus = await _accounts(config)
    try:
        await _user_command(accounts, config, args, password)
    finally:
        accounts.close()
        if bus is not None:
            await bus.close()
        await store.close()


async def _user_command(accounts: Accounts, config: Config, args: argparse.Namespace, password: str) -> None:
    action = args.user_command
    if action == "add":
        agent = await accounts.add_user(
            args.username,
            password,
            role=Role(args.role),
            display_name=args.name or args.username,
            skills=_pairs(args.skill, "skill"),
            capacity=dict(config.desk.default_capacity) | _pairs(args.capacity, "capacity"),
            wrap_up_s=config.desk.default_wrap_up_s,
        )
        print(f"created {agent.role.value} {agent.username} ({agent.id})")
    elif action == "list":
        found = await accounts.users()
        locks = await accounts.locked_until([a.username for a in found])
        print(f"{'username':<20} {'role':<11} {'state':<9} name")
        for agent, lock in zip(found, locks, strict=True):
            state = "disabled" if agent.disabled else "locked" if lock else "active"
            print(f"{agent.username:<20} {agent.role.value:<11} {state:<9} {agent.display_name}")
    elif action in ("disable", "enable"):
        agent = await accounts.set_disabled((await accounts.user(args.username)).id, action == "disable")
        print(f"{agent.username}: {'disabled, its sessions ended' if agent.disabled else 'enabled'}")
    elif action == "passwd":
        agent = await accounts.set_password(args.username, password)
        print(f"{agent.username}: new password set; its sessions ended")
    elif action == "sessions":
        agent = await accounts.user(args.username)
        ended = await accounts.end_sessions(agent.id, "ended_by_supervisor")
        print(f"{agent.username}: {ended} session{'s' if ended != 1 else ''} ended")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contact-center",
        description="Omnichannel contact-center engine: one queue for chat, email and calls, "
        "a skills- and value-based router, and the agent desk.",
    )
    parser.add_argument("--config", type=Path, default=Path("config.toml"), help="config file (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the engine: web chat, agent desk and REST API")
    serve.add_argument("--demo", action="store_true", help="create demo agents and a VIP customer first")
    user = sub.add_parser("user", help="manage agent and supervisor accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="create an account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=[r.value for r in Role], default="agent")
    add.add_argument("--name", default="", help="display name shown to customers")
    add.add_argument("--skill", action="append", default=[], metavar="NAME=LEVEL", help="a skill 1-5; repeat")
    add.add_argument(
        "--capacity",
        action="append",
        default=[],
        metavar="CHANNEL=N",
        help="contacts at once on a channel (chat, email, callback, call); repeat",
    )
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user_sub.add_parser("list", help="every account: role, active, disabled or locked")
    for name, text in (("disable", "disable an account and end its sessions"), ("enable", "enable it again")):
        user_sub.add_parser(name, help=text).add_argument("username")
    passwd = user_sub.add_parser("passwd", help="set a new password (asks for it); the user's sessions end")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sessions = user_sub.add_parser("sessions", help="end every session of a user (--end)")
    sessions.add_argument("username")
    sessions.add_argument("--end", action="store_true", required=True, help="end them (desks close at once)")
    _replies_parser(sub)
    add_staffing_parser(sub)
    add_report_parser(sub)
    add_simulate_parser(sub)
    return parser


def _replies_parser(sub: Any) -> None:
    replies = sub.add_parser("replies", help="the library of pre-written replies: check, export, import")
    replies_sub = replies.add_subparsers(dest="replies_command", required=True, metavar="ACTION")
    check = replies_sub.add_parser("check", help="read the library and say every problem, by file and line")
    check.add_argument("--library", type=Path, help="the library's folder (default: desk.replies_dir)")
    out = replies_sub.add_parser("export", help="write the library as a CSV table (OUT.csv) or a folder of files")
    out.add_argument("out", type=Path)
    out.add_argument("--library", type=Path, help="the library's folder (default: desk.replies_dir)")
    into = replies_sub.add_parser("import", help="add or replace replies from a .csv table, a reply file or a folder")
    into.add_argument("source", type=Path)
    into.add_argument("--into", type=Path, help="the library's folder (default: desk.replies_dir)")
    grade = replies_sub.add_parser("evaluate", help="how often the right reply is suggested, for labelled messages")
    grade.add_argument("--test", type=Path, required=True, help="a CSV of text,category (category: a reply's id)")
    grade.add_argument("--library", type=Path, help="the library's folder (default: desk.replies_dir)")


def _replies(config: Config, args: argparse.Namespace) -> None:
    """The ``replies`` commands; a bad library or import is said in full and changes nothing."""
    languages = config.webchat.languages
    own = config.desk.replies_dir
    if args.replies_command == "import":
        folder = args.into or own
        if folder is None:
            raise SystemExit(
                "replies import: say --into DIR, or set desk.replies_dir (the starter library is read only)"
            )
        source: Path = args.source
        files = read_attachments(source) if source.is_dir() else {}
        merged = import_into(folder, read_source(source, languages), languages, files)
        print(f"{folder}: {len(merged)} replies" + (f", {len(files)} attachments taken" if files else ""))
        return
    library = args.library or own or STARTER
    replies = read_folder(library, languages)
    if args.replies_command == "check":
        print(f"{library}: {len(replies)} replies, no problems")
    elif args.replies_command == "evaluate":
        _evaluate(replies, args.test)
    else:
        files = read_attachments(library)
        export(replies, languages, args.out, files)
        kept = "" if args.out.suffix.lower() == ".csv" or not files else f" and {len(files)} attachments"
        print(f"{args.out}: {len(replies)} replies{kept}")


def _evaluate(replies: list[Any], test: Path) -> None:
    from tqdm import tqdm

    from contact_center.embeddings import SentenceEncoder
    from contact_center.reply_evaluation import evaluate, labelled
    from templates_responses.suggest import Suggester

    try:
        rows = labelled(test)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"replies evaluate: {exc}") from None
    suggester = Suggester(replies, SentenceEncoder())
    with tqdm(total=len(rows), desc="suggestions", unit="msg", file=sys.stderr) as bar:
        result = evaluate(suggester, rows, progress=lambda n: bar.update(1))
    for line in result.lines():
        print(line)


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop when it is installed (it is a dependency on Linux), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "staffing":  # arithmetic only: no config, no store
        staffing(args)
        return 0
    try:
        config = load_config(args.config)
        configure_logging(config.logging)
        if args.command == "serve":
            _run(_serve(config, args.demo))
        elif args.command == "replies":
            _replies(config, args)
        elif args.command == "report":
            asyncio.run(report(config, args))
        elif args.command == "simulate":
            simulate_day(config, args)
        else:
            asyncio.run(_users(config, args))
    except ContactCenterError as exc:
        print(f"contact-center: {exc}", file=sys.stderr)
        return 2
    except LibraryError as exc:
        print(f"contact-center: the reply library has problems:\n{exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
