"""``contact-center``: run the engine and manage accounts.

contact-center serve [--config config.toml] [--demo]
contact-center user add USERNAME --role agent --skill general=4 --skill lang_id=5 --password-stdin
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
from aiohttp import web

from contact_center.auth import Accounts
from contact_center.clock import SystemClock
from contact_center.config import Config, load_config
from contact_center.exceptions import ContactCenterError
from contact_center.logs import AccessLogger, configure_logging
from contact_center.model import Role
from contact_center.store import open_store
from contact_center.web import build_app

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
    runner = web.AppRunner(app, handle_signals=False, access_log_class=AccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, config.server.host, config.server.port)
    await site.start()
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


async def _add_user(config: Config, args: argparse.Namespace) -> None:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    store = await open_store(config.store)
    try:
        accounts = Accounts(store, SystemClock(), config.auth)
        capacity = dict(config.desk.default_capacity) | _pairs(args.capacity, "capacity")
        agent = await accounts.add_user(
            args.username,
            password,
            role=Role(args.role),
            display_name=args.name or args.username,
            skills=_pairs(args.skill, "skill"),
            capacity=capacity,
            wrap_up_s=config.desk.default_wrap_up_s,
        )
    finally:
        await store.close()
    print(f"created {agent.role.value} {agent.username} ({agent.id})")


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
    return parser


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
    try:
        config = load_config(args.config)
        configure_logging(config.logging)
        if args.command == "serve":
            _run(_serve(config, args.demo))
        else:
            asyncio.run(_add_user(config, args))
    except ContactCenterError as exc:
        print(f"contact-center: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
