"""Kabinet command line. Run it with the project's Python (`.venv/bin/python main.py …`, which
`make run` installs), or through make: `make run`, `make console lang=ru`.

  python main.py            long polling when BOT_TOKEN is set; otherwise the offline console on
                            an interactive terminal, or exit 2 saying BOT_TOKEN is missing
  python main.py run        long polling, or the webhook when WEBHOOK_URL is set (BOT_TOKEN required)
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
import sys

from bot.logs import setup_logging


def parse_args(argv: list[str]) -> argparse.Namespace:
    from bot.cli import parse_args  # after main() paused the collector: it imports the services

    return parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from bot import process

    process.pause_gc()  # while starting (bot/process.py); every path below resumes it
    try:
        return command_main(argv)
    finally:
        process.resume_gc()


def command_main(argv: list[str] | None) -> int:
    """Parse the command line (bot/cli), load the settings, run the command; returns its exit code."""
    from bot.cli import run

    args = parse_args(sys.argv[1:] if argv is None else argv)
    from bot.config import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.bot_token)
    return run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
