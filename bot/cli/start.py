"""The bot itself: `run` (long polling, or the webhook with WEBHOOK_URL), `console` (offline, with
demo data), `migrate`, `demo`, and what `python main.py` does without a command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("run", help="long polling, or the webhook with WEBHOOK_URL (needs BOT_TOKEN)").set_defaults(func=run_command)
    console = sub.add_parser("console", help="the offline console with demo data")
    console.add_argument("--lang", choices=["en", "ru"],
                         help="the demo user's language for this run (default: the saved one, or the environment's)")
    console.add_argument("--db", help="the console's database file (default data/console.sqlite3), "
                         "or a postgresql+asyncpg:// URL")
    console.set_defaults(func=console_command)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=migrate_command)
    demo = sub.add_parser("demo", help="seed demo data into the configured database")
    demo.add_argument("--lang", choices=["en", "ru"], default="en")
    demo.set_defaults(func=seed_demo)


def default_command(args: argparse.Namespace, settings: Settings) -> int:
    """No command: long polling when BOT_TOKEN is set; otherwise the console on an interactive
    terminal, or exit 2 saying BOT_TOKEN is missing."""
    if settings.bot_token:
        return run_command(args, settings)
    if sys.stdin.isatty():
        args.lang, args.db = None, None
        return console_command(args, settings)
    print(
        "error: BOT_TOKEN is not set (put it in the environment or .env); "
        "for the offline console run `make console` (or `make console lang=ru`, "
        "or `.venv/bin/python main.py console`)",
        file=sys.stderr,
    )
    return 2


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot import process

    if not settings.bot_token:
        print("error: BOT_TOKEN is not set (put it in the environment or .env)", file=sys.stderr)
        return 2
    from bot.runner import build_runtime

    runtime = build_runtime(settings)
    process.started()
    asyncio.run(runtime.run())
    return 0


def default_console_lang() -> str:
    lang = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "ru" if lang.lower().startswith("ru") else "en"


def console_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot import process
    from bot.console import Console, console_settings

    # the console's screen is the conversation: only warnings and errors go to the log
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))

    # --lang sets the demo user's language for this run; without it the saved one is kept
    # (the environment's language only picks a new demo user's)
    locale = args.lang or default_console_lang()
    console = Console(console_settings(settings, args.db), locale=locale, set_locale=args.lang is not None)
    process.started()
    try:
        asyncio.run(console.run())
    except KeyboardInterrupt:
        pass
    return 0


def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.migrate import migrate

    applied = migrate(settings.database_url, settings.sqlite_path)
    print("migrated" if applied else "already current")
    return 0


def seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot import demo as demo_data
    from bot.app import build_services, prepare_database

    async def seed() -> None:
        prepare_database(settings)
        services = build_services(settings)
        try:
            await demo_data.seed(services, locale=args.lang)
        finally:
            await services.db.dispose()

    asyncio.run(seed())
    print(f"demo data is in place for user {demo_data.DEMO_USER_ID}")
    return 0
