"""Kabinet command line. Run it with the project's Python (`.venv/bin/python main.py …`, which
`make run` installs), or through make: `make run`, `make console lang=ru`.

  python main.py            long polling when BOT_TOKEN is set; otherwise the offline console on
                            an interactive terminal, or exit 2 saying BOT_TOKEN is missing
  python main.py run        long polling (BOT_TOKEN required)
  python main.py console    the offline console with demo data (its own database file)
  python main.py migrate    apply database migrations
  python main.py demo       seed demo data into the configured database (idempotent)
  python main.py outbox     pushes that failed (dead letters); `outbox retry ID…` sends them again
  python main.py coupon …   operators: grant coupons and gift certificates, create codes and
                            store coupons (`python main.py coupon --help`)
  python main.py order …    operator commands on orders: create, pay, ship, track, deliver, cancel,
                            answer / decide a dispute, refund, refund-done, show, sweep
  python main.py review reply REVIEW_ID "text"
                            the seller answers a review (the buyer gets a push)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.config import Settings


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Kabinet: a marketplace buyer's personal account as a Telegram bot.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="long polling (needs BOT_TOKEN)")
    console = sub.add_parser("console", help="the offline console with demo data")
    console.add_argument("--lang", choices=["en", "ru"],
                         help="the demo user's language for this run (default: the saved one, or the environment's)")
    console.add_argument("--db", help="the console's database file (default data/console.sqlite3)")
    sub.add_parser("migrate", help="apply database migrations")
    demo = sub.add_parser("demo", help="seed demo data into the configured database")
    demo.add_argument("--lang", choices=["en", "ru"], default="en")
    outbox = sub.add_parser("outbox", help="failed pushes (dead letters); `outbox retry ID…` to resend")
    outbox.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    outbox.add_argument("ids", nargs="*", type=int, metavar="ID", help="rows to retry")
    outbox.add_argument("--limit", type=int, default=50, help="rows to list (default 50)")
    from bot.cli import coupons as coupon_cli

    coupon_cli.add_parser(sub)
    from bot import operator

    operator.add_parser(sub)
    operator.add_review_parser(sub)
    return parser.parse_args(argv)


def default_console_lang() -> str:
    lang = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "ru" if lang.lower().startswith("ru") else "en"


def main(argv: list[str] | None = None) -> int:
    from bot import process

    process.pause_gc()  # while starting (bot/process.py); every path below resumes it
    try:
        return command_main(argv, process)
    finally:
        process.resume_gc()


def command_main(argv: list[str] | None, process: Any) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from bot.config import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.bot_token)

    command = args.command
    if command is None:
        if settings.bot_token:
            command = "run"
        elif sys.stdin.isatty():
            command = "console"
            args.lang, args.db = None, None
        else:
            print(
                "error: BOT_TOKEN is not set (put it in the environment or .env); "
                "for the offline console run `make console` (or `make console lang=ru`, "
                "or `.venv/bin/python main.py console`)",
                file=sys.stderr,
            )
            return 2

    if command == "run":
        if not settings.bot_token:
            print("error: BOT_TOKEN is not set (put it in the environment or .env)", file=sys.stderr)
            return 2
        from bot.runner import build_runtime

        runtime = build_runtime(settings)
        process.started()
        asyncio.run(runtime.run())
        return 0
    if command == "console":
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
    if command == "migrate":
        from bot.db.migrate import migrate

        applied = migrate(settings.database_url, settings.sqlite_path)
        print("migrated" if applied else "already current")
        return 0
    if command == "demo":
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
    if command == "outbox":
        return outbox_command(settings, args)
    if command == "coupon":
        from bot.cli import coupons as coupon_cli

        return coupon_cli.run(args, settings)
    if command in ("order", "review"):
        return run_order(args, settings)
    return 2


def outbox_command(settings: object, args: argparse.Namespace) -> int:
    """Operators: list the failed pushes, or make some pending again."""
    from bot.app import build_services, prepare_database
    from bot.config import Settings

    assert isinstance(settings, Settings)
    if args.action == "retry" and not args.ids:
        print("error: give the ids to retry, e.g. `python main.py outbox retry 12 13`", file=sys.stderr)
        return 2

    async def run() -> int:
        prepare_database(settings)
        services = build_services(settings)
        try:
            if args.action == "retry":
                done = await services.outbox.retry_failed(args.ids)
                missing = sorted(set(args.ids) - set(done))
                if done:
                    print(f"pending again: {', '.join(map(str, done))}")
                if missing:
                    print(f"not failed rows (left alone): {', '.join(map(str, missing))}", file=sys.stderr)
                return 0 if not missing else 1
            rows = await services.outbox.dead_letters(args.limit)
            counts = await services.outbox.counts()
            print("outbox: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"))
            if not rows:
                print("no failed pushes")
                return 0
            print(f"{'id':>8}  {'user':>12}  {'kind':<24} {'tries':>5}  {'due (UTC)':<19}  last error")
            for row in rows:
                due = row.due_at.strftime("%Y-%m-%d %H:%M:%S")
                error = (row.last_error or "").replace("\n", " ")[:120]
                print(f"{row.id:>8}  {row.user_id:>12}  {row.kind:<24} {row.attempts:>5}  {due:<19}  {error}")
            return 0
        finally:
            await services.db.dispose()

    return asyncio.run(run())


def run_order(args: argparse.Namespace, settings: Settings) -> int:
    """An operator command: the same services the bot uses, over the configured database."""
    from bot import operator
    from bot.app import build_services, prepare_database
    from bot.services.errors import DomainError

    async def go() -> str:
        prepare_database(settings)
        services = build_services(settings)
        try:
            return await operator.run(args, services)
        finally:
            await services.db.dispose()

    try:
        print(asyncio.run(go()))
    except DomainError as exc:
        print(f"error: {operator.error_text(exc)}", file=sys.stderr)
        return 1
    except operator.UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
