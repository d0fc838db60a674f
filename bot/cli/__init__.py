"""The command line of `main.py`: one argparse tree, one module per section.

  start.py    run, console, migrate, demo, and what `main.py` does without a command
  outbox.py   outbox [retry ID…]: the pushes that failed for good
  coupons.py  coupon grant / code / offer
  orders.py   order create / pay / ship / … / refunds / sweep: the shop's side of orders
  reviews.py  review reply: the seller's answer
  sellers.py  seller invite / list / remove: stores' sellers
  products.py product add / price / list: the catalog's shop side
  shops.py    shop add / list: shops that use the HTTP API, and their keys

Every command sets `func` (`set_defaults(func=…)`), called as `func(args, settings)` and returning
the exit code; `run` calls it. Commands over the services (orders, reviews) go through
`common.ServiceCommand`, which maps their errors to exit codes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli import coupons, orders, outbox, products, reviews, sellers, shops, start

if TYPE_CHECKING:
    from bot.config import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Kabinet: a marketplace buyer's personal account as a Telegram bot.",
    )
    parser.set_defaults(func=start.default_command)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    start.add_parsers(sub)
    outbox.add_parser(sub)
    coupons.add_parser(sub)
    orders.add_parser(sub)
    reviews.add_parser(sub)
    sellers.add_parser(sub)
    products.add_parser(sub)
    shops.add_parser(sub)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run a parsed command; returns its exit code."""
    code: int = args.func(args, settings)
    return code
